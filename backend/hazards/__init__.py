"""Hazards: hazard types, hazard-zone file parsing, a point-in-zone index and demo zones."""
