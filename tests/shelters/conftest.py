"""Fixtures of the check-in tests: the demo shelters (and one in 福島市), and a manager."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.shelters.checkin_world import AIZU, load_shelters, shelter_ids


@pytest.fixture
async def ids(gql: GraphQLClient, session: Any) -> dict[str, str]:
    """Global ids of the shelters by 共通ID (all closed, as stored)."""
    await load_shelters(session)
    return await shelter_ids(gql)


@pytest.fixture
def manager(token: Any) -> str:
    """A shelter manager of 会津若松市."""
    return str(token("reception-aizu", roles=[("shelter_manager", AIZU)]))
