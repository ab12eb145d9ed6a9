"""The app's main screens run a fixed number of SQL statements, however much data there is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from graphql import FragmentDefinitionNode, OperationDefinitionNode, parse, print_ast
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.consent.world import grant
from tests.shelters.checkin_world import CASTLE, load_shelters, set_status, shelter_ids

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
TO_MANAGERS = {"kind": "ROLE", "role": "shelter_manager"}


def operation(file: str, name: str) -> str:
    """One named operation of an app document, with the fragments it uses."""
    document = parse((OPERATIONS / file).read_text(encoding="utf-8"))
    fragments = {
        d.name.value: print_ast(d)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    parts = [
        print_ast(d)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == name
    ]
    used: set[str] = set()
    while True:
        text = "\n".join(parts + [fragments[f] for f in sorted(used)])
        wanted = {f for f in fragments if f"...{f}" in text}
        if wanted <= used:
            return text
        used |= wanted


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def family_of(gql, token, owner: str, size: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    owner_token = token(owner, name=owner)
    group = await gql(
        'mutation { createFamilyGroup(input: {name: "家"}) { group { id } } }', token=owner_token
    )
    group_id = group["data"]["createFamilyGroup"]["group"]["id"]
    for i in range(size - 1):
        invitation = await gql(
            "mutation($g: ID!) { createFamilyInvitation(input: {groupId: $g})"
            " { invitation { code } } }",
            {"g": group_id},
            token=owner_token,
        )
        code = invitation["data"]["createFamilyInvitation"]["invitation"]["code"]
        member = token(f"{owner}-m{i}", name=f"m{i}")
        await gql(
            "mutation($c: String!) { acceptFamilyInvitation(input: {code: $c})"
            " { errors { code } } }",
            {"c": code},
            token=member,
        )
        await grant(gql, member, "family_safety", {"kind": "ROLE", "role": "family"}, ["name"])
        await gql(
            'mutation { addPlace(input: {kind: HOME, label: "家", latitude: 37.5,'
            " longitude: 139.9}) { errors { code } } }",
            token=member,
        )
    return owner_token, group_id


async def test_me_screen_statement_count_does_not_grow(gql, token, engine) -> None:  # type: ignore[no-untyped-def]
    me = operation("Me.graphql", "Me")
    small_token, _ = await family_of(gql, token, "small", 2)
    large_token, _ = await family_of(gql, token, "large", 7)
    await gql(me, token=small_token)  # warm-up: first sign-in work is not the screen
    await gql(me, token=large_token)
    with count_statements(engine) as small:
        await gql(me, token=small_token)
    with count_statements(engine) as large:
        await gql(me, token=large_token)
    assert len(small) == len(large), (small, large)
    assert len(large) <= 8, large
    # and a signed-in resident's screen writes nothing (only a first sign-in does)
    writes = [q for q in large if q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []


async def test_family_sharing_screen_statement_count_does_not_grow(gql, token, engine) -> None:  # type: ignore[no-untyped-def]
    sharing = operation("Consent.graphql", "FamilySharing")
    small_token, small_group = await family_of(gql, token, "fs-small", 2)
    large_token, large_group = await family_of(gql, token, "fs-large", 7)
    variables = {"purpose": "family_safety"}
    await gql(sharing, {"groupId": small_group, **variables}, token=small_token)
    await gql(sharing, {"groupId": large_group, **variables}, token=large_token)
    with count_statements(engine) as small:
        body = await gql(sharing, {"groupId": small_group, **variables}, token=small_token)
    with count_statements(engine) as large:
        body = await gql(sharing, {"groupId": large_group, **variables}, token=large_token)
    # every other member shared their name; the owner sees all six
    members = body["data"]["familyGroup"]["members"]
    assert sum(1 for m in members if not m["isMe"] and m["sharedData"]) == 6
    assert len(small) == len(large), (small, large)


async def test_community_roster_statement_count_does_not_grow(gql, token, engine) -> None:  # type: ignore[no-untyped-def]
    roster = operation("DataLinkage.graphql", "CommunityRoster")
    staff = token("sc-staff", roles=[("city_staff", "07202")])

    async def community_of(name: str, size: int) -> tuple[str, str]:
        created = await gql(
            operation("Communities.graphql", "CreateCommunity"),
            {"input": {"municipalityCode": "07202", "name": name, "kind": "TOWN_ASSOCIATION"}},
            token=staff,
        )
        community_id = created["data"]["createCommunity"]["community"]["id"]
        join = operation("Communities.graphql", "JoinCommunity")
        leader = token(f"{name}-leader")
        await gql(join, {"communityId": community_id}, token=leader)
        await gql(
            operation("Communities.graphql", "SetCommunityLeader"),
            {"input": {"communityId": community_id, "subject": f"{name}-leader"}},
            token=staff,
        )
        for i in range(size):
            member = token(f"{name}-m{i}", name=f"m{i}")
            await gql(join, {"communityId": community_id}, token=member)
            await grant(
                gql, member, "community_safety", {"kind": "ROLE", "role": "community"}, ["name"]
            )
        return leader, community_id

    small = await community_of("sc-small", 1)
    large = await community_of("sc-large", 8)
    for leader, community_id in (small, large):
        await gql(roster, {"communityId": community_id}, token=leader)  # first sign-in work
    with count_statements(engine) as few:
        await gql(roster, {"communityId": small[1]}, token=small[0])
    with count_statements(engine) as many:
        body = await gql(roster, {"communityId": large[1]}, token=large[0])
    assert len(body["data"]["communityRoster"]["consentedMembers"]) == 8
    assert len(few) == len(many), (few, many)


async def test_shelter_evacuees_screen_statement_count_does_not_grow(  # type: ignore[no-untyped-def]
    gql, token, engine, session
) -> None:
    screen = operation("ShelterEvacuees.graphql", "ShelterEvacuees")
    check_in = operation("ShelterCheckIn.graphql", "CheckInToShelter")
    arrival = operation("ShelterEvacuees.graphql", "RecordShelterArrival")
    await load_shelters(session)
    ids = await shelter_ids(gql)
    manager = token("sc-reception", roles=[("shelter_manager", "07202")])
    small, large = ids["DEMO-07202-001"], ids["DEMO-07202-003"]
    for shelter_id, size in ((small, 1), (large, 8)):
        await set_status(gql, manager, shelter_id, status="OPEN")
        party = {"shelterId": shelter_id, "label": "一家", "partySize": 2}
        await gql(arrival, {"input": party}, token=manager)
        for i in range(size):
            member = token(f"sc-ev-{size}-{i}", name=f"m{i}")
            await grant(gql, member, "shelter_registration", TO_MANAGERS, ["name", "age"])
            await gql(check_in, {"input": {"shelterId": shelter_id}}, token=member)
    for shelter_id in (small, large):
        await gql(screen, {"shelterId": shelter_id}, token=manager)  # first sign-in work
    with count_statements(engine) as few:
        await gql(screen, {"shelterId": small}, token=manager)
    with count_statements(engine) as many:
        body = await gql(screen, {"shelterId": large}, token=manager)
    edges = body["data"]["shelterEvacuees"]["edges"]
    assert sum(1 for e in edges if e["node"]["person"]) == 8
    assert len(few) == len(many), (few, many)


async def test_nearest_shelters_with_needs_statement_count_does_not_grow(  # type: ignore[no-untyped-def]
    gql, token, engine, session
) -> None:
    nearest = operation("Shelters.graphql", "NearestShelters")
    post = operation("ShelterNeeds.graphql", "PostShelterNeed")
    await load_shelters(session)
    manager = token("sc-needs", roles=[("shelter_manager", "07202")])
    demo = [i for common_id, i in (await shelter_ids(gql)).items() if common_id[:5] == "DEMO-"]
    for shelter_id in demo:
        for text in ("飲料水", "毛布", "配膳の手伝い"):
            need = {"shelterId": shelter_id, "kind": "SUPPLIES", "textJa": text}
            body = await gql(post, {"input": need}, token=manager)
            assert body["data"]["postShelterNeed"]["errors"] == []
    for first in (1, 5):
        await gql(nearest, {"near": CASTLE, "first": first})  # warm the nearest-shelter cache
    with count_statements(engine) as one:
        await gql(nearest, {"near": CASTLE, "first": 1})
    with count_statements(engine) as five:
        body = await gql(nearest, {"near": CASTLE, "first": 5})
    assert [len(s["needs"]) for s in body["data"]["shelters"]] == [3, 3, 3, 3, 3]
    assert len(one) == len(five), (one, five)


async def _open_event(gql, staff: str) -> str:  # type: ignore[no-untyped-def]
    body = await gql(
        operation("SafetyDashboard.graphql", "OpenDisasterEvent"),
        {"input": {"name": "計測用の災害", "municipalityCodes": ["07202"]}},
        token=staff,
    )
    return str(body["data"]["openDisasterEvent"]["event"]["id"])


async def test_safety_screens_statement_counts_do_not_grow(gql, token, engine) -> None:  # type: ignore[no-untyped-def]
    # given a small and a large town association and family, everyone answered and shared
    staff = token("ss-staff", roles=[("city_staff", "07202")])
    report = operation("SafetyCheckIn.graphql", "ReportSafety")
    join = operation("Communities.graphql", "JoinCommunity")
    event_id = await _open_event(gql, staff)

    async def community_of(name: str, size: int) -> tuple[str, str]:
        created = await gql(
            operation("Communities.graphql", "CreateCommunity"),
            {"input": {"municipalityCode": "07202", "name": name, "kind": "TOWN_ASSOCIATION"}},
            token=staff,
        )
        community_id = created["data"]["createCommunity"]["community"]["id"]
        leader = token(f"{name}-leader")
        await gql(join, {"communityId": community_id}, token=leader)
        await gql(
            operation("Communities.graphql", "SetCommunityLeader"),
            {"input": {"communityId": community_id, "subject": f"{name}-leader"}},
            token=staff,
        )
        for i in range(size):
            member = token(f"{name}-m{i}", name=f"m{i}")
            await gql(join, {"communityId": community_id}, token=member)
            await grant(
                gql,
                member,
                "community_safety",
                {"kind": "ROLE", "role": "community"},
                ["name", "safety_status"],
            )
            status = ("SAFE", "NEEDS_HELP", "INJURED")[i % 3]
            await gql(report, {"input": {"eventId": event_id, "status": status}}, token=member)
        return leader, community_id

    tally = operation("LeaderTally.graphql", "LeaderTally")
    small = await community_of("ss-small", 1)
    large = await community_of("ss-large", 9)
    for leader, community_id in (small, large):
        await gql(tally, {"communityId": community_id, "eventId": event_id}, token=leader)
    with count_statements(engine) as few:
        await gql(tally, {"communityId": small[1], "eventId": event_id}, token=small[0])
    with count_statements(engine) as many:
        body = await gql(tally, {"communityId": large[1], "eventId": event_id}, token=large[0])
    # then the leader's screen costs the same for 1 or 9 members
    assert body["data"]["communityTally"]["tally"]["needsHelp"] == 3
    assert len(few) == len(many), (few, many)

    family = operation("FamilySafety.graphql", "FamilySafety")
    small_token, small_group = await family_of(gql, token, "sf-small", 2)
    large_token, large_group = await family_of(gql, token, "sf-large", 7)
    for bearer, group in ((small_token, small_group), (large_token, large_group)):
        await gql(family, {"groupId": group, "eventId": event_id}, token=bearer)
    with count_statements(engine) as few:
        await gql(family, {"groupId": small_group, "eventId": event_id}, token=small_token)
    with count_statements(engine) as many:
        await gql(family, {"groupId": large_group, "eventId": event_id}, token=large_token)
    assert len(few) == len(many), (few, many)

    dashboard = operation("SafetyDashboard.graphql", "SafetyDashboard")
    await gql(dashboard, {"eventId": event_id}, token=staff)
    with count_statements(engine) as board:
        body = await gql(dashboard, {"eventId": event_id}, token=staff)
    assert body["data"]["safetyDashboard"]["total"]["needsHelp"] == 3
    # one statement per municipality and per query, never per community or per answer
    assert len(board) <= 20, board
