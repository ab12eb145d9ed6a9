"""Fixtures of the danger-spot tests (see world.py)."""

from tests.dangerspots.world import api, spot_settings, town

__all__ = ["api", "spot_settings", "town"]
