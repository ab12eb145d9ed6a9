"""Shelter load: how many people routes sent to a shelter lately and how many are there,
so nearest-shelter routing spreads a district over the shelters that still have room.

- Every evacuationRoute to a shelter records an assignment (the party's size) after its
  search; assignments count for ``route_load_window_minutes``, then are ignored (and
  deleted, per shelter at most once a minute by each process).
- A signed-in resident's assignment is keyed by an HMAC of their sign-in's subject under
  ``route_load_secret``: asking again replaces it (and their own earlier one is not counted
  against them). Anonymous callers cannot be recognised: each of their routes counts.
- "Checked in" is the larger of the shelter's own occupancy (its reception's count) and what
  the registered arrival sources report (safety answers "evacuated to this shelter" in open
  events): they count the same people from different records, so they are never added.
- A candidate whose planned + checked-in people + this party exceed its capacity ranks after
  every candidate with room; an unknown capacity is never full by load.

Counts are read before the graph search, which runs with no connection held, so routes of
a burst see each other's counts late. The record step settles that: in its transaction, with
the routes to that shelter serialised (an advisory lock on PostgreSQL, SQLite's write lock),
it reads the planned counts again; a nearest shelter filled meanwhile while another candidate
has room sends the request back to planning with the fresh counts (assignments.py).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..db.base import utcnow
from ..errors import Checker
from ..principal import Principal
from ..shelters import service as shelters_service
from . import repository
from .avoid_sources import Sources

MIN_PARTY_SIZE = 1
MAX_PARTY_SIZE = 50
# Without a configured secret each process keys with its own: no key is ever guessable from
# the table, at the price of a resident counting once per process they reach.
_PROCESS_SECRET = secrets.token_bytes(32)


@dataclass(frozen=True, slots=True)
class Party:
    """Who a route sends: how many people, and the requester's key (None: anonymous)."""

    size: int = 1
    requester_key: str | None = None


@dataclass(frozen=True, slots=True)
class ShelterLoad:
    """A shelter's load as a route saw it before sending ``party`` people there."""

    capacity: int | None
    planned: int
    checked_in: int
    party: int

    @property
    def expected(self) -> int:
        """People expected there once this party arrives."""
        return self.planned + self.checked_in + self.party

    @property
    def over_capacity(self) -> bool:
        return self.capacity is not None and self.expected > self.capacity


def requester_key(settings: Settings, subject: str) -> str:
    """The key a signed-in requester's assignments are stored under (never the subject)."""
    secret = settings.route_load_secret
    key = secret.get_secret_value().encode() if secret is not None else _PROCESS_SECRET
    return hmac.new(key, f"resident:{subject}".encode(), hashlib.sha256).hexdigest()


def party_of(settings: Settings, size: int, principal: Principal) -> Party:
    """The party a caller sends: keyed when a resident is signed in, else anonymous."""
    subject = principal.subject if principal.is_resident else None
    return Party(size, requester_key(settings, subject) if subject else None)


def check_party(checker: Checker, party: Party | None) -> None:
    """A party of 1 to MAX_PARTY_SIZE people."""
    if party is not None and not MIN_PARTY_SIZE <= party.size <= MAX_PARTY_SIZE:
        checker.add(
            "partySize",
            f"party size must be between {MIN_PARTY_SIZE} and {MAX_PARTY_SIZE}",
            f"人数は{MIN_PARTY_SIZE}〜{MAX_PARTY_SIZE}人で指定してください",
        )


def full_rank(load: ShelterLoad | None) -> int:
    """0 for a shelter with room for the party (or not counted), 1 for one it would overfill."""
    return 1 if load is not None and load.over_capacity else 0


# (session, shelter ids) -> people there per shelter, by one source's records.
ArrivalSource = Callable[[AsyncSession, Sequence[uuid.UUID]], Awaitable[Mapping[uuid.UUID, int]]]


class ArrivalSources(Sources[ArrivalSource]):
    """Other domains' counts of people at shelters (safety answers); filled at assembly."""

    async def people_at(
        self, session: AsyncSession, shelter_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """The largest count any source gives for each shelter."""
        found: dict[uuid.UUID, int] = {}
        for source in self._sources.values():
            for shelter_id, people in (await source(session, shelter_ids)).items():
                found[shelter_id] = max(found.get(shelter_id, 0), people)
        return found


arrival_sources = ArrivalSources()


async def loads_of(
    session: AsyncSession,
    settings: Settings,
    shelters: Sequence[shelters_service.Shelter],
    party: Party,
) -> dict[uuid.UUID, ShelterLoad]:
    """Each shelter's load before ``party`` is sent (one statement per kind of count)."""
    ids = list(dict.fromkeys(shelter.id for shelter in shelters))
    planned = await repository.planned_people(
        session, ids, since=_window_start(settings), excluding_key=party.requester_key
    )
    reported = await arrival_sources.people_at(session, ids)
    return {
        shelter.id: ShelterLoad(
            capacity=shelter.capacity,
            planned=planned.get(shelter.id, 0),
            checked_in=max(shelter.occupancy or 0, reported.get(shelter.id, 0)),
            party=party.size,
        )
        for shelter in shelters
    }


async def recounted(
    session: AsyncSession,
    settings: Settings,
    shelter_id: uuid.UUID,
    loads: Mapping[uuid.UUID, ShelterLoad],
    party: Party,
) -> dict[uuid.UUID, ShelterLoad]:
    """``loads`` with the people planned as the database has them now, read while routes to
    ``shelter_id`` are recorded by this transaction only (checked-in counts kept as read)."""
    await repository.lock_shelter(session, shelter_id)
    planned = await repository.planned_people(
        session,
        list(loads),
        since=_window_start(settings),
        excluding_key=party.requester_key,
    )
    return {sid: replace(old, planned=planned.get(sid, 0)) for sid, old in loads.items()}


def _window_start(settings: Settings, now: datetime | None = None) -> datetime:
    """Assignments issued before this no longer count."""
    return (now or utcnow()) - timedelta(minutes=settings.route_load_window_minutes)


class _Pruned:
    """When each shelter's old assignments were last deleted by this process: reads ignore
    them anyway, so a delete per shelter and minute keeps the table small at no cost per
    route."""

    def __init__(self, every_s: float = 60.0) -> None:
        self.every_s = every_s
        self._at: dict[uuid.UUID, float] = {}

    def due(self, shelter_id: uuid.UUID) -> bool:
        now = time.monotonic()
        if now - self._at.get(shelter_id, -math.inf) < self.every_s:
            return False
        self._at[shelter_id] = now
        return True


_pruned = _Pruned()


async def record(
    session: AsyncSession, settings: Settings, *, shelter_id: uuid.UUID, party: Party
) -> None:
    """Count ``party`` as sent to the shelter now (and now and then forget its assignments
    past the window)."""
    now = utcnow()
    if _pruned.due(shelter_id):
        await repository.prune(session, shelter_id, before=_window_start(settings, now))
    await repository.assign(
        session,
        shelter_id=shelter_id,
        party_size=party.size,
        issued_at=now,
        requester_key=party.requester_key,
    )
