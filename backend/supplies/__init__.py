"""Personalized emergency supplies (備蓄品): catalog, supply profile, checklists."""
