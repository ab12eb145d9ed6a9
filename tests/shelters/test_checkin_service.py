"""The contract other domains rely on: check_in called inside their own transaction (a safety
report naming a shelter) changes nothing when it refuses, so the caller may go on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from backend.api.ids import decode_id
from backend.principal import Principal, PrincipalKind, RequestMeta, Viewer
from backend.residents import service as residents_service
from backend.shelters import checkin
from backend.shelters.errors import ShelterFull
from backend.shelters.models import StayMethod
from tests.shelters.checkin_world import set_status

GYM, SCHOOL = "DEMO-07202-003", "DEMO-07202-001"


async def viewer_of(session: AsyncSession, subject: str) -> Viewer:
    principal = Principal(kind=PrincipalKind.RESIDENT, subject=subject)
    resident = await residents_service.get_or_create_resident(session, principal)
    return Viewer(principal=principal, resident_id=resident.id)


async def test_a_refused_check_in_leaves_the_callers_transaction_as_it_was(
    gql: Any, session: AsyncSession, ids: dict[str, str], manager: str
) -> None:
    # given Hanako at the gym, and the school full (capacity 1, taken by Taro)
    await set_status(gql, manager, ids[GYM], status="OPEN")
    await set_status(gql, manager, ids[SCHOOL], status="OPEN", capacity=1)
    gym, school = decode_id("Shelter", ids[GYM]), decode_id("Shelter", ids[SCHOOL])
    hanako = await viewer_of(session, "svc-hanako")
    taro = await viewer_of(session, "svc-taro")
    assert hanako.resident_id and taro.resident_id
    await checkin.check_in(session, taro, shelter_id=school, resident_id=taro.resident_id)
    at_gym = await checkin.check_in(
        session, hanako, shelter_id=gym, resident_id=hanako.resident_id, how=StayMethod.QR
    )
    assert (at_gym.shelter.occupancy, at_gym.stay.how) == (1, "qr")
    # when a caller's transaction moves her to the full school and catches the refusal
    with pytest.raises(ShelterFull):
        await checkin.check_in(
            session, hanako, shelter_id=school, resident_id=hanako.resident_id, meta=RequestMeta()
        )
    # then, in the same transaction, she is still at the gym and both counts stand
    stay = await checkin.current_stay(session, hanako.resident_id)
    assert stay is not None and stay.stay.id == at_gym.stay.id
    assert stay.stay.checked_out_at is None
    assert (stay.shelter.occupancy, stay.shelter.status) == (1, "open")
    school_stay = await checkin.current_stay(session, taro.resident_id)
    assert school_stay is not None
    assert (school_stay.shelter.occupancy, school_stay.shelter.status) == (1, "full")
    await session.commit()
