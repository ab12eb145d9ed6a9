"""A small world for consent tests: Hanako, the people around her, and what she consented to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth import service as auth_service
from backend.consent import service as consent_service
from backend.consent.catalog import PURPOSES
from backend.consent.models import ConsentGrant
from backend.db.base import utcnow

PROFILE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { field } } }
"""
ADD_PLACE = """
mutation($input: AddPlaceInput!) { addPlace(input: $input) { errors { field } } }
"""
GRANT = """
mutation($input: GrantConsentInput!) {
  grantConsent(input: $input) {
    consents { id acceptanceId purposeCode itemCodes active recipient { kind role clientId } }
    errors { code field message }
  }
}"""
BUNDLE = """
mutation($bundle: String!) {
  grantBundledConsent(input: {bundle: $bundle}) {
    consents { id acceptanceId purposeCode itemCodes bundleCode recipient { kind role } }
    errors { code field message }
  }
}"""
REVOKE = """
mutation($id: ID!, $whole: Boolean) {
  revokeConsent(input: {consentId: $id, wholeAcceptance: $whole}) {
    consents { id revoked } errors { code field message }
  }
}"""
PERSONAL_DATA = """
query($input: PersonalDataInput!) {
  personalData(input: $input) {
    __typename
    ... on PersonalData { subjectId purposeCode items { item value } refusedItems relationships }
    ... on AccessDenied { code message messageJa }
  }
}"""
ME_ID = "{ me { id } }"

# Items with a value provider today (safety answers, location, support and plans come with
# their capabilities; until then they cannot be consented to).
PLAN_STAFF_ITEMS = [
    "name", "kana", "birth_date", "age", "address", "phone", "household", "home_place",
]  # fmt: skip
CARE_ITEMS = ["name", "kana", "birth_date", "gender"]
# What Hanako lets her named supporters see of her plan, and her care manager (her proxy).
SUPPORTER_ITEMS = ["name", "address", "phone", "support_needed", "evacuation_plan"]
CARE_MANAGER_ITEMS = [
    "name", "kana", "birth_date", "age", "gender", "address", "phone", "support_needed",
    "health_notes", "supporters", "evacuation_plan",
]  # fmt: skip
# What Hanako lets the managers of the shelter she stays at see (the evacuee register).
SHELTER_ITEMS = ["name", "age", "phone", "household"]
# What Hanako lets her family's supplies list use (not her gender).
SUPPLY_ITEMS = ["age", "supply_needs"]
# What Hanako lets the city fill into the applications she sends (not her household).
PREFILL_ITEMS = ["name", "kana", "birth_date", "address", "phone"]
# The demo gym of 会津若松市, where Hanako is checked in.
HANAKO_SHELTER = "DEMO-07202-003"
CHECK_IN = """
mutation($input: CheckInToShelterInput!) { checkInToShelter(input: $input) { errors { code } } }
"""
TEXT_VERSION = {p.code: p.text_version for p in PURPOSES}


@dataclass
class World:
    tokens: dict[str, str | None]
    hanako_id: str
    grants: dict[str, Any]
    shelter_ids: dict[str, str]


