"""Alerts: warnings and evacuation information from JMA, CAP, L-Alert and city staff."""
