"""Helpers for the check-in tests: the app's documents, demo shelters, families, managers."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from backend.shelters import service as shelters_service
from backend.shelters.demo import demo_shelter_records
from backend.shelters.importing import store_records
from tests.conftest import GraphQLClient
from tests.consent.world import grant, make_family

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
CHECK_IN_DOC = (OPERATIONS / "ShelterCheckIn.graphql").read_text(encoding="utf-8")
EVACUEES_DOC = (OPERATIONS / "ShelterEvacuees.graphql").read_text(encoding="utf-8")
NEEDS_DOC = (OPERATIONS / "ShelterNeeds.graphql").read_text(encoding="utf-8")
SHELTERS_DOC = (OPERATIONS / "Shelters.graphql").read_text(encoding="utf-8")

AIZU, FUKUSHIMA = "07202", "07201"
CASTLE = {"latitude": 37.4875, "longitude": 139.9298}
UPDATE_STATUS = """
mutation($input: UpdateShelterStatusInput!) {
  updateShelterStatus(input: $input) { shelter { id status } errors { code field } }
}"""
SHELTER_IDS = """
query($near: CoordinatesInput!) { shelters(near: $near, first: 20) { id commonId } }
"""
FAMILY_MEMBERS = "{ me { familyGroups { members { id isMe displayName } } } }"
ACCESS_LOG = """
{ myDataAccessLog(first: 50) {
    edges { node { viewerSubject relationship purposeCode itemCodes } } } }
"""


async def load_shelters(session: AsyncSession) -> None:
    """The demo shelters of 会津若松市 and one (synthetic) shelter in 福島市."""
    await shelters_service.load_demo_shelters(session)
    fukushima = dataclasses.replace(
        demo_shelter_records()[0],
        common_id="TEST-07201-001",
        common_ids=("TEST-07201-001",),
        name="テスト福島避難所（架空）",
        municipality_code=FUKUSHIMA,
        municipality_name="福島県福島市",
        lat=37.7608,
        lon=140.4747,
    )
    await store_records(
        session, records=[fukushima], kinds_by_id={fukushima.common_id: set(fukushima.kinds)}
    )
    await session.commit()


async def shelter_ids(gql: GraphQLClient) -> dict[str, str]:
    """Global ids of the demo shelters by 共通ID (plus the 福島市 one)."""
    found: dict[str, str] = {}
    for near in (CASTLE, {"latitude": 37.7608, "longitude": 140.4747}):
        body = await gql(SHELTER_IDS, {"near": near})
        found.update({s["commonId"]: s["id"] for s in body["data"]["shelters"]})
    return found


async def set_status(gql: GraphQLClient, manager: str, shelter_id: str, **changes: Any) -> None:
    body = await gql(UPDATE_STATUS, {"input": {"id": shelter_id, **changes}}, token=manager)
    assert body["data"]["updateShelterStatus"]["errors"] == [], body


async def check_in(gql: GraphQLClient, bearer: str | None, **input: Any) -> dict[str, Any]:
    body = await gql(
        CHECK_IN_DOC, {"input": input}, token=bearer, operation_name="CheckInToShelter"
    )
    result: dict[str, Any] = body["data"]["checkInToShelter"]
    return result


async def check_out(gql: GraphQLClient, bearer: str, **input: Any) -> dict[str, Any]:
    body = await gql(
        CHECK_IN_DOC, {"input": input}, token=bearer, operation_name="CheckOutOfShelter"
    )
    result: dict[str, Any] = body["data"]["checkOutOfShelter"]
    return result


async def my_stay(gql: GraphQLClient, bearer: str) -> dict[str, Any] | None:
    body = await gql(CHECK_IN_DOC, token=bearer, operation_name="MyShelterStay")
    result: dict[str, Any] | None = body["data"]["myShelterStay"]
    return result


async def shelter(gql: GraphQLClient, shelter_id: str) -> dict[str, Any]:
    body = await gql(SHELTERS_DOC, {"id": shelter_id}, operation_name="Shelter")
    result: dict[str, Any] = body["data"]["shelter"]
    return result


async def record_arrival(gql: GraphQLClient, manager: str, **input: Any) -> dict[str, Any]:
    body = await gql(
        EVACUEES_DOC, {"input": input}, token=manager, operation_name="RecordShelterArrival"
    )
    result: dict[str, Any] = body["data"]["recordShelterArrival"]
    return result


async def record_departure(gql: GraphQLClient, manager: str, stay_id: str) -> dict[str, Any]:
    body = await gql(
        EVACUEES_DOC,
        {"input": {"stayId": stay_id}},
        token=manager,
        operation_name="RecordShelterDeparture",
    )
    result: dict[str, Any] = body["data"]["recordShelterDeparture"]
    return result


async def evacuees(gql: GraphQLClient, manager: str, shelter_id: str, **page: Any) -> Any:
    """The reception's screen: the whole answer (data and errors)."""
    return await gql(
        EVACUEES_DOC,
        {"shelterId": shelter_id, **page},
        token=manager,
        operation_name="ShelterEvacuees",
        expect_errors=True,
    )


async def family(
    gql: GraphQLClient, token: Any, owner: str, members: dict[str, bool]
) -> tuple[str, dict[str, str], dict[str, str]]:
    """A family group of ``owner`` and ``members`` (True: shares their name with the family
    for family_safety); the owner's token, everyone's token, and FamilyMember ids by subject."""
    _, tokens = await make_family(gql, token, owner, list(members))
    for subject, shares in members.items():
        if shares:
            await grant(
                gql, tokens[subject], "family_safety", {"kind": "ROLE", "role": "family"}, ["name"]
            )
    body = await gql(FAMILY_MEMBERS, token=tokens[owner])
    member_ids = {
        m["displayName"]: m["id"] for m in body["data"]["me"]["familyGroups"][0]["members"]
    }
    return tokens[owner], tokens, member_ids
