"""Life-event queries: public municipal information, nothing of the asker is stored."""

from __future__ import annotations

import strawberry

from ..api.context import KInfo
from ..errors import DomainError
from . import service
from .types import (
    LifeEventAnswerInput,
    LifeEventGuideErrorType,
    LifeEventGuideResult,
    LifeEventGuideType,
    LifeEventType,
)


@strawberry.type
class LifeEventQueries:
    @strawberry.field(
        description="A municipality's life events (転入, 出生, ...) in its order; empty when it "
        "has none. Public."
    )
    async def life_events(self, info: KInfo, municipality_code: str) -> list[LifeEventType]:
        async with info.context.db.session() as session:
            found = await service.list_life_events(session, municipality_code)
        return [LifeEventType.from_event(e) for e in found]

    @strawberry.field(
        description="One life event of a municipality with its questionnaire and procedures, "
        "or null. Public."
    )
    async def life_event(
        self, info: KInfo, municipality_code: str, code: str
    ) -> LifeEventType | None:
        try:
            async with info.context.db.session() as session:
                found = await service.get_life_event(session, municipality_code, code)
        except DomainError:
            return None
        return LifeEventType.from_event(found)

    @strawberry.field(
        description="The guide through a life event from the answers so far: the next "
        "questions that apply and the procedures that apply, each with why. Deterministic; "
        "answers to questions that do not apply are ignored (listed in ignoredQuestions). "
        "Public: answers are not stored."
    )
    async def life_event_guide(
        self,
        info: KInfo,
        municipality_code: str,
        event: str,
        answers: list[LifeEventAnswerInput],
    ) -> LifeEventGuideResult:
        try:
            async with info.context.db.session() as session:
                found = await service.get_life_event(session, municipality_code, event)
            guide = service.evaluate(found, [a.to_answer() for a in answers])
        except DomainError as exc:
            return LifeEventGuideErrorType.from_domain(exc)
        return LifeEventGuideType.from_guide(guide, found)
