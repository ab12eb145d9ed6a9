"""Town associations and disaster organisations (町内会・自主防災組織) through the API."""

from __future__ import annotations

import pytest

from tests.consent.world import grant

CREATE = """
mutation($input: CreateCommunityInput!) {
  createCommunity(input: $input) {
    community { id name kind municipalityCode myRole } errors { code field messageJa }
  }
}"""
JOIN = """
mutation($c: ID!) { joinCommunity(input: {communityId: $c}) {
  community { id myRole } errors { code field } } }"""
LEAVE = """
mutation($c: ID!) { leaveCommunity(input: {communityId: $c}) {
  community { id myRole } errors { code field } } }"""
SET_LEADER = """
mutation($c: ID!, $s: String!, $leader: Boolean) {
  setCommunityLeader(input: {communityId: $c, subject: $s, leader: $leader}) {
    community { id } errors { code field } } }"""
MINE = "{ myCommunities { id name myRole } }"
ROSTER = """
query($c: ID!) { communityRoster(communityId: $c) {
  memberCount community { name myRole } consentedMembers { items { item value } } } }"""


async def _create(gql, token, name: str, code: str = "07202") -> str:  # type: ignore[no-untyped-def]
    staff = token(f"staff-{code}", roles=[("city_staff", code)])
    body = await gql(
        CREATE,
        {"input": {"municipalityCode": code, "name": name, "kind": "TOWN_ASSOCIATION"}},
        token=staff,
    )
    payload = body["data"]["createCommunity"]
    assert payload["errors"] == [], payload
    return payload["community"]["id"]


async def test_staff_create_communities_of_their_municipality_only(gql, token) -> None:  # type: ignore[no-untyped-def]
    staff = token("c-staff", roles=[("city_staff", "07202")])
    variables = {"municipalityCode": "07202", "name": " 東栄町町内会 ", "kind": "TOWN_ASSOCIATION"}
    # when staff of 07202 create one in 07202, it is listed for residents to pick
    body = await gql(CREATE, {"input": variables}, token=staff)
    community = body["data"]["createCommunity"]["community"]
    assert (community["name"], community["municipalityCode"]) == ("東栄町町内会", "07202")
    listed = await gql('{ communities(municipalityCode: "07202") { name kind } }')
    assert {"name": "東栄町町内会", "kind": "TOWN_ASSOCIATION"} in listed["data"]["communities"]
    # and the same name again is a conflict on the name
    body = await gql(CREATE, {"input": variables}, token=staff)
    errors = body["data"]["createCommunity"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("CONFLICT", "name")]
    # but not in another municipality, nor by a resident, nor with a hidden character
    for bearer, overrides, code in (
        (staff, {"municipalityCode": "07201"}, "NOT_PERMITTED"),
        (token("c-resident"), {}, "NOT_PERMITTED"),
        (staff, {"name": "町内会\u202e"}, "VALIDATION"),
        (staff, {"name": ""}, "VALIDATION"),
        (staff, {"municipalityCode": "99999"}, "NOT_FOUND"),
    ):
        body = await gql(CREATE, {"input": {**variables, **overrides}}, token=bearer)
        assert body["data"]["createCommunity"]["errors"][0]["code"] == code


async def test_residents_join_and_leave(gql, token) -> None:  # type: ignore[no-untyped-def]
    community_id = await _create(gql, token, "門田町町内会")
    member = token("c-member")
    # joining makes it one of mine; joining twice is a conflict
    body = await gql(JOIN, {"c": community_id}, token=member)
    assert body["data"]["joinCommunity"]["community"] == {"id": community_id, "myRole": "MEMBER"}
    body = await gql(JOIN, {"c": community_id}, token=member)
    assert body["data"]["joinCommunity"]["errors"] == [{"code": "CONFLICT", "field": "communityId"}]
    mine = await gql(MINE, token=member)
    assert mine["data"]["myCommunities"] == [
        {"id": community_id, "name": "門田町町内会", "myRole": "MEMBER"}
    ]
    # leaving removes it; leaving again (or a community never joined) is not found
    body = await gql(LEAVE, {"c": community_id}, token=member)
    assert body["data"]["leaveCommunity"]["community"] == {"id": community_id, "myRole": None}
    assert (await gql(MINE, token=member))["data"]["myCommunities"] == []
    body = await gql(LEAVE, {"c": community_id}, token=member)
    assert body["data"]["leaveCommunity"]["errors"] == [
        {"code": "NOT_FOUND", "field": "communityId"}
    ]
    body = await gql(JOIN, {"c": "not-an-id"}, token=member)
    assert body["data"]["joinCommunity"]["errors"] == [
        {"code": "NOT_FOUND", "field": "communityId"}
    ]


