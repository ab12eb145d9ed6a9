"""Shelter check-in (避難所受付): residents and their families check in and out, the reception
records arrivals by hand, and managers list who is there as far as each evacuee consented.

Rules:
- a resident checks in themself, or a family member who shares a family group with them and
  lets them read their name (``family_safety``); the read is logged like any other;
- one current stay per resident (a unique index decides races): checking in elsewhere moves
  the stay, checking in where one already is changes nothing;
- a CLOSED shelter takes nobody in; a FULL one (by status, or by count at capacity) refuses
  residents, but its reception may still record arrivals: people who are at the door are
  counted, and the shelter stays FULL;
- occupancy changes by one atomic UPDATE per shelter in the same transaction as the stay
  (no read-modify-write), FULL when it reaches capacity, OPEN again when it drops below;
  every change announces the shelter's live topic.

Each operation is all-or-nothing on its own (a savepoint): a caller that catches its
DomainError, such as a safety report naming a full shelter, keeps a consistent database.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..consent import enforcement
from ..db.base import utcnow
from ..db.constraints import conflict_for
from ..errors import Checker, Conflict, DomainError, NotFound, NotPermitted, Unauthenticated
from ..family import service as family_service
from ..live import changed, shelter_topic
from ..principal import Principal, PrincipalKind, RequestMeta, Viewer
from ..residents import service as residents_service
from ..text import clean_text
from . import repository
from .errors import ShelterClosed, ShelterFull
from .models import Shelter, ShelterStatus, ShelterStay, StayMethod
from .service import get_shelter
from .sharing import MANAGER_ROLES

FAMILY_PURPOSE = "family_safety"
REGISTRATION_PURPOSE = "shelter_registration"
MAX_PARTY_SIZE = 500
MAX_LABEL_LENGTH = 100
MAX_SUBJECT_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Stay:
    """A stay and its shelter as the change left it; ``left`` is the shelter a move left."""

    stay: ShelterStay
    shelter: Shelter
    left: Shelter | None = None


@dataclass(frozen=True, slots=True)
class Evacuee:
    """A current stay as the reception sees it: a resident's consented items, or nothing."""

    stay: ShelterStay
    person: enforcement.PersonalData | None


@asynccontextmanager
async def _all_or_nothing(
    session: AsyncSession, touched: list[Any] | None = None
) -> AsyncIterator[None]:
    """A savepoint: a refusal or a lost race undoes this operation's writes only.

    The rows the block's UPDATE ... RETURNING loaded into ``touched`` are read again after
    such a rollback: SQLAlchemy expires only what its own flushes changed, and the caller's
    session must not keep the undone values.
    """
    try:
        async with session.begin_nested():
            yield
    except IntegrityError as exc:
        conflict = conflict_for(exc)
        if conflict is None:
            raise
        await _reload(session, touched)
        raise conflict from exc
    except DomainError:
        await _reload(session, touched)
        raise


async def _reload(session: AsyncSession, rows: list[Any] | None) -> None:
    for row in rows or ():
        await session.refresh(row)


async def family_member(
    session: AsyncSession, viewer: Viewer, *, membership_id: uuid.UUID
) -> uuid.UUID:
    """The resident behind a FamilyMember id of a group the viewer is in, or NotFound."""
    resident_id = None
    if viewer.resident_id is not None:
        resident_id = await family_service.member_resident_id(
            session, viewer.resident_id, membership_id=membership_id
        )
    if resident_id is None:
        raise NotFound("family member", "家族", field="memberId")
    return resident_id


async def _require_resident_or_proxy(
    session: AsyncSession, viewer: Viewer, resident_id: uuid.UUID, meta: RequestMeta
) -> bool:
    """Whether the viewer acts for someone else; refused unless that is a family member
    who lets the viewer read their name for family safety (the read is logged)."""
    if viewer.principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated()
    if viewer.resident_id is not None and resident_id == viewer.resident_id:
        return False
    refused = NotPermitted(
        "only yourself, or a family member who shares their name with you (family_safety)",
        "受付できるのはご本人か、家族の安否共有で氏名を共有している家族だけです",
        field="memberId",
    )
    if viewer.resident_id is None or not await family_service.share_a_group(
        session, viewer.resident_id, resident_id
    ):
        raise refused
    shared = await enforcement.read_many(
        session, viewer, [resident_id], purpose_code=FAMILY_PURPOSE, items=["name"], meta=meta
    )
    if resident_id not in shared:
        raise refused
    return True


