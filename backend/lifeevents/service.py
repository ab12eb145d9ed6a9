"""Life events: import a municipality's file, list its events, and guide a resident through one.

Everything here is municipal information: the queries are public and nothing a resident
answers is stored (the answers travel with each request and are evaluated in memory).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ..errors import NotFound
from ..municipalities import service as municipalities_service
from . import repository
from .definition import LifeEvent, Procedure, Question, parse_life_events
from .guide import Answer, Guide, life_event_guide
from .models import LifeEventRow, LifeEventSet

MAX_CODE = 64


@dataclass(frozen=True, slots=True)
class LifeEventsImport:
    municipality_code: str
    events: int
    unchanged: bool


@dataclass(frozen=True, slots=True)
class MunicipalLifeEvent:
    """A life event as one municipality defines it."""

    municipality_code: str
    event: LifeEvent


def _event_from_row(row: LifeEventRow) -> MunicipalLifeEvent:
    definition = row.definition
    return MunicipalLifeEvent(
        municipality_code=row.municipality_code,
        event=LifeEvent(
            code=row.code,
            name_ja=row.name_ja,
            name_en=row.name_en,
            description_ja=row.description_ja,
            description_en=row.description_en,
            questions=tuple(Question.from_json(q) for q in definition["questions"]),
            procedures=tuple(Procedure.from_json(p) for p in definition["procedures"]),
        ),
    )


async def import_life_events(
    session: AsyncSession, *, municipality_code: str, data: bytes, source_name: str
) -> LifeEventsImport:
    """Store a municipality's life events, replacing its previous ones; all or nothing.

    Importing the same file again changes nothing (the file's digest is kept).
    """
    municipality = await municipalities_service.get_municipality(
        session, municipality_code, field="municipality"
    )
    # YAML parsing is CPU work (bounded by the size cap): off the event loop.
    parsed = await asyncio.to_thread(parse_life_events, data, source_name)
    stored = await repository.set_of(session, municipality.code)
    if stored is not None and stored.digest == parsed.digest:
        return LifeEventsImport(municipality.code, len(parsed.events), True)
    rows = [
        {
            "code": event.code,
            "position": position,
            "name_ja": event.name_ja,
            "name_en": event.name_en,
            "description_ja": event.description_ja,
            "description_en": event.description_en,
            "definition": event.definition_json(),
        }
        for position, event in enumerate(parsed.events)
    ]
    await repository.replace_set(
        session,
        LifeEventSet(
            municipality_code=municipality.code,
            source_name=source_name[:255],
            digest=parsed.digest,
        ),
        rows,
    )
    return LifeEventsImport(municipality.code, len(parsed.events), False)


async def list_life_events(
    session: AsyncSession, municipality_code: str
) -> list[MunicipalLifeEvent]:
    """The municipality's life events in its file's order (none for an unknown code)."""
    if len(municipality_code) > 6:
        return []
    return [_event_from_row(row) for row in await repository.events_of(session, municipality_code)]


async def get_life_event(
    session: AsyncSession, municipality_code: str, code: str, *, field: str = "event"
) -> MunicipalLifeEvent:
    """One life event of a municipality, or NotFound (``field`` names the input at fault)."""
    row = None
    if len(municipality_code) <= 6 and len(code) <= MAX_CODE:
        row = await repository.event(session, municipality_code, code)
    if row is None:
        raise NotFound("life event", "ライフイベント", field=field)
    return _event_from_row(row)


def evaluate(found: MunicipalLifeEvent, answers: Sequence[Answer]) -> Guide:
    """What to ask next and which procedures apply, from the answers given so far."""
    # Linear in the (capped) answers and the event's (capped) questions: fine on the loop.
    return life_event_guide(found.event, answers)
