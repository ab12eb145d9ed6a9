"""Consent (opt-in): catalogs, grants, requests, enforcement and the data access log."""
