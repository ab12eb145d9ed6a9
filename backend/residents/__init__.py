"""Residents: the regional-ID account, profile and saved places."""
