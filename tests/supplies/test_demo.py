"""The demo family's household supplies list shows what each member shared."""

from __future__ import annotations

from typing import Any

from backend.config import Settings
from backend.demo import seed_demo
from tests.conftest import GraphQLClient
from tests.supplies.world import HOUSEHOLD, quantities


async def test_demo_household_list_counts_the_family(
    gql: GraphQLClient, token: Any, session: Any, settings: Settings
) -> None:
    # given the demo data
    await seed_demo(session, settings)
    await session.commit()
    # when Hanako opens her household's list for the recommended 7 days
    body = await gql(HOUSEHOLD, {"days": 7}, token=token("demo-hanako"))
    checklist = body["data"]["householdSupplies"]
    q = quantities(checklist)
    # then her family of three is counted with what each shared
    assert (checklist["people"], checklist["membersSharing"]) == (3, 2)
    assert q["water"] == 63
    assert q["pet_food"] == 7  # Hanako's dog
    assert q["regular_medicine"] == 7  # Taro's medication
    assert q["allergy_safe_food"] == 21  # Yuki's allergy
