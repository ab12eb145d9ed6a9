"""The demo data a new developer sees after `kizuna serve` shows every capability."""

from __future__ import annotations

from typing import Any

import pytest

from backend.config import Settings
from backend.demo import seed_demo
from tests.conftest import GraphQLClient

ROSTER = """
query($id: ID!) {
  communityRoster(communityId: $id) {
    community { name kind myRole }
    memberCount
    purposeCode
    consentedMembers { items { item value } refusedItems }
  }
}"""


@pytest.fixture
async def demo(session: Any, settings: Settings) -> None:
    # given the demo data in an empty database
    await seed_demo(session, settings)
    await session.commit()


async def test_demo_family_shares_and_home_is_in_a_flood_zone(
    gql: GraphQLClient, token: Any, demo: None
) -> None:
    # when Taro opens the family screen with location sharing
    body = await gql(
        "{ me { familyGroups { name members { displayName isMe sharedData(purpose: "
        '"family_location") { items { item } } } } } myHazards { zones { hazardType } } }',
        token=token("demo-taro"),
    )
    family = body["data"]["me"]["familyGroups"][0]
    shared = {m["displayName"]: m["sharedData"] for m in family["members"] if not m["isMe"]}
    # then Hanako's consented home shows, Yuki (who shared no location) shows nothing
    assert {"item": "home_place"} in shared["会津 花子"]["items"]
    assert shared["会津 ゆき"] is None
    # and the demo home lies in a demo flood zone
    assert {"hazardType": "FLOOD"} in body["data"]["myHazards"][0]["zones"]


async def test_demo_leader_sees_the_consented_members_of_the_town_association(
    gql: GraphQLClient, token: Any, demo: None
) -> None:
    # when the demo leader opens their community and its roster
    leader = token("demo-leader")
    mine = (await gql("{ myCommunities { id name kind myRole } }", token=leader))["data"]
    [community] = mine["myCommunities"]
    body = await gql(ROSTER, {"id": community["id"]}, token=leader)
    roster = body["data"]["communityRoster"]
    # then it is the 07202 town association with the demo residents and their neighbours
    assert roster["community"] == {
        "name": community["name"],
        "kind": "TOWN_ASSOCIATION",
        "myRole": "LEADER",
    }
    assert roster["memberCount"] == 30 and roster["purposeCode"] == "community_safety"
    # and only those who consented show (Hanako, Taro, 16 neighbours), with exactly the
    # consented items
    members = [{i["item"]: i["value"] for i in m["items"]} for m in roster["consentedMembers"]]
    assert len(members) == 18
    assert {"会津 太郎", "会津 花子"} <= {m["name"] for m in members}
    assert all(set(m) == {"name", "age", "address", "phone", "safety_status"} for m in members)
    hanako = next(m for m in members if m["name"] == "会津 花子")
    assert hanako["phone"] == "000-0000-0001" and hanako["address"].startswith("会津若松市")
    assert isinstance(hanako["age"], int) and hanako["age"] >= 40
    # and the communities of 07202 list it for residents choosing theirs
    listed = await gql('{ communities(municipalityCode: "07202") { id } }')
    assert {"id": community["id"]} in listed["data"]["communities"]


async def test_a_demo_member_is_not_shown_the_roster(
    gql: GraphQLClient, token: Any, demo: None
) -> None:
    # given Hanako, a member but not a leader
    hanako = token("demo-hanako")
    [community] = (await gql("{ myCommunities { id myRole } }", token=hanako))["data"][
        "myCommunities"
    ]
    assert community["myRole"] == "MEMBER"
    # when she asks for the roster, then she gets nothing
    body = await gql(ROSTER, {"id": community["id"]}, token=hanako)
    assert body["data"]["communityRoster"] is None


async def test_the_demo_evacuation_order_is_in_the_family_inbox_and_over_their_home(
    gql: GraphQLClient, token: Any, demo: None
) -> None:
    # when Hanako opens the app after `kizuna serve`
    hanako = token("demo-hanako")
    body = await gql(
        "{ myAlerts { highestLevel places { kind } alerts { titleJa source } } "
        "me { devices { platform } notifications(first: 5) { unreadCount edges { node { "
        "category bodyJa } } } } }",
        token=hanako,
    )
    data = body["data"]
    # then the fictional evacuation order concerns her home (level 4) and her phone is there
    assert data["myAlerts"]["highestLevel"] == 4
    assert data["myAlerts"]["alerts"] == [{"titleJa": "避難指示", "source": "CAP"}]
    assert data["me"]["devices"] == [{"platform": "ANDROID"}]
    [note] = [
        e["node"]
        for e in data["me"]["notifications"]["edges"]
        if e["node"]["bodyJa"].startswith("自宅が避難指示")
    ]
    assert note["category"] == "EMERGENCY"
    # and Yuki, whose only place (her school) is outside the area, sees her parents' home
    yuki = await gql("{ myAlerts { places { familyMemberName } } }", token=token("demo-yuki"))
    names = sorted(p["familyMemberName"] for p in yuki["data"]["myAlerts"]["places"])
    assert names == ["会津 太郎", "会津 花子"]