async def check_in(
    session: AsyncSession,
    viewer: Viewer,
    *,
    shelter_id: uuid.UUID,
    resident_id: uuid.UUID,
    how: StayMethod = StayMethod.SELF,
    meta: RequestMeta | None = None,
    shelter_field: str = "shelterId",
) -> Stay:
    """Check a resident (the viewer, or their consenting family member) in at an open shelter
    that is not full; a current stay elsewhere moves here, one here is returned unchanged.

    Someone else's check-in is recorded as PROXY whatever ``how`` says; ``meta`` goes into
    the access log of the family read such a check-in makes. Refusals are typed:
    NotFound (shelter), NotPermitted (proxy), ShelterClosed, ShelterFull, Conflict (a
    concurrent check-in of the same person); each leaves the database as it was.
    """
    proxy = await _require_resident_or_proxy(session, viewer, resident_id, meta or RequestMeta())
    shelter = await get_shelter(session, shelter_id, field=shelter_field)
    current = await repository.current_stay_of(session, resident_id)
    if current is not None and current[0].shelter_id == shelter.id:
        return Stay(*current)
    if shelter.status == ShelterStatus.CLOSED.value:
        raise ShelterClosed(shelter.name, field=shelter_field)
    return await _arrive(
        session,
        shelter,
        resident_id=resident_id,
        label=None,
        party_size=1,
        how=StayMethod.PROXY if proxy else how,
        by=viewer.actor,
        within_capacity=True,
        field=shelter_field,
    )


async def _arrive(
    session: AsyncSession,
    shelter: Shelter,
    *,
    resident_id: uuid.UUID | None,
    label: str | None,
    party_size: int,
    how: StayMethod,
    by: str,
    within_capacity: bool,
    field: str,
) -> Stay:
    now = utcnow()
    touched: list[Any] = []
    async with _all_or_nothing(session, touched):
        left_stay = None
        if resident_id is not None:
            left_stay = await repository.close_current_stay(session, resident_id, at=now, by=by)
            if left_stay is not None:
                touched.append(left_stay)
        stay = ShelterStay(
            id=uuid.uuid4(),
            shelter_id=shelter.id,
            resident_id=resident_id,
            label=label,
            party_size=party_size,
            how=how.value,
            checked_in_at=now,
            recorded_by=by,
        )
        session.add(stay)
        await session.flush()
        # The shelter rows last: writing one takes the shelters' data-stamp lock until the
        # commit (migration 0006), so other shelter writes wait as briefly as possible.
        left = None
        if left_stay is not None:
            left = await _count_out(session, left_stay, now, by)
            touched.append(left)
        counted = await repository.add_people(
            session, shelter.id, party_size, within_capacity=within_capacity, at=now, by=by
        )
        if counted is None:
            await session.refresh(shelter)
            if shelter.status == ShelterStatus.CLOSED.value:
                raise ShelterClosed(shelter.name, field=field)
            raise ShelterFull(shelter.name, field=field)
    changed(session, shelter_topic(shelter.id))
    return Stay(stay, counted, left)


async def _count_out(session: AsyncSession, stay: ShelterStay, at: datetime, by: str) -> Shelter:
    shelter = await repository.remove_people(
        session, stay.shelter_id, stay.party_size, at=at, by=by
    )
    assert shelter is not None  # a stay's shelter cannot go while the stay exists (cascade)
    changed(session, shelter_topic(shelter.id))
    return shelter


async def check_out(
    session: AsyncSession, viewer: Viewer, *, resident_id: uuid.UUID, meta: RequestMeta
) -> Stay:
    """End the current stay of the viewer (or of their consenting family member)."""
    proxy = await _require_resident_or_proxy(session, viewer, resident_id, meta)
    now = utcnow()
    async with _all_or_nothing(session):
        stay = await repository.close_current_stay(session, resident_id, at=now, by=viewer.actor)
        if stay is None:
            raise NotFound(
                "current shelter stay", "避難所の受付記録", field="memberId" if proxy else None
            )
        shelter = await _count_out(session, stay, now, viewer.actor)
    return Stay(stay, shelter)


