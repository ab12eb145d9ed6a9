"""Shelters: GSI designated emergency sites and evacuation shelters, parsed and merged."""
