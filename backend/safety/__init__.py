"""Disaster events and safety check-ins (安否確認): answers, tallies, location sharing."""
