"""The live-view tests of safety run a server on a database of their own, like tests/live."""

from tests.live.conftest import live_database_url

__all__ = ["live_database_url"]
