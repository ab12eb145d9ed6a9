"""The household supplies screen runs a fixed number of statements, however large the family."""

from __future__ import annotations

from tests.api.test_statement_counts import count_statements, operation
from tests.supplies.world import family, person, share_with_family


async def family_sharing_supplies(gql, token, name: str, size: int) -> str:  # type: ignore[no-untyped-def]
    """An owner and ``size - 1`` members, every other one sharing with the family."""
    owner = await person(gql, token, name, age=40, pets=[{"kind": "CAT"}])
    members = []
    for i in range(size - 1):
        member = await person(gql, token, f"{name}-m{i}", age=10 * i, regularMedication=True)
        if i % 2:
            await share_with_family(gql, member)
        members.append(member)
    await family(gql, owner, *members)
    return owner


async def test_household_supplies_statement_count_does_not_grow(gql, token, engine) -> None:  # type: ignore[no-untyped-def]
    screen = operation("Supplies.graphql", "HouseholdSupplies")
    small = await family_sharing_supplies(gql, token, "hs-small", 3)
    large = await family_sharing_supplies(gql, token, "hs-large", 9)
    for bearer in (small, large):
        await gql(screen, {"days": 7}, token=bearer)  # warm-up
    with count_statements(engine) as few:
        await gql(screen, {"days": 7}, token=small)
    with count_statements(engine) as many:
        body = await gql(screen, {"days": 7}, token=large)
    assert body["data"]["householdSupplies"]["membersSharing"] == 4
    assert len(few) == len(many), (few, many)
    assert len(many) <= 13, many