async def test_a_leader_stops_seeing_a_member_who_leaves(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given a leader and a member who consented to community safety
    community_id = await _create(gql, token, "一箕町町内会")
    leader, member = token("c-leader", name="リーダー"), token("c-consenting", name="住民")
    for bearer in (leader, member):
        await gql(JOIN, {"c": community_id}, token=bearer)
    staff = token("staff-07202", roles=[("city_staff", "07202")])
    body = await gql(SET_LEADER, {"c": community_id, "s": "c-leader"}, token=staff)
    assert body["data"]["setCommunityLeader"]["errors"] == []
    await grant(gql, member, "community_safety", {"kind": "ROLE", "role": "community"}, ["name"])
    roster = (await gql(ROSTER, {"c": community_id}, token=leader))["data"]["communityRoster"]
    assert roster["memberCount"] == 2 and roster["community"]["myRole"] == "LEADER"
    assert roster["consentedMembers"] == [{"items": [{"item": "name", "value": "住民"}]}]
    # when the member leaves
    await gql(LEAVE, {"c": community_id}, token=member)
    # then the very next roster neither counts nor shows them
    roster = (await gql(ROSTER, {"c": community_id}, token=leader))["data"]["communityRoster"]
    assert roster["memberCount"] == 1 and roster["consentedMembers"] == []


async def test_only_staff_of_the_municipality_name_leaders(gql, token) -> None:  # type: ignore[no-untyped-def]
    community_id = await _create(gql, token, "謹教町町内会")
    await gql(JOIN, {"c": community_id}, token=token("c-candidate"))
    cases = [
        (token("c-other-staff", roles=[("city_staff", "07201")]), "c-candidate", "NOT_PERMITTED"),
        (token("c-candidate"), "c-candidate", "NOT_PERMITTED"),
        (token("staff-07202", roles=[("city_staff", "07202")]), "c-stranger", "NOT_FOUND"),
    ]
    for bearer, subject, code in cases:
        body = await gql(SET_LEADER, {"c": community_id, "s": subject}, token=bearer)
        assert body["data"]["setCommunityLeader"]["errors"][0]["code"] == code
    # the candidate cannot see the roster: not a leader
    roster = await gql(ROSTER, {"c": community_id}, token=token("c-candidate"))
    assert roster["data"]["communityRoster"] is None


@pytest.mark.parametrize("who", ["member", "other-leader", "stranger"])
async def test_the_roster_is_for_its_own_leaders_only(gql, token, who: str) -> None:  # type: ignore[no-untyped-def]
    # given two communities, each with a leader, and a member of the first who consented
    first = await _create(gql, token, f"第一町内会-{who}")
    second = await _create(gql, token, f"第二町内会-{who}")
    staff = token("staff-07202", roles=[("city_staff", "07202")])
    member = token(f"r-member-{who}", name="見せたくない")
    await gql(JOIN, {"c": first}, token=member)
    await grant(gql, member, "community_safety", {"kind": "ROLE", "role": "community"}, ["name"])
    other_leader = token(f"r-leader2-{who}")
    await gql(JOIN, {"c": second}, token=other_leader)
    await gql(SET_LEADER, {"c": second, "s": f"r-leader2-{who}"}, token=staff)
    viewers = {"member": member, "other-leader": other_leader, "stranger": token("r-stranger")}
    # when someone who does not lead the first community asks for its roster
    body = await gql(ROSTER, {"c": first}, token=viewers[who])
    # then they get nothing, not even whether it has members
    assert body["data"]["communityRoster"] is None
    # and the other community's leader does not see the member through their own roster
    own = (await gql(ROSTER, {"c": second}, token=other_leader))["data"]["communityRoster"]
    assert own["consentedMembers"] == []