async def test_the_demo_family_fills_the_west_school_as_the_readme_shows(
    gql: GraphQLClient, token: Any, demo: None
) -> None:
    # given the demo west school (capacity 200), opened by the demo reception with a party of
    # 198 recorded by hand
    reception = token("demo-reception")
    near = "{ shelters(near: {latitude: 37.4952, longitude: 139.9150}, first: 1) { id capacity } }"
    [school] = (await gql(near))["data"]["shelters"]
    assert school["capacity"] == 200
    opened = await gql(
        "mutation($id: ID!) { updateShelterStatus(input: {id: $id, status: OPEN}) { errors"
        ' { code } } recordShelterArrival(input: {shelterId: $id, label: "手書き名簿の避難者",'
        " partySize: 198}) { stay { shelter { occupancy } } errors { code } } }",
        {"id": school["id"]},
        token=reception,
    )
    assert opened["data"]["recordShelterArrival"]["stay"]["shelter"]["occupancy"] == 198
    # when Hanako checks in herself, Taro and Yuki
    hanako = token("demo-hanako")
    family = await gql("{ me { familyGroups { members { id displayName } } } }", token=hanako)
    members = {
        m["displayName"]: m["id"] for m in family["data"]["me"]["familyGroups"][0]["members"]
    }
    body = await gql(
        "mutation($id: ID!, $taro: ID!, $yuki: ID!) {"
        " me: checkInToShelter(input: {shelterId: $id}) { stay { shelter { status } } }"
        " taro: checkInToShelter(input: {shelterId: $id, memberId: $taro}) {"
        " stay { shelter { occupancy status } } }"
        " yuki: checkInToShelter(input: {shelterId: $id, memberId: $yuki}) { errors { code } } }",
        {"id": school["id"], "taro": members["会津 太郎"], "yuki": members["会津 ゆき"]},
        token=hanako,
    )
    # then Taro fills it, and Yuki is sent elsewhere
    assert body["data"]["taro"]["stay"]["shelter"] == {"occupancy": 200, "status": "FULL"}
    assert body["data"]["yuki"]["errors"] == [{"code": "SHELTER_FULL"}]
    # and the reception sees Hanako's registration items only (Taro consented to none)
    listed = await gql(
        "query($id: ID!) { shelterEvacuees(shelterId: $id) { edges { node { label person {"
        " items { item value } } } } } }",
        {"id": school["id"]},
        token=reception,
    )
    nodes = [e["node"] for e in listed["data"]["shelterEvacuees"]["edges"]]
    assert [n["label"] for n in nodes] == [None, None, "手書き名簿の避難者"]
    persons = [{i["item"]: i["value"] for i in n["person"]["items"]} for n in nodes if n["person"]]
    assert [p["name"] for p in persons] == ["会津 花子"]


async def test_the_demo_leader_tally_counts_the_street_and_names_who_consented(
    gql: GraphQLClient, token: Any, demo: None
) -> None:
    # given the open demo event, as the leader finds it after `kizuna serve`
    leader = token("demo-leader")
    [opened] = (await gql("{ myOpenEvents { event { id name } } }", token=leader))["data"][
        "myOpenEvents"
    ]
    [community] = (await gql("{ myCommunities { id } }", token=leader))["data"]["myCommunities"]
    # when the leader opens the tally
    body = await gql(
        "query($c: ID!, $e: ID!) { communityTally(communityId: $c, eventId: $e) {"
        " tally { safe injured needsHelp evacuated unanswered total }"
        " members { name status } unanswered { name } } }",
        {"c": community["id"], "e": opened["event"]["id"]},
        token=leader,
    )
    tally = body["data"]["communityTally"]
    # then everyone of the street is counted (Taro and 19 neighbours answered)...
    assert tally["tally"] == {
        "safe": 12, "injured": 1, "needsHelp": 3, "evacuated": 4, "unanswered": 10, "total": 30
    }  # fmt: skip
    # ...and only those who consented (and the leader) are named, those who need help first
    assert len(tally["members"]) == 19
    assert [m["status"] for m in tally["members"][:2]] == ["NEEDS_HELP", "NEEDS_HELP"]
    assert "吉田 茂" not in str(tally)  # needs help, but shares nothing with the community
    assert {"name": "会津 花子"} in tally["unanswered"]


async def test_the_demo_person_who_needs_support_has_a_signed_plan_her_supporters_read(
    gql: GraphQLClient, token: Any, demo: None
) -> None:
    # when the demo leader, one of her named supporters, opens the supporter screen
    body = await gql(
        "{ mySupportedPeople { name readAs refusedItems content { supportNeeds medicalNotes"
        " reasons { kind value } transport shelters { shelterName }"
        " route { safe crossings { lengthMeters zone } } } } }",
        token=token("demo-leader"),
    )
    people = body["data"]["mySupportedPeople"]
    # then 山口トシ's approved plan shows what supporters may see (no health notes)
    assert [p["name"] for p in people] == ["山口 トシ"]
    person = people[0]
    # (by her consent, and by the disaster-time exception: the demo event is open)
    assert person["readAs"] == ["law:disaster_register", "supporter"]
    assert "health_notes" in person["refusedItems"]
    content = person["content"]
    assert content["transport"] == "WHEELCHAIR" and content["medicalNotes"] is None
    assert {"kind": "CARE_LEVEL", "value": "要介護3"} in content["reasons"]
    # (the shelters nearest her home designated for floods and for earthquakes)
    assert [s["shelterName"] for s in content["shelters"]] == [
        "デモ第一小学校（架空）",
        "デモ西中学校（架空）",
    ]
    # and she sees her own plan, signed, with its history
    mine = await gql(
        "{ myEvacuationPlan { status acknowledgedHow transitions { toStatus capacity } } }",
        token=token("demo-neighbour-14"),
    )
    plan = mine["data"]["myEvacuationPlan"]
    assert (plan["status"], plan["acknowledgedHow"]) == ("ACKNOWLEDGED", "app")
    assert [(t["toStatus"], t["capacity"]) for t in plan["transitions"]] == [
        ("DRAFT", "proxy:care_manager"),
        ("SUBMITTED", "proxy:care_manager"),
        ("APPROVED", "staff"),
        ("ACKNOWLEDGED", "self"),
    ]
