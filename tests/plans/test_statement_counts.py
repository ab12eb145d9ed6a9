"""The supporter's screen reads every supported person in the same few statements, however
many they support (no statement per person)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.test_statement_counts import count_statements
from tests.conftest import GraphQLClient
from tests.consent.world import grant
from tests.plans.world import (
    ADD_PLACE,
    PROFILE,
    SUPPORTER_ITEMS,
    op,
    plan_input,
)
from tests.shelters.checkin_world import load_shelters, shelter_ids

STAFF_ROLES = [("city_staff", "07202")]


async def _supported_person(
    gql: GraphQLClient, token: Any, shelters: dict[str, str], n: int, supporter: str
) -> None:
    bearer = token(f"count-person-{supporter}-{n}")
    await gql(
        PROFILE,
        {"input": {"familyName": "計測", "givenName": f"{n}", "municipalityCode": "07202"}},
        token=bearer,
    )
    await gql(
        ADD_PLACE,
        {"input": {"kind": "HOME", "label": "自宅", "latitude": 37.49, "longitude": 139.935}},
        token=bearer,
    )
    await grant(gql, bearer, "plan_support", {"kind": "ROLE", "role": "supporter"}, SUPPORTER_ITEMS)
    plan = plan_input(
        shelters,
        supporters=[
            {"name": "支援 者", "subject": supporter},
            {"name": "誰か", "phone": "0242-12-3456"},
        ],
    )
    saved = (await op(gql, "SaveEvacuationPlan", {"input": {"plan": plan}}, who=bearer))[
        "saveEvacuationPlan"
    ]
    plan_id = saved["plan"]["id"]
    await op(gql, "SubmitEvacuationPlan", {"planId": plan_id}, who=bearer)
    staff = token("count-staff", roles=STAFF_ROLES)
    approved = await op(gql, "ApproveEvacuationPlan", {"planId": plan_id}, who=staff)
    assert approved["approveEvacuationPlan"]["errors"] == []


async def test_the_supporter_screen_runs_the_same_statements_for_1_or_5_people(
    gql: GraphQLClient, token: Any, session: Any, engine: AsyncEngine
) -> None:
    await load_shelters(session)
    await session.commit()
    shelters = await shelter_ids(gql)
    for supporter, count in (("count-sup-one", 1), ("count-sup-five", 5)):
        await gql("{ me { id } }", token=token(supporter))
        for n in range(count):
            await _supported_person(gql, token, shelters, n, supporter)
    counted = {}
    for supporter, count in (("count-sup-one", 1), ("count-sup-five", 5)):
        bearer = token(supporter)
        await op(gql, "MySupportedPeople", who=bearer)  # sign-in and caches first
        with count_statements(engine) as statements:
            people = (await op(gql, "MySupportedPeople", who=bearer))["mySupportedPeople"]
        assert len(people) == count
        counted[count] = [
            s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))
        ]
    assert len(counted[1]) == len(counted[5]), "\n".join(s[:80] for s in counted[5])


async def test_a_care_managers_caseload_runs_the_same_statements_for_1_or_4_people(
    gql: GraphQLClient, token: Any, session: Any, engine: AsyncEngine
) -> None:
    from backend.auth import service as auth_service

    for manager in ("count-cm-one", "count-cm-four"):
        await auth_service.grant_role(
            session, None, subject=manager, role="care_manager", municipality_code="07202"
        )
    await session.commit()
    for manager, count in (("count-cm-one", 1), ("count-cm-four", 4)):
        await gql("{ me { id } }", token=token(manager))
        for n in range(count):
            bearer = token(f"count-cared-{manager}-{n}")
            await gql(
                PROFILE,
                {"input": {"familyName": "被", "givenName": f"{n}", "municipalityCode": "07202"}},
                token=bearer,
            )
            await grant(
                gql,
                bearer,
                "plan_support",
                {
                    "kind": "PERSON",
                    "personRelationship": "care_manager",
                    "personReference": manager,
                },
                ["name", "address", "phone", "evacuation_plan"],
                proxyRole="care_manager",
            )
    counted = {}
    for manager, count in (("count-cm-one", 1), ("count-cm-four", 4)):
        bearer = token(manager)
        await op(gql, "MyProxyPeople", who=bearer)
        with count_statements(engine) as statements:
            people = (await op(gql, "MyProxyPeople", who=bearer))["myProxyPeople"]
        assert len(people) == count
        counted[count] = [
            s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))
        ]
    assert len(counted[1]) == len(counted[4]), "\n".join(s[:80] for s in counted[4])
