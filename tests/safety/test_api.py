"""Disaster events and safety answers through GraphQL: who answers, who sees what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.consent.world import ADD_PLACE, PROFILE, grant
from tests.shelters.checkin_world import load_shelters, my_stay, set_status, shelter, shelter_ids

OPEN = """
mutation($input: OpenDisasterEventInput!) {
  openDisasterEvent(input: $input) {
    event { id name state municipalityCodes hazardType area }
    askedResidents
    errors { code field message messageJa }
  }
}"""
CLOSE = """
mutation($id: ID!) {
  closeDisasterEvent(input: {eventId: $id}) {
    event { id state closedAt } errors { code field message messageJa }
  }
}"""
REPORT = """
mutation($input: ReportSafetyInput!) {
  reportSafety(input: $input) {
    answer { id status note answeredBy source position { latitude longitude } }
    replayed checkedInToShelter
    errors { code field message messageJa }
  }
}"""
MY_EVENTS = "{ myOpenEvents { event { id name } myStatus myAnsweredAt } }"
MY_ANSWERS = """
query($e: ID!) { mySafetyAnswers(eventId: $e) { status answeredBy source } }"""
FAMILY = """
query($g: ID!, $e: ID!) {
  familySafety(groupId: $g, eventId: $e) {
    members { memberId person { personId name sharesStatus status answeredBy note
      location { latitude longitude expiresAt } } }
    unanswered { person { name } }
  }
}"""
TALLY = """
query($c: ID!, $e: ID!) {
  communityTally(communityId: $c, eventId: $e) {
    communityName
    tally { safe injured needsHelp evacuated unanswered total }
    members { personId name status sharesStatus details }
    unanswered { name }
  }
}"""
DASHBOARD = """
query($e: ID!) {
  safetyDashboard(eventId: $e, cellResolution: 7) {
    municipalityCodes
    total { safe injured needsHelp evacuated unanswered total }
    byMunicipality { key label tally { safe needsHelp unanswered total } }
    byCommunity { key label tally { safe needsHelp unanswered total } }
    cells
    outsideShelters
    shelters { shelter { id name } evacuatedAnswers }
  }
}"""
SHARE = """
mutation($input: ShareLocationInput!) {
  shareMyLocation(input: $input) { shared { latitude expiresAt } errors { code field } }
}"""
ACCESS_LOG = "{ myDataAccessLog(first: 50) { edges { node { purposeCode itemCodes } } } }"

AIZU = "07202"


@dataclass
class Town:
    tokens: dict[str, str]
    ids: dict[str, str]
    group_id: str
    community_id: str
    other_community_id: str


async def _resident(gql: GraphQLClient, bearer: str, name: str, lat: float, lon: float) -> str:
    await gql(
        PROFILE,
        {"input": {"familyName": name, "givenName": "太郎", "municipalityCode": AIZU}},
        token=bearer,
    )
    await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "自宅", "latitude": lat, "longitude": lon}},
        token=bearer,
    )
    return (await gql("{ me { id } }", token=bearer))["data"]["me"]["id"]


@pytest.fixture
async def town(gql: GraphQLClient, token: Any) -> Town:
    return await build_town(gql, token)


async def build_town(gql: GraphQLClient, token: Any, suffix: str = "") -> Town:
    """Hanako and Taro (family), Jiro (community member, shares nothing), leader Sato,
    a leader of another community, staff of Aizu and of Fukushima city. ``suffix`` makes
    the people and communities of a second town on the same database."""
    tokens = {
        "hanako": token(f"hanako{suffix}"),
        "taro": token(f"taro{suffix}"),
        "jiro": token(f"jiro{suffix}"),
        "leader": token(f"sato-leader{suffix}"),
        "other_leader": token(f"other-leader{suffix}"),
        "stranger": token(f"stranger{suffix}"),
        "staff": token("staff-aizu", roles=[("city_staff", AIZU)]),
        "staff_other": token("staff-fukushima", roles=[("city_staff", "07201")]),
        "manager": token(f"reception{suffix}", roles=[("shelter_manager", AIZU)]),
    }
    ids = {}
    for i, who in enumerate(("hanako", "taro", "jiro", "leader", "other_leader", "stranger")):
        ids[who] = await _resident(gql, tokens[who], who, 37.49 + i * 0.002, 139.93)
    group = await gql(
        'mutation { createFamilyGroup(input: {name: "会津家"}) { group { id } } }',
        token=tokens["hanako"],
    )
    group_id = group["data"]["createFamilyGroup"]["group"]["id"]
    invitation = await gql(
        "mutation($g: ID!) { createFamilyInvitation(input: {groupId: $g})"
        " { invitation { code } } }",
        {"g": group_id},
        token=tokens["hanako"],
    )
    await gql(
        "mutation($c: String!) { acceptFamilyInvitation(input: {code: $c}) { errors { code } } }",
        {"c": invitation["data"]["createFamilyInvitation"]["invitation"]["code"]},
        token=tokens["taro"],
    )
    communities = []
    for name, leader, members in (
        (f"東栄町町内会{suffix}", f"sato-leader{suffix}", ("hanako", "jiro", "leader")),
        (f"別の町内会{suffix}", f"other-leader{suffix}", ("other_leader",)),
    ):
        body = await gql(
            'mutation($n: String!) { createCommunity(input: {municipalityCode: "07202", '
            "name: $n, kind: TOWN_ASSOCIATION}) { community { id } } }",
            {"n": name},
            token=tokens["staff"],
        )
        community_id = body["data"]["createCommunity"]["community"]["id"]
        for member in members:
            await gql(
                "mutation($c: ID!) { joinCommunity(input: {communityId: $c}) { errors { code } } }",
                {"c": community_id},
                token=tokens[member],
            )
        await gql(
            "mutation($c: ID!, $s: String!) { setCommunityLeader(input: {communityId: $c, "
            "subject: $s}) { errors { code } } }",
            {"c": community_id, "s": leader},
            token=tokens["staff"],
        )
        communities.append(community_id)
    # Hanako shares her answers with family and her community; Jiro shares nothing.
    await grant(
        gql, tokens["hanako"], "family_safety", {"kind": "ROLE", "role": "family"},
        ["name", "safety_status"],
    )  # fmt: skip
    await grant(
        gql, tokens["hanako"], "community_safety", {"kind": "ROLE", "role": "community"},
        ["name", "phone", "safety_status"],
    )  # fmt: skip
    return Town(tokens, ids, group_id, communities[0], communities[1])


async def _open(gql: GraphQLClient, town: Town, **extra: Any) -> str:
    body = await gql(
        OPEN,
        {
            "input": {"name": "令和8年豪雨", "municipalityCodes": [AIZU], "hazardType": "FLOOD"}
            | {k: v for k, v in extra.items()}
        },
        token=town.tokens["staff"],
    )
    payload = body["data"]["openDisasterEvent"]
    assert payload["errors"] == [], payload
    return str(payload["event"]["id"])


async def _report(
    gql: GraphQLClient, bearer: str, event_id: str, status: str, **extra: Any
) -> dict[str, Any]:
    body = await gql(
        REPORT, {"input": {"eventId": event_id, "status": status, **extra}}, token=bearer
    )
    return dict(body["data"]["reportSafety"])


async def test_staff_open_an_event_and_its_residents_see_it(gql: GraphQLClient, town: Town) -> None:
    # given / when
    body = await gql(
        OPEN,
        {
            "input": {
                "name": "会津地震",
                "municipalityCodes": ["072028"],
                "hazardType": "EARTHQUAKE",
            }
        },
        token=town.tokens["staff"],
    )
    # then: the check-digit form is accepted, everyone with a place in Aizu is asked
    payload = body["data"]["openDisasterEvent"]
    assert payload["errors"] == []
    assert payload["event"]["municipalityCodes"] == [AIZU]
    assert payload["event"]["state"] == "OPEN"
    assert payload["askedResidents"] == 6
    events = (await gql(MY_EVENTS, token=town.tokens["hanako"]))["data"]["myOpenEvents"]
    assert [e["event"]["name"] for e in events] == ["会津地震"]
    assert events[0]["myStatus"] is None
    inbox = await gql(
        "{ me { notifications(first: 5) { edges { node { titleJa data } } } } }",
        token=town.tokens["jiro"],
    )
    titles = [e["node"]["titleJa"] for e in inbox["data"]["me"]["notifications"]["edges"]]
    assert "安否確認：会津地震" in titles


async def test_an_event_area_limits_who_is_asked(gql: GraphQLClient, town: Town) -> None:
    # given: a polygon around the first two homes only (lat 37.489-37.4925)
    area = {
        "type": "Polygon",
        "coordinates": [[[139.92, 37.489], [139.94, 37.489], [139.94, 37.4925],
                         [139.92, 37.4925], [139.92, 37.489]]],
    }  # fmt: skip
    # when
    body = await gql(
        OPEN,
        {"input": {"name": "堤防決壊", "municipalityCodes": [AIZU], "area": [area]}},
        token=town.tokens["staff"],
    )
    # then
    assert body["data"]["openDisasterEvent"]["askedResidents"] == 2
    hanako = (await gql(MY_EVENTS, token=town.tokens["hanako"]))["data"]["myOpenEvents"]
    stranger = (await gql(MY_EVENTS, token=town.tokens["stranger"]))["data"]["myOpenEvents"]
    assert [e["event"]["name"] for e in hanako] == ["堤防決壊"]
    assert stranger == []


async def test_only_staff_of_every_municipality_open_an_event(
    gql: GraphQLClient, town: Town
) -> None:
    for who, codes in (("hanako", [AIZU]), ("staff_other", [AIZU]), ("staff", [AIZU, "07201"])):
        body = await gql(
            OPEN, {"input": {"name": "x", "municipalityCodes": codes}}, token=town.tokens[who]
        )
        assert body["data"]["openDisasterEvent"]["errors"][0]["code"] == "NOT_PERMITTED", who
    bad = await gql(
        OPEN,
        {"input": {"name": " ", "municipalityCodes": ["99999"], "area": [{"type": "Point"}]}},
        token=town.tokens["staff"],
    )
    fields = {e["field"] for e in bad["data"]["openDisasterEvent"]["errors"]}
    assert {"name", "area[0]"} <= fields
    unknown = await gql(
        OPEN, {"input": {"name": "x", "municipalityCodes": ["99999"]}}, token=town.tokens["staff"]
    )
    assert unknown["data"]["openDisasterEvent"]["errors"][0]["field"] == "municipalityCodes[0]"


async def test_a_resident_answers_and_a_retry_is_stored_once(
    gql: GraphQLClient, town: Town
) -> None:
    # given
    event_id = await _open(gql, town)
    answer = {"idempotencyKey": "phone-123-1", "note": "自宅は無事です"}
    # when: the same answer arrives twice (the first response was lost)
    first = await _report(gql, town.tokens["hanako"], event_id, "SAFE", **answer)
    second = await _report(gql, town.tokens["hanako"], event_id, "SAFE", **answer)
    # then
    assert first["errors"] == [] and first["replayed"] is False
    assert second["replayed"] is True and second["answer"]["id"] == first["answer"]["id"]
    history = await gql(MY_ANSWERS, {"e": event_id}, token=town.tokens["hanako"])
    assert history["data"]["mySafetyAnswers"] == [
        {"status": "SAFE", "answeredBy": "SELF", "source": "APP"}
    ]
    events = (await gql(MY_EVENTS, token=town.tokens["hanako"]))["data"]["myOpenEvents"]
    assert events[0]["myStatus"] == "SAFE"
    # a different answer under the same key is refused, not silently dropped
    reused = await _report(gql, town.tokens["hanako"], event_id, "INJURED", **answer)
    assert reused["errors"][0]["code"] == "CONFLICT"
    assert reused["errors"][0]["field"] == "idempotencyKey"


async def test_the_newest_answer_counts(gql: GraphQLClient, town: Town) -> None:
    event_id = await _open(gql, town)
    await _report(gql, town.tokens["hanako"], event_id, "NEEDS_HELP")
    await _report(gql, town.tokens["hanako"], event_id, "EVACUATED_TO_SHELTER")
    events = (await gql(MY_EVENTS, token=town.tokens["hanako"]))["data"]["myOpenEvents"]
    assert events[0]["myStatus"] == "EVACUATED_TO_SHELTER"
    history = await gql(MY_ANSWERS, {"e": event_id}, token=town.tokens["hanako"])
    assert [a["status"] for a in history["data"]["mySafetyAnswers"]] == [
        "EVACUATED_TO_SHELTER",
        "NEEDS_HELP",
    ]


async def test_bad_answers_get_typed_errors(gql: GraphQLClient, town: Town) -> None:
    event_id = await _open(gql, town)
    bad = await _report(
        gql,
        town.tokens["hanako"],
        event_id,
        "SAFE",
        location={"latitude": 91, "longitude": 139.9},
        note="x" * 501,
        idempotencyKey="",
    )
    fields = {e["field"] for e in bad["errors"]}
    assert fields == {"location.latitude", "note", "idempotencyKey"}
    not_a_shelter = await _report(
        gql, town.tokens["hanako"], event_id, "EVACUATED_TO_SHELTER", shelterId=town.community_id
    )
    assert not_a_shelter["errors"][0]["field"] == "shelterId"
    safe_at_shelter = await _report(
        gql, town.tokens["hanako"], event_id, "SAFE", shelterId="U2hlbHRlcjpub3Bl"
    )
    assert safe_at_shelter["errors"][0]["field"] == "shelterId"
    unknown = await _report(gql, town.tokens["hanako"], "RGlzYXN0ZXJFdmVudDpiYWQ", "SAFE")
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    assert unknown["errors"][0]["field"] == "eventId"
    foreign = await _report(gql, town.tokens["hanako"], town.community_id, "SAFE")
    assert foreign["errors"][0]["field"] == "eventId"
    anonymous = await gql(
        REPORT, {"input": {"eventId": event_id, "status": "SAFE"}}, expect_errors=True
    )
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_closed_event_takes_no_more_answers(gql: GraphQLClient, town: Town) -> None:
    event_id = await _open(gql, town)
    other = await gql(CLOSE, {"id": event_id}, token=town.tokens["staff_other"])
    assert other["data"]["closeDisasterEvent"]["errors"][0]["code"] == "NOT_FOUND"
    closed = await gql(CLOSE, {"id": event_id}, token=town.tokens["staff"])
    assert closed["data"]["closeDisasterEvent"]["event"]["state"] == "CLOSED"
    late = await _report(gql, town.tokens["hanako"], event_id, "SAFE")
    assert late["errors"][0]["code"] == "VALIDATION"
    assert (await gql(MY_EVENTS, token=town.tokens["hanako"]))["data"]["myOpenEvents"] == []


async def test_family_see_what_each_member_shares(gql: GraphQLClient, town: Town) -> None:
    # given: both answered; Hanako shares with family, Taro does not
    event_id = await _open(gql, town)
    await _report(gql, town.tokens["hanako"], event_id, "INJURED", note="足をけがしました")
    await _report(gql, town.tokens["taro"], event_id, "SAFE")
    # when
    seen_by_taro = await gql(FAMILY, {"g": town.group_id, "e": event_id}, token=town.tokens["taro"])
    seen_by_hanako = await gql(
        FAMILY, {"g": town.group_id, "e": event_id}, token=town.tokens["hanako"]
    )
    # then: Taro sees Hanako's answer; Hanako sees that Taro shares nothing with her
    members = {
        m["person"]["name"]: m["person"]
        for m in seen_by_taro["data"]["familySafety"]["members"]
        if m["person"]["name"]
    }
    assert members["hanako 太郎"]["status"] == "INJURED"
    assert members["hanako 太郎"]["note"] == "足をけがしました"
    assert members["hanako 太郎"]["personId"] == town.ids["hanako"]
    others = [
        m["person"]
        for m in seen_by_hanako["data"]["familySafety"]["members"]
        if m["person"]["personId"] != town.ids["hanako"]
    ]
    assert others == [
        {"personId": None, "name": None, "sharesStatus": False, "status": None,
         "answeredBy": None, "note": None, "location": None}
    ]  # fmt: skip
    # the read is in Hanako's access log
    log = await gql(ACCESS_LOG, token=town.tokens["hanako"])
    reads = [e["node"] for e in log["data"]["myDataAccessLog"]["edges"]]
    assert {"purposeCode": "family_safety", "itemCodes": ["name", "safety_status"]} in reads
    # not a member of the group: nothing at all
    stranger = await gql(FAMILY, {"g": town.group_id, "e": event_id}, token=town.tokens["stranger"])
    assert stranger["data"]["familySafety"] is None


async def test_family_see_a_shared_location_only_with_consent_until_it_expires(
    gql: GraphQLClient, town: Town
) -> None:
    event_id = await _open(gql, town)
    shared = await gql(
        SHARE,
        {"input": {"location": {"latitude": 37.5, "longitude": 139.9}, "minutes": 30}},
        token=town.tokens["hanako"],
    )
    assert shared["data"]["shareMyLocation"]["errors"] == []

    async def hanako_location() -> Any:
        body = await gql(FAMILY, {"g": town.group_id, "e": event_id}, token=town.tokens["taro"])
        found = [
            m["person"]["location"]
            for m in body["data"]["familySafety"]["members"]
            if m["person"]["personId"] == town.ids["hanako"]
        ]
        return found[0]

    # without a family_location consent the position stays hidden
    assert await hanako_location() is None
    await grant(
        gql, town.tokens["hanako"], "family_location", {"kind": "ROLE", "role": "family"},
        ["current_location"],
    )  # fmt: skip
    location = await hanako_location()
    assert location["latitude"] == 37.5
    await gql("mutation { stopSharingMyLocation { errors { code } } }", token=town.tokens["hanako"])
    assert await hanako_location() is None
    bad = await gql(
        SHARE,
        {"input": {"location": {"latitude": 37.5, "longitude": 200}, "minutes": 0}},
        token=town.tokens["hanako"],
    )
    fields = {e["field"] for e in bad["data"]["shareMyLocation"]["errors"]}
    assert fields == {"location.longitude", "minutes"}


async def test_proxies_answer_only_with_the_persons_consent(gql: GraphQLClient, town: Town) -> None:
    event_id = await _open(gql, town)
    # Taro may answer for Hanako (she shares her answers with family)...
    by_taro = await _report(gql, town.tokens["taro"], event_id, "SAFE", personId=town.ids["hanako"])
    assert by_taro["errors"] == [] and by_taro["answer"]["answeredBy"] == "FAMILY"
    # ...and the leader heard it at her door
    by_leader = await _report(
        gql, town.tokens["leader"], event_id, "EVACUATED_TO_SHELTER", personId=town.ids["hanako"]
    )
    assert by_leader["answer"]["answeredBy"] == "COMMUNITY"
    # nobody may answer for Jiro, who shares nothing; a stranger for nobody
    for who, whom in (("leader", "jiro"), ("stranger", "hanako"), ("hanako", "taro")):
        refused = await _report(gql, town.tokens[who], event_id, "SAFE", personId=town.ids[whom])
        assert refused["errors"][0]["code"] == "NOT_FOUND", (who, whom)
        assert refused["errors"][0]["field"] == "personId"
    # staff record a paper form for a resident of their city only with a legal basis
    without = await _report(gql, town.tokens["staff"], event_id, "SAFE", personId=town.ids["jiro"])
    assert without["errors"][0]["code"] == "NOT_FOUND"
    paper = await _report(
        gql,
        town.tokens["staff"],
        event_id,
        "SAFE",
        personId=town.ids["jiro"],
        legalBasis="災害対策基本法第86条の15（安否情報の提供等）",
    )
    assert paper["answer"]["answeredBy"] == "STAFF"
    other_city = await _report(
        gql,
        town.tokens["staff_other"],
        event_id,
        "SAFE",
        personId=town.ids["jiro"],
        legalBasis="災害対策基本法",
    )
    assert other_city["errors"][0]["code"] == "NOT_FOUND"
    history = await gql(MY_ANSWERS, {"e": event_id}, token=town.tokens["hanako"])
    assert [a["answeredBy"] for a in history["data"]["mySafetyAnswers"]] == ["COMMUNITY", "FAMILY"]


async def test_a_leader_counts_everyone_and_names_only_those_who_consented(
    gql: GraphQLClient, town: Town
) -> None:
    # given: Jiro (no consent) needs help; Hanako (consent) has not answered yet
    event_id = await _open(gql, town)
    await _report(gql, town.tokens["jiro"], event_id, "NEEDS_HELP", note="動けません")
    await _report(gql, town.tokens["leader"], event_id, "SAFE")
    # when
    body = await gql(TALLY, {"c": town.community_id, "e": event_id}, token=town.tokens["leader"])
    # then
    tally = body["data"]["communityTally"]
    assert tally["tally"] == {
        "safe": 1, "injured": 0, "needsHelp": 1, "evacuated": 0, "unanswered": 1, "total": 3
    }  # fmt: skip
    names = [m["name"] for m in tally["members"]]
    assert "jiro 太郎" not in names and "動けません" not in str(tally)
    hanako = next(m for m in tally["members"] if m["personId"] == town.ids["hanako"])
    assert hanako["details"] == {"phone": None}
    assert tally["unanswered"] == [{"name": "hanako 太郎"}]
    # when Hanako needs help, she is listed first
    await _report(gql, town.tokens["hanako"], event_id, "NEEDS_HELP")
    again = await gql(TALLY, {"c": town.community_id, "e": event_id}, token=town.tokens["leader"])
    members = again["data"]["communityTally"]["members"]
    assert members[0]["name"] == "hanako 太郎" and members[0]["status"] == "NEEDS_HELP"
    assert again["data"]["communityTally"]["tally"]["needsHelp"] == 2


async def test_nobody_else_sees_a_community_tally(gql: GraphQLClient, town: Town) -> None:
    event_id = await _open(gql, town)
    for who in ("other_leader", "jiro", "hanako", "staff", "stranger"):
        body = await gql(TALLY, {"c": town.community_id, "e": event_id}, token=town.tokens[who])
        assert body["data"]["communityTally"] is None, who


async def test_revoking_consent_hides_the_name_from_the_leader_at_once(
    gql: GraphQLClient, town: Town
) -> None:
    event_id = await _open(gql, town)
    await _report(gql, town.tokens["hanako"], event_id, "SAFE")
    consents = await gql("{ myConsents { id purposeCode } }", token=town.tokens["hanako"])
    community = next(
        c for c in consents["data"]["myConsents"] if c["purposeCode"] == "community_safety"
    )
    await gql(
        "mutation($id: ID!) { revokeConsent(input: {consentId: $id}) { errors { code } } }",
        {"id": community["id"]},
        token=town.tokens["hanako"],
    )
    body = await gql(TALLY, {"c": town.community_id, "e": event_id}, token=town.tokens["leader"])
    tally = body["data"]["communityTally"]
    assert tally["members"] == [] or all(m["name"] != "hanako 太郎" for m in tally["members"])
    assert tally["tally"]["safe"] == 1  # still counted


async def test_staff_see_the_dashboard_of_their_municipality_only(
    gql: GraphQLClient, town: Town
) -> None:
    event_id = await _open(gql, town)
    await _report(gql, town.tokens["hanako"], event_id, "SAFE")
    await _report(gql, town.tokens["jiro"], event_id, "NEEDS_HELP")
    await _report(
        gql,
        town.tokens["taro"],
        event_id,
        "EVACUATED_TO_SHELTER",
        location={"latitude": 37.60, "longitude": 139.80},
    )
    body = await gql(DASHBOARD, {"e": event_id}, token=town.tokens["staff"])
    board = body["data"]["safetyDashboard"]
    assert board["municipalityCodes"] == [AIZU]
    assert board["total"]["safe"] == 1 and board["total"]["needsHelp"] == 1
    assert board["total"]["total"] == 6
    assert board["byMunicipality"][0]["label"] == "会津若松市"
    by_community = {c["label"]: c["tally"] for c in board["byCommunity"]}
    assert by_community["東栄町町内会"] == {"safe": 1, "needsHelp": 1, "unanswered": 1, "total": 3}
    assert sum(f["properties"]["total"] for f in board["cells"]["features"]) == 3
    # Taro reported a position far from every open shelter (none is open)
    points = board["outsideShelters"]["features"]
    assert [p["geometry"]["coordinates"] for p in points] == [[139.80, 37.60]]
    assert "taro" not in str(board)
    for who in ("staff_other", "hanako", "leader"):
        other = await gql(DASHBOARD, {"e": event_id}, token=town.tokens[who])
        assert other["data"]["safetyDashboard"] is None, who


async def test_an_evacuation_order_opens_an_event_for_its_area(
    gql: GraphQLClient, town: Town
) -> None:
    # given an evacuation order (level 4) around Hanako's home only
    square = {
        "type": "Polygon",
        "coordinates": [[[139.92, 37.489], [139.94, 37.489], [139.94, 37.4912],
                         [139.92, 37.4912], [139.92, 37.489]]],
    }  # fmt: skip
    issue = """
    mutation($input: StaffAlertInput!) { issueAlert(input: $input) { errors { code field } } }"""
    order = {
        "municipalityCode": AIZU, "kind": "EVACUATION", "level": 4, "areas": [square],
        "headlineJa": "一部に避難指示を発令しました。",
    }  # fmt: skip
    # when staff issue it (twice: a second order is a second alert and event)
    body = await gql(issue, {"input": order}, token=town.tokens["staff"])
    assert body["data"]["issueAlert"]["errors"] == []
    # then Hanako is asked to answer in an event the alert opened; Taro, outside, is not
    hanako = (await gql(MY_EVENTS, token=town.tokens["hanako"]))["data"]["myOpenEvents"]
    assert [e["event"]["name"] for e in hanako] == ["避難指示"]
    assert (await gql(MY_EVENTS, token=town.tokens["taro"]))["data"]["myOpenEvents"] == []
    events = await gql("{ disasterEvents { name openedByAlert } }", token=town.tokens["staff"])
    assert events["data"]["disasterEvents"] == [{"name": "避難指示", "openedByAlert": True}]
    # a level-3 alert (高齢者等避難) opens none
    await gql(issue, {"input": {**order, "level": 3}}, token=town.tokens["staff"])
    again = await gql("{ disasterEvents { name } }", token=town.tokens["staff"])
    assert len(again["data"]["disasterEvents"]) == 1


async def test_evacuated_to_a_shelter_checks_in_there_and_a_full_one_keeps_the_answer(
    gql: GraphQLClient, town: Town, session: Any
) -> None:
    # given two open demo shelters, the second with room for nobody more
    await load_shelters(session)
    ids = await shelter_ids(gql)
    manager = town.tokens["manager"]
    school, gym = ids["DEMO-07202-001"], ids["DEMO-07202-003"]
    await set_status(gql, manager, school, status="OPEN")
    await set_status(gql, manager, gym, status="OPEN", capacity=0)
    event_id = await _open(gql, town)
    # when Hanako answers that she is at the school
    at_school = await _report(
        gql, town.tokens["hanako"], event_id, "EVACUATED_TO_SHELTER", shelterId=school
    )
    # then she is checked in there and counted
    assert at_school["errors"] == [] and at_school["checkedInToShelter"] is True
    assert (await my_stay(gql, town.tokens["hanako"]))["shelter"]["id"] == school
    assert (await shelter(gql, school))["occupancy"] == 1
    # and the staff dashboard counts her answer at the school (it gave no position)
    board = await gql(DASHBOARD, {"e": event_id}, token=town.tokens["staff"])
    loads = {
        s["shelter"]["id"]: s["evacuatedAnswers"]
        for s in board["data"]["safetyDashboard"]["shelters"]
    }
    assert loads[school] == 1 and loads[gym] == 0
    # Taro answers for her that she moved to the full gym: the answer counts, the place not
    moved = await _report(
        gql, town.tokens["taro"], event_id, "EVACUATED_TO_SHELTER",
        personId=town.ids["hanako"], shelterId=gym,
    )  # fmt: skip
    assert moved["errors"] == [] and moved["checkedInToShelter"] is False
    assert (await shelter(gql, gym))["occupancy"] in (0, None)
    # a leader relaying where someone is does not check them in (the reception counts)
    relayed = await _report(
        gql, town.tokens["leader"], event_id, "EVACUATED_TO_SHELTER",
        personId=town.ids["hanako"], shelterId=school,
    )  # fmt: skip
    assert relayed["checkedInToShelter"] is False and relayed["errors"] == []
    # a closed shelter refuses the answer that names it
    await set_status(gql, manager, school, status="CLOSED")
    closed = await _report(
        gql, town.tokens["jiro"], event_id, "EVACUATED_TO_SHELTER", shelterId=school
    )
    assert closed["errors"][0]["code"] == "SHELTER_CLOSED"
    assert closed["errors"][0]["field"] == "shelterId"


async def test_a_counts_only_tally_reads_nobodys_data(gql: GraphQLClient, town: Town) -> None:
    # given Hanako, who shares her answers with the community, has answered
    event_id = await _open(gql, town)
    await _report(gql, town.tokens["hanako"], event_id, "SAFE")
    counts_only = """
    query($c: ID!, $e: ID!) {
      communityTally(communityId: $c, eventId: $e) { tally { safe total } }
    }"""
    # when the leader's counter asks for the counts only
    body = await gql(
        counts_only, {"c": town.community_id, "e": event_id}, token=town.tokens["leader"]
    )
    # then the counts are there and nothing of Hanako was read (her access log is empty)
    assert body["data"]["communityTally"]["tally"] == {"safe": 1, "total": 3}
    log = await gql(ACCESS_LOG, token=town.tokens["hanako"])
    assert log["data"]["myDataAccessLog"]["edges"] == []
    # and a leader of another community still gets nothing
    other = await gql(
        counts_only, {"c": town.community_id, "e": event_id}, token=town.tokens["other_leader"]
    )
    assert other["data"]["communityTally"] is None