async def build_world(gql, token, session: AsyncSession) -> World:  # type: ignore[no-untyped-def]
    """Hanako (07202) with family Taro, leader Sato, and her consents, checked in at a
    shelter of 会津若松市; see EXPECTED in tests."""
    from tests.shelters.checkin_world import load_shelters, set_status, shelter_ids

    # staff roles and system clients are set up by city admins (here through the services)
    for subject, role, code in (
        ("staff-aizu", "city_staff", "07202"),
        ("staff-fukushima", "city_staff", "07201"),
        ("shelter-aizu", "shelter_manager", "07202"),
        ("shelter-fukushima", "shelter_manager", "07201"),
        ("cm-yamada", "care_manager", "07202"),
        ("cm-kato", "care_manager", "07202"),
    ):
        await auth_service.grant_role(
            session, None, subject=subject, role=role, municipality_code=code
        )
    for client_id in ("care-app", "other-app", "expired-app", "revoked-app"):
        await consent_service.register_system_client(
            session,
            None,
            client_id=client_id,
            name_ja=f"{client_id}（介護）",
            name_en=client_id,
            municipality_code="07202",
            purposes=["care_linkage", "plan_support"],
        )
    await session.commit()

    hanako = token("hanako", name="はなこ")
    taro = token("taro", name="たろう")
    leader = token("sato-leader", name="佐藤")
    other_leader = token("ito-leader", name="伊藤")
    tokens: dict[str, str | None] = {
        "self": hanako,
        "family": taro,
        "stranger": token("stranger"),
        "leader": leader,
        "other_leader": other_leader,
        "staff_same": token("staff-aizu"),
        "staff_other": token("staff-fukushima"),
        "shelter_manager": token("shelter-aizu"),
        "shelter_manager_other": token("shelter-fukushima"),
        "client_with": token("svc-care", client_id="care-app"),
        "client_without": token("svc-other", client_id="other-app"),
        "client_expired": token("svc-expired", client_id="expired-app"),
        "client_revoked": token("svc-revoked", client_id="revoked-app"),
        "client_unregistered": token("svc-ghost", client_id="ghost-app"),
        "supporter": token("sup-jiro", name="次郎"),
        "supporter_other": token("sup-other", name="他人"),
        "care_manager": token("cm-yamada", name="山田"),
        "care_manager_other": token("cm-kato", name="加藤"),
    }
    # Hanako's profile and home
    await gql(
        PROFILE,
        {
            "input": {
                "familyName": "会津",
                "givenName": "花子",
                "familyNameKana": "アイヅ",
                "givenNameKana": "ハナコ",
                "birthDate": "1950-06-15",
                "gender": "FEMALE",
                "address": "会津若松市東栄町1-1",
                "phone": "0242-00-0000",
                "municipalityCode": "07202",
            }
        },
        token=hanako,
    )
    await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "自宅", "latitude": 37.49, "longitude": 139.93}},
        token=hanako,
    )
    hanako_id = (await gql(ME_ID, token=hanako))["data"]["me"]["id"]
    # family: Hanako and Taro
    group = await gql(
        'mutation { createFamilyGroup(input: {name: "会津家"}) { group { id } } }', token=hanako
    )
    group_id = group["data"]["createFamilyGroup"]["group"]["id"]
    invitation = await gql(
        "mutation($g: ID!) { createFamilyInvitation(input: {groupId: $g})"
        " { invitation { code } } }",
        {"g": group_id},
        token=hanako,
    )
    code = invitation["data"]["createFamilyInvitation"]["invitation"]["code"]
    await gql(
        "mutation($c: String!) { acceptFamilyInvitation(input: {code: $c}) { errors { code } } }",
        {"c": code},
        token=taro,
    )
    # community: staff create it; Hanako and Sato join; staff name Sato leader
    community = await gql(
        'mutation { createCommunity(input: {municipalityCode: "07202", name: "東栄町町内会",'
        " kind: TOWN_ASSOCIATION}) { community { id } errors { code } } }",
        token=tokens["staff_same"],
    )
    community_id = community["data"]["createCommunity"]["community"]["id"]
    for member in (hanako, leader):
        await gql(
            "mutation($c: ID!) { joinCommunity(input: {communityId: $c}) { errors { code } } }",
            {"c": community_id},
            token=member,
        )
    await gql(
        "mutation($c: ID!) { setCommunityLeader(input: {communityId: $c, subject: "
        '"sato-leader"}) { errors { code } } }',
        {"c": community_id},
        token=tokens["staff_same"],
    )
    # another town association of the same city, led by Ito (Hanako is not a member)
    other = await gql(
        'mutation { createCommunity(input: {municipalityCode: "07202", name: "西栄町町内会",'
        " kind: TOWN_ASSOCIATION}) { community { id } errors { code } } }",
        token=tokens["staff_same"],
    )
    other_id = other["data"]["createCommunity"]["community"]["id"]
    await gql(
        "mutation($c: ID!) { joinCommunity(input: {communityId: $c}) { errors { code } } }",
        {"c": other_id},
        token=other_leader,
    )
    await gql(
        "mutation($c: ID!) { setCommunityLeader(input: {communityId: $c, subject: "
        '"ito-leader"}) { errors { code } } }',
        {"c": other_id},
        token=tokens["staff_same"],
    )

    # Hanako's consents
    grants: dict[str, Any] = {}
    grants["family_safety"] = await grant(
        gql, hanako, "family_safety", {"kind": "ROLE", "role": "family"}, ["name", "safety_status"]
    )
    grants["family_location"] = await grant(
        gql,
        hanako,
        "family_location",
        {"kind": "ROLE", "role": "family"},
        ["home_place", "current_location"],
    )
    grants["community"] = await grant(
        gql,
        hanako,
        "community_safety",
        {"kind": "ROLE", "role": "community"},
        ["name", "age", "address", "phone", "safety_status"],
    )
    grants["plan_support"] = await grant(
        gql, hanako, "plan_support", {"kind": "ROLE", "role": "city_staff"}, PLAN_STAFF_ITEMS
    )
    grants["care"] = await grant(
        gql, hanako, "care_linkage", {"kind": "SYSTEM_CLIENT", "clientId": "care-app"}, CARE_ITEMS
    )
    grants["expired"] = await grant(
        gql,
        hanako,
        "care_linkage",
        {"kind": "SYSTEM_CLIENT", "clientId": "expired-app"},
        ["name", "kana"],
    )
    grants["revoked"] = await grant(
        gql,
        hanako,
        "care_linkage",
        {"kind": "SYSTEM_CLIENT", "clientId": "revoked-app"},
        ["name", "phone"],
    )
    grants["shelter"] = await grant(
        gql,
        hanako,
        "shelter_registration",
        {"kind": "ROLE", "role": "shelter_manager"},
        SHELTER_ITEMS,
    )
    grants["household_supplies"] = await grant(
        gql, hanako, "household_supplies", {"kind": "ROLE", "role": "family"}, SUPPLY_ITEMS
    )
    grants["application_prefill"] = await grant(
        gql,
        hanako,
        "application_prefill",
        {"kind": "ROLE", "role": "city_staff"},
        PREFILL_ITEMS,
    )
    # Hanako evacuates to the gym, which its manager opened
    await load_shelters(session)
    shelters = await shelter_ids(gql)
    await set_status(gql, tokens["shelter_manager"], shelters[HANAKO_SHELTER], status="OPEN")
    checked_in = await gql(
        CHECK_IN, {"input": {"shelterId": shelters[HANAKO_SHELTER]}}, token=hanako
    )
    assert checked_in["data"]["checkInToShelter"]["errors"] == []
    # the expired-app consent ran out (time passes: its validity is moved into the past)
    from backend.api.ids import decode_id

    expired_id = decode_id("Consent", grants["expired"][0]["id"])
    await session.execute(
        update(ConsentGrant).where(ConsentGrant.id == expired_id).values(valid_until=utcnow())
    )
    await session.commit()
    body = await gql(REVOKE, {"id": grants["revoked"][0]["id"]}, token=hanako)
    assert body["data"]["revokeConsent"]["errors"] == []
    await _plans(gql, token, tokens, grants, shelters)
    return World(tokens=tokens, hanako_id=hanako_id, grants=grants, shelter_ids=shelters)


