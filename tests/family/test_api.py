"""Family groups through the GraphQL API: invitations, membership, leaving, removal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from backend.db.base import utcnow
from backend.family.models import FamilyGroup, FamilyInvitation

CREATE_GROUP = """
mutation($name: String!) {
  createFamilyGroup(input: {name: $name}) { group { id name } errors { code field message } }
}"""
INVITE = """
mutation($input: CreateFamilyInvitationInput!) {
  createFamilyInvitation(input: $input) {
    invitation { code qrPayload expiresAt group { id } }
    errors { code field message messageJa }
  }
}"""
ACCEPT = """
mutation($code: String!) {
  acceptFamilyInvitation(input: {code: $code}) {
    group { id name members { id displayName role isMe } }
    errors { code field message messageJa }
  }
}"""
GROUP = "query($id: ID!) { familyGroup(id: $id) { id name members { id displayName role isMe } } }"
LEAVE = """
mutation($groupId: ID!) {
  leaveFamilyGroup(input: {groupId: $groupId}) { leftGroupId errors { code field message } }
}"""
REMOVE = """
mutation($groupId: ID!, $memberId: ID!) {
  removeFamilyMember(input: {groupId: $groupId, memberId: $memberId}) {
    group { members { displayName role } } errors { code field message }
  }
}"""
PROMOTE = """
mutation($groupId: ID!, $memberId: ID!) {
  promoteFamilyMember(input: {groupId: $groupId, memberId: $memberId}) {
    group { members { displayName role } } errors { code field message }
  }
}"""


async def make_family(gql, token, owner="hanako", name="会津家"):  # type: ignore[no-untyped-def]
    owner_token = token(owner, name=owner.title())
    body = await gql(CREATE_GROUP, {"name": name}, token=owner_token)
    return owner_token, body["data"]["createFamilyGroup"]["group"]["id"]


async def invite(gql, owner_token, group_id, **extra):  # type: ignore[no-untyped-def]
    body = await gql(INVITE, {"input": {"groupId": group_id, **extra}}, token=owner_token)
    return body["data"]["createFamilyInvitation"]


async def join(gql, token, owner_token, group_id, member):  # type: ignore[no-untyped-def]
    invitation = (await invite(gql, owner_token, group_id))["invitation"]
    member_token = token(member, name=member.title())
    body = await gql(ACCEPT, {"code": invitation["code"]}, token=member_token)
    assert body["data"]["acceptFamilyInvitation"]["errors"] == []
    return member_token


async def test_invite_and_accept(gql, token) -> None:  # type: ignore[no-untyped-def]
    # given a family created by Hanako
    owner, group_id = await make_family(gql, token)
    # when she creates an invitation
    payload = await invite(gql, owner, group_id, expiresInHours=24)
    invitation = payload["invitation"]
    assert payload["errors"] == []
    assert len(invitation["code"]) == 11 and invitation["code"][5] == "-"
    assert invitation["qrPayload"] == "kizuna://family/join?code=" + invitation["code"].replace(
        "-", ""
    )
    # and Taro accepts it, typed in lower case without the hyphen
    taro = token("taro", name="Taro")
    body = await gql(ACCEPT, {"code": invitation["code"].replace("-", "").lower()}, token=taro)
    group = body["data"]["acceptFamilyInvitation"]["group"]
    # then both are members and see each other's display name only
    assert [(m["displayName"], m["role"], m["isMe"]) for m in group["members"]] == [
        ("Hanako", "OWNER", False),
        ("Taro", "MEMBER", True),
    ]
    assert set(group["members"][0]) == {"id", "displayName", "role", "isMe"}
    seen_by_owner = await gql(GROUP, {"id": group_id}, token=owner)
    assert [m["displayName"] for m in seen_by_owner["data"]["familyGroup"]["members"]] == [
        "Hanako",
        "Taro",
    ]


async def test_qr_payload_is_accepted_as_code(gql, token) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token)
    invitation = (await invite(gql, owner, group_id))["invitation"]
    body = await gql(ACCEPT, {"code": invitation["qrPayload"]}, token=token("scanner"))
    assert body["data"]["acceptFamilyInvitation"]["errors"] == []


async def test_member_cannot_see_other_residents_profile_fields(gql) -> None:  # type: ignore[no-untyped-def]
    # the FamilyMember type exposes nothing but id, display name, role and dates
    body = await gql('{ __type(name: "FamilyMember") { fields { name } } }')
    names = {f["name"] for f in body["data"]["__type"]["fields"]}
    # sharedData is consent-gated (tests/consent); nothing else about the person is exposed
    assert names == {"id", "displayName", "role", "joinedAt", "isMe", "sharedData"}


async def test_invitation_is_single_use(gql, token) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token)
    code = (await invite(gql, owner, group_id))["invitation"]["code"]
    await gql(ACCEPT, {"code": code}, token=token("first"))
    body = await gql(ACCEPT, {"code": code}, token=token("second"))
    errors = body["data"]["acceptFamilyInvitation"]["errors"]
    assert errors[0]["code"] == "CONFLICT" and errors[0]["field"] == "code"
    assert errors[0]["messageJa"] == "この招待コードは使用済みです"


async def test_expired_invitation_is_refused(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token)
    code = (await invite(gql, owner, group_id, expiresInHours=1))["invitation"]["code"]
    # given the invitation's hour has passed
    await session.execute(
        update(FamilyInvitation)
        .where(FamilyInvitation.code == code.replace("-", ""))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()
    late = token("late")
    body = await gql(ACCEPT, {"code": code}, token=late)
    assert body["data"]["acceptFamilyInvitation"]["errors"][0]["code"] == "EXPIRED"
    # and the latecomer is not a member
    assert (await gql(GROUP, {"id": group_id}, token=late))["data"]["familyGroup"] is None


async def test_unknown_code_is_not_found(gql, token) -> None:  # type: ignore[no-untyped-def]
    body = await gql(ACCEPT, {"code": "ZZZZZ-ZZZZZ"}, token=token("guesser"))
    assert body["data"]["acceptFamilyInvitation"]["errors"][0]["code"] == "NOT_FOUND"


async def test_already_member_cannot_accept_again(gql, token) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token)
    code = (await invite(gql, owner, group_id))["invitation"]["code"]
    body = await gql(ACCEPT, {"code": code}, token=owner)
    errors = body["data"]["acceptFamilyInvitation"]["errors"]
    assert errors[0]["code"] == "CONFLICT"
    assert "already a member" in errors[0]["message"]
    # the code stays unused, so the person it was meant for can still use it
    body = await gql(ACCEPT, {"code": code}, token=token("intended"))
    assert body["data"]["acceptFamilyInvitation"]["errors"] == []


async def test_invitation_expiry_bounds(gql, token) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token)
    for hours in (0, -5, 24 * 15):
        payload = await invite(gql, owner, group_id, expiresInHours=hours)
        assert payload["errors"][0]["field"] == "expiresInHours"


async def test_only_owners_invite_and_outsiders_see_nothing(gql, token) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token)
    member = await join(gql, token, owner, group_id, "member")
    assert (await invite(gql, member, group_id))["errors"][0]["code"] == "NOT_PERMITTED"
    outsider = token("outsider")
    # an outsider can neither invite nor see the group: it does not exist for them
    assert (await invite(gql, outsider, group_id))["errors"][0]["code"] == "NOT_FOUND"
    assert (await gql(GROUP, {"id": group_id}, token=outsider))["data"]["familyGroup"] is None
    assert (await gql(GROUP, {"id": "garbage"}, token=outsider))["data"]["familyGroup"] is None


async def test_leaving_last_owner_is_refused_until_someone_is_promoted(gql, token) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token)
    member = await join(gql, token, owner, group_id, "kid")
    # the last owner cannot leave while others remain
    body = await gql(LEAVE, {"groupId": group_id}, token=owner)
    assert body["data"]["leaveFamilyGroup"]["errors"][0]["code"] == "CONFLICT"
    # after promoting the other member, she can
    group = (await gql(GROUP, {"id": group_id}, token=owner))["data"]["familyGroup"]
    kid_id = next(m["id"] for m in group["members"] if not m["isMe"])
    body = await gql(PROMOTE, {"groupId": group_id, "memberId": kid_id}, token=owner)
    assert [m["role"] for m in body["data"]["promoteFamilyMember"]["group"]["members"]] == [
        "OWNER",
        "OWNER",
    ]
    body = await gql(LEAVE, {"groupId": group_id}, token=owner)
    assert body["data"]["leaveFamilyGroup"] == {"leftGroupId": group_id, "errors": []}
    assert (await gql(GROUP, {"id": group_id}, token=owner))["data"]["familyGroup"] is None
    remaining = (await gql(GROUP, {"id": group_id}, token=member))["data"]["familyGroup"]
    assert [m["displayName"] for m in remaining["members"]] == ["Kid"]


async def test_last_member_leaving_dissolves_the_group(gql, token, session) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token, name="一人家族")
    body = await gql(LEAVE, {"groupId": group_id}, token=owner)
    assert body["data"]["leaveFamilyGroup"]["errors"] == []
    assert await session.scalar(select(FamilyGroup).where(FamilyGroup.name == "一人家族")) is None


async def test_owner_removes_a_member_but_members_cannot(gql, token) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token)
    first = await join(gql, token, owner, group_id, "first")
    await join(gql, token, owner, group_id, "second")
    group = (await gql(GROUP, {"id": group_id}, token=owner))["data"]["familyGroup"]
    ids = {m["displayName"]: m["id"] for m in group["members"]}
    # a member cannot remove another
    body = await gql(REMOVE, {"groupId": group_id, "memberId": ids["Second"]}, token=first)
    assert body["data"]["removeFamilyMember"]["errors"][0]["code"] == "NOT_PERMITTED"
    # the owner can
    body = await gql(REMOVE, {"groupId": group_id, "memberId": ids["Second"]}, token=owner)
    names = [m["displayName"] for m in body["data"]["removeFamilyMember"]["group"]["members"]]
    assert names == ["Hanako", "First"]
    # removing oneself is leaving, and foreign member ids are not found
    body = await gql(REMOVE, {"groupId": group_id, "memberId": ids["Hanako"]}, token=owner)
    assert body["data"]["removeFamilyMember"]["errors"][0]["code"] == "CONFLICT"
    other_owner, other_group = await make_family(gql, token, owner="other")
    other_members = (await gql(GROUP, {"id": other_group}, token=other_owner))["data"]
    foreign_member = other_members["familyGroup"]["members"][0]["id"]
    body = await gql(REMOVE, {"groupId": group_id, "memberId": foreign_member}, token=owner)
    assert body["data"]["removeFamilyMember"]["errors"][0]["code"] == "NOT_FOUND"


async def test_me_lists_my_families(gql, token) -> None:  # type: ignore[no-untyped-def]
    owner, group_id = await make_family(gql, token)
    await make_family(gql, token, owner="hanako", name="実家")
    body = await gql("{ me { familyGroups { name members { displayName } } } }", token=owner)
    assert [g["name"] for g in body["data"]["me"]["familyGroups"]] == ["会津家", "実家"]


@pytest.mark.parametrize(
    "name",
    ["会津\u0000家", "\u202e家津会", "会\u200b津家", "\ufeff会津家", "   ", "家" * 101],
    ids=["nul", "bidi-override", "zero-width", "bom", "blank", "too-long"],
)
async def test_family_group_names_hide_nothing(gql, token, name: str) -> None:  # type: ignore[no-untyped-def]
    bearer = token("tricky-family")
    body = await gql(
        "mutation($n: String!) { createFamilyGroup(input: {name: $n})"
        " { group { id } errors { code field messageJa } } }",
        {"n": name},
        token=bearer,
    )
    payload = body["data"]["createFamilyGroup"]
    assert payload["group"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", "name")]
    mine = await gql("{ me { familyGroups { id } } }", token=bearer)
    assert mine["data"]["me"]["familyGroups"] == []