async def current_stay(session: AsyncSession, resident_id: uuid.UUID) -> Stay | None:
    """The resident's current stay and its shelter, if checked in anywhere."""
    found = await repository.current_stay_of(session, resident_id)
    return None if found is None else Stay(*found)


# --- the reception ---------------------------------------------------------------------------


async def record_arrival(
    session: AsyncSession,
    principal: Principal,
    *,
    shelter_id: uuid.UUID,
    subject: str | None = None,
    label: str | None = None,
    party_size: int = 1,
) -> Stay:
    """The reception records an arrival: a resident by regional-ID subject, or a party
    without the app by a label and its size; a full shelter still counts them."""
    checker = Checker()
    if subject is not None and len(subject) > MAX_SUBJECT_LENGTH:
        checker.add("subject", "subject is too long", "地域IDが長すぎます")
        subject = None
    cleaned = clean_text(checker, "label", label, label_ja="呼び名", max_length=MAX_LABEL_LENGTH)
    if subject is None and cleaned is None and not checker.errors:
        checker.add(
            "label",
            "give the resident's subject, or a label for a party without the app",
            "住民の地域IDか、アプリを使っていない方の呼び名を入力してください",
        )
    if not 1 <= party_size <= MAX_PARTY_SIZE:
        checker.add(
            "partySize",
            f"partySize must be between 1 and {MAX_PARTY_SIZE}",
            f"人数は1〜{MAX_PARTY_SIZE}人で入力してください",
        )
    checker.raise_if_any()
    shelter = await get_shelter(session, shelter_id, field="shelterId")
    auth_service.require_role(principal, shelter.municipality_code, *MANAGER_ROLES)
    resident_id = None
    if subject is not None:
        resident_id = await residents_service.resident_id_by_subject(session, subject)
        if resident_id is None:
            raise NotFound("resident", "住民", field="subject")
        current = await repository.current_stay_of(session, resident_id)
        if current is not None and current[0].shelter_id == shelter.id:
            return Stay(*current)
    if shelter.status == ShelterStatus.CLOSED.value:
        raise ShelterClosed(shelter.name, field="shelterId")
    return await _arrive(
        session,
        shelter,
        resident_id=resident_id,
        label=cleaned,
        party_size=party_size,
        how=StayMethod.MANAGER,
        by=Viewer(principal).actor,
        within_capacity=False,
        field="shelterId",
    )


async def record_departure(
    session: AsyncSession, principal: Principal, *, stay_id: uuid.UUID
) -> Stay:
    """The reception records that a stay of one of its municipality's shelters ended."""
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated()
    stay = await repository.get_stay(session, stay_id)
    shelter = None if stay is None else await repository.get(session, stay.shelter_id)
    # Stays of other municipalities look like unknown ones.
    if shelter is None or not principal.has_role(shelter.municipality_code, *MANAGER_ROLES):
        raise NotFound("shelter stay", "避難所の受付記録", field="stayId")
    now = utcnow()
    by = Viewer(principal).actor
    async with _all_or_nothing(session):
        ended = await repository.close_stay(session, stay_id, at=now, by=by)
        if ended is None:
            raise Conflict(
                "this stay has ended already", "この方はすでに退所しています", field="stayId"
            )
        shelter = await _count_out(session, ended, now, by)
    return Stay(ended, shelter)


async def evacuees(
    session: AsyncSession,
    viewer: Viewer,
    *,
    shelter_id: uuid.UUID,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    meta: RequestMeta,
) -> list[Evacuee]:
    """Current stays of a shelter, newest first, for its municipality's managers: up to
    ``limit`` + 1 rows (the extra one only says that more follow, and is read for nobody);
    each resident's items as far as their shelter_registration consent allows (logged)."""
    shelter = await get_shelter(session, shelter_id, field="shelterId")
    auth_service.require_role(viewer.principal, shelter.municipality_code, *MANAGER_ROLES)
    stays = await repository.current_stays(session, shelter.id, after=after, limit=limit + 1)
    shown = [s.resident_id for s in stays[:limit] if s.resident_id is not None]
    people = await enforcement.read_many(
        session, viewer, shown, purpose_code=REGISTRATION_PURPOSE, items=None, meta=meta
    )
    return [
        Evacuee(s, people.get(s.resident_id) if s.resident_id is not None else None) for s in stays
    ]