async def _plans(gql, token, tokens, grants, shelters) -> None:  # type: ignore[no-untyped-def]
    """Hanako's approved evacuation plan, drafted by her care manager Yamada (her proxy), with
    Jiro as a supporter; another resident's plan names another supporter."""
    from tests.plans.world import op, plan_input

    for who in ("supporter", "supporter_other", "care_manager", "care_manager_other"):
        await gql(ME_ID, token=tokens[who])
    grants["care_manager"] = await grant(
        gql,
        tokens["self"],
        "plan_support",
        {"kind": "PERSON", "personRelationship": "care_manager", "personReference": "cm-yamada"},
        CARE_MANAGER_ITEMS,
        proxyRole="care_manager",
    )
    grants["supporter"] = await grant(
        gql, tokens["self"], "plan_support", {"kind": "ROLE", "role": "supporter"}, SUPPORTER_ITEMS
    )
    other = token("other-planned", name="別人")
    await gql(
        PROFILE,
        {"input": {"familyName": "別人", "givenName": "さん", "municipalityCode": "07202"}},
        token=other,
    )
    await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "自宅", "latitude": 37.495, "longitude": 139.925}},
        token=other,
    )
    await grant(gql, other, "plan_support", {"kind": "ROLE", "role": "supporter"}, SUPPORTER_ITEMS)
    hanako_id = (await gql(ME_ID, token=tokens["self"]))["data"]["me"]["id"]
    for author, person, supporter in (
        (tokens["care_manager"], hanako_id, "sup-jiro"),
        (other, None, "sup-other"),
    ):
        plan = plan_input(
            shelters,
            supporters=[
                {"name": "支援 者", "subject": supporter},
                {"name": "近所 の方", "phone": "0242-22-2222"},
            ],
        )
        variables = {"input": {"plan": plan, **({"personId": person} if person else {})}}
        saved = (await op(gql, "SaveEvacuationPlan", variables, who=author))["saveEvacuationPlan"]
        assert saved["errors"] == [], saved
        plan_id = saved["plan"]["id"]
        await op(gql, "SubmitEvacuationPlan", {"planId": plan_id}, who=author)
        approved = await op(
            gql, "ApproveEvacuationPlan", {"planId": plan_id}, who=tokens["staff_same"]
        )
        assert approved["approveEvacuationPlan"]["errors"] == [], approved


