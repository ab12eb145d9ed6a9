"""A world for plan tests: Ume (85, 会津若松市) who needs support, her care manager, her
supporters, a supporter of someone else, a leader, staff of two municipalities."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.auth import service as auth_service
from tests.conftest import GraphQLClient
from tests.consent.world import ADD_PLACE, PROFILE, TEXT_VERSION, grant

__all__ = ["ADD_PLACE", "PROFILE"]
from tests.shelters.checkin_world import load_shelters, shelter_ids

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
PLANS_DOC = (OPERATIONS / "EvacuationPlans.graphql").read_text(encoding="utf-8")
AIZU = "07202"
PLAN_TEXT = TEXT_VERSION["plan_support"]
# What Ume lets her named supporters see: how to reach and help her, never her health.
SUPPORTER_ITEMS = ["name", "address", "phone", "support_needed", "evacuation_plan"]
ALL_PLAN_ITEMS = [
    "name", "kana", "birth_date", "age", "gender", "address", "phone", "household",
    "home_place", "support_needed", "health_notes", "supporters", "evacuation_plan",
]  # fmt: skip


@dataclass
class PlanWorld:
    tokens: dict[str, str]
    ids: dict[str, str]
    shelters: dict[str, str]


async def op(
    gql: GraphQLClient, name: str, variables: dict[str, Any] | None = None, *, who: str | None
) -> dict[str, Any]:
    """Run one operation of EvacuationPlans.graphql; returns ``data``."""
    body = await gql(PLANS_DOC, variables or {}, token=who, operation_name=name)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def _resident(
    gql: GraphQLClient, bearer: str, family: str, given: str, lat: float, lon: float, **extra: Any
) -> str:
    await gql(
        PROFILE,
        {"input": {"familyName": family, "givenName": given, "municipalityCode": AIZU, **extra}},
        token=bearer,
    )
    await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "自宅", "latitude": lat, "longitude": lon}},
        token=bearer,
    )
    return str((await gql("{ me { id } }", token=bearer))["data"]["me"]["id"])


async def build_plan_world(gql: GraphQLClient, token: Any, session: AsyncSession) -> PlanWorld:
    """Ume consents to plan support: her care manager Yamada as a proxy (every item), her
    supporters (name, address, phone, support needed, the plan). Nobody has a plan yet."""
    await auth_service.grant_role(
        session, None, subject="cm-yamada", role="care_manager", municipality_code=AIZU
    )
    await auth_service.grant_role(
        session, None, subject="cm-fukushima", role="care_manager", municipality_code="07201"
    )
    await load_shelters(session)
    await session.commit()
    tokens = {
        "ume": token("ume"),
        "care_manager": token("cm-yamada"),
        "care_manager_other": token("cm-fukushima"),
        "supporter": token("sup-ichiro"),
        "supporter_other": token("sup-other"),
        "other_person": token("other-person"),
        "stranger": token("stranger"),
        "leader": token("leader-sato"),
        "staff": token("staff-aizu", roles=[("city_staff", AIZU)]),
        "staff_second": token("staff-aizu-2", roles=[("city_staff", AIZU)]),
        "staff_other": token("staff-fukushima", roles=[("city_staff", "07201")]),
    }
    ids = {
        "ume": await _resident(
            gql,
            tokens["ume"],
            "会津",
            "うめ",
            37.4900,
            139.9350,
            birthDate="1941-04-01",
            phone="0242-11-1111",
            address="会津若松市城東町（架空）",
        ),  # fmt: skip
        "care_manager": await _resident(gql, tokens["care_manager"], "山田", "介護", 37.50, 139.93),
        "supporter": await _resident(gql, tokens["supporter"], "会津", "一郎", 37.491, 139.934),
        "supporter_other": await _resident(
            gql, tokens["supporter_other"], "他人", "支援", 37.495, 139.92
        ),
        "other_person": await _resident(
            gql, tokens["other_person"], "別人", "さん", 37.494, 139.925
        ),
        "stranger": await _resident(gql, tokens["stranger"], "通り", "すがり", 37.493, 139.93),
        "leader": await _resident(gql, tokens["leader"], "佐藤", "役員", 37.492, 139.931),
    }
    # Ume's consents: her care manager by name, as a proxy; her supporters (the role)
    await grant(
        gql,
        tokens["ume"],
        "plan_support",
        {"kind": "PERSON", "personRelationship": "care_manager", "personReference": "cm-yamada"},
        ALL_PLAN_ITEMS,
        proxyRole="care_manager",
    )
    await grant(
        gql, tokens["ume"], "plan_support", {"kind": "ROLE", "role": "supporter"}, SUPPORTER_ITEMS
    )
    # Ume and her leader belong to the same town association
    community = await gql(
        'mutation { createCommunity(input: {municipalityCode: "07202", name: "城東町町内会",'
        " kind: TOWN_ASSOCIATION}) { community { id } errors { code } } }",
        token=tokens["staff"],
    )
    community_id = community["data"]["createCommunity"]["community"]["id"]
    for member in ("ume", "leader"):
        await gql(
            "mutation($c: ID!) { joinCommunity(input: {communityId: $c}) { errors { code } } }",
            {"c": community_id},
            token=tokens[member],
        )
    await gql(
        "mutation($c: ID!) { setCommunityLeader(input: {communityId: $c, subject: "
        '"leader-sato"}) { errors { code } } }',
        {"c": community_id},
        token=tokens["staff"],
    )
    return PlanWorld(tokens=tokens, ids=ids, shelters=await shelter_ids(gql))


def plan_input(shelter_ids: dict[str, str], /, **changes: Any) -> dict[str, Any]:
    """A complete plan for Ume: two supporters (one with a regional ID), the gym for floods."""
    plan = {
        "supportNeeds": "車いす。段差のある道は介助が必要。",
        "medicalNotes": "インスリン注射（1日2回）。",
        "supporters": [
            {"name": "会津 一郎", "relation": "長男", "subject": "sup-ichiro"},
            {"name": "近所 花子", "relation": "近所の方", "phone": "0242-22-2222"},
        ],
        "shelters": [
            {"hazardType": "FLOOD", "shelterId": shelter_ids["DEMO-07202-003"]},
            {"hazardType": "EARTHQUAKE", "shelterId": shelter_ids["DEMO-07202-001"]},
        ],
        "transport": "WHEELCHAIR",
        "informedBy": ["APP_PUSH", "SUPPORTER_VISIT"],
        "triggerLevel": 3,
        "leaveNote": "高齢者等避難（レベル3）で一郎さんが迎えに行く",
    }
    plan.update(changes)
    return plan