async def grant(gql, bearer, purpose, recipient, items, **extra):  # type: ignore[no-untyped-def]
    body = await gql(
        GRANT,
        {
            "input": {
                "purpose": purpose,
                "recipient": recipient,
                "items": items,
                "textVersion": TEXT_VERSION[purpose],
                **extra,
            }
        },
        token=bearer,
    )
    payload = body["data"]["grantConsent"]
    assert payload["errors"] == [], payload
    return payload["consents"]


async def read(gql, bearer, subject_id, purpose, items=None):  # type: ignore[no-untyped-def]
    variables: dict[str, Any] = {"input": {"subjectId": subject_id, "purpose": purpose}}
    if items is not None:
        variables["input"]["items"] = items
    body = await gql(PERSONAL_DATA, variables, token=bearer)
    return body["data"]["personalData"]


async def make_family(gql, token, owner: str, members: list[str]) -> tuple[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """A family group of ``owner`` and ``members``; returns its id and subject -> token."""
    tokens = {name: token(name, name=name) for name in [owner, *members]}
    group = await gql(
        'mutation { createFamilyGroup(input: {name: "家"}) { group { id } } }',
        token=tokens[owner],
    )
    group_id = group["data"]["createFamilyGroup"]["group"]["id"]
    for member in members:
        invitation = await gql(
            "mutation($g: ID!) { createFamilyInvitation(input: {groupId: $g})"
            " { invitation { code } } }",
            {"g": group_id},
            token=tokens[owner],
        )
        code = invitation["data"]["createFamilyInvitation"]["invitation"]["code"]
        await gql(
            "mutation($c: String!) { acceptFamilyInvitation(input: {code: $c})"
            " { errors { code } } }",
            {"c": code},
            token=tokens[member],
        )
    return group_id, tokens
