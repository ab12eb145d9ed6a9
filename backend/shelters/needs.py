"""Shelter needs (物資・ボランティアの募集): posted and updated by the municipality's managers,
public to everyone, so neighbours and volunteers see what each shelter lacks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth import service as auth_service
from ..errors import Checker, LimitExceeded, NotFound
from ..live import changed, shelter_topic
from ..principal import Principal, Viewer
from ..text import clean_text
from . import repository
from .models import NeedKind, NeedState, ShelterNeed
from .service import UNSET, get_shelter
from .sharing import MANAGER_ROLES

# Open needs per shelter: a board residents read at a glance, not a ledger.
MAX_OPEN_NEEDS = 30
# Fulfilled and withdrawn needs listed on request (the newest).
MAX_CLOSED_LISTED = 50
MAX_TEXT_LENGTH = 500
MAX_QUANTITY = 1_000_000


def _check_quantity(checker: Checker, quantity: Any) -> None:
    if quantity is not None and quantity is not UNSET and not 1 <= quantity <= MAX_QUANTITY:
        checker.add(
            "quantity",
            f"quantity must be between 1 and {MAX_QUANTITY}",
            f"数量は1〜{MAX_QUANTITY}で入力してください",
        )


async def _managed_need(
    session: AsyncSession, principal: Principal, need_id: uuid.UUID
) -> ShelterNeed:
    need = await repository.get_need(session, need_id)
    shelter = None if need is None else await repository.get(session, need.shelter_id)
    if need is None or shelter is None:
        raise NotFound("shelter need", "避難所の募集", field="needId")
    auth_service.require_role(principal, shelter.municipality_code, *MANAGER_ROLES)
    return need


async def post_need(
    session: AsyncSession,
    principal: Principal,
    *,
    shelter_id: uuid.UUID,
    kind: NeedKind,
    text_ja: str,
    text_en: str | None = None,
    quantity: int | None = None,
) -> ShelterNeed:
    """Post what a shelter needs: managers of its municipality, at most MAX_OPEN_NEEDS open."""
    checker = Checker()
    cleaned_ja = clean_text(
        checker,
        "textJa",
        text_ja,
        label_ja="内容（日本語）",
        max_length=MAX_TEXT_LENGTH,
        required=True,
        multiline=True,
    )
    cleaned_en = clean_text(
        checker,
        "textEn",
        text_en,
        label_ja="内容（英語）",
        max_length=MAX_TEXT_LENGTH,
        multiline=True,
    )
    _check_quantity(checker, quantity)
    checker.raise_if_any()
    assert cleaned_ja is not None
    shelter = await get_shelter(session, shelter_id, field="shelterId")
    auth_service.require_role(principal, shelter.municipality_code, *MANAGER_ROLES)
    if await repository.count_needs(session, shelter.id, NeedState.OPEN) >= MAX_OPEN_NEEDS:
        raise LimitExceeded(
            f"at most {MAX_OPEN_NEEDS} open needs per shelter; close fulfilled ones first",
            f"募集中の項目は1つの避難所につき{MAX_OPEN_NEEDS}件までです。"
            "充足したものを先に締め切ってください",
        )
    actor = Viewer(principal).actor
    need = ShelterNeed(
        id=uuid.uuid4(),
        shelter_id=shelter.id,
        kind=kind.value,
        text_ja=cleaned_ja,
        text_en=cleaned_en,
        quantity=quantity,
        state=NeedState.OPEN.value,
        posted_by=actor,
        updated_by=actor,
    )
    session.add(need)
    await session.flush()
    changed(session, shelter_topic(shelter.id))
    return need


async def update_need(
    session: AsyncSession,
    principal: Principal,
    *,
    need_id: uuid.UUID,
    state: Any = UNSET,
    quantity: Any = UNSET,
) -> ShelterNeed:
    """Mark a need fulfilled, withdrawn or open again, or change its quantity (null: none)."""
    checker = Checker()
    if state is None:
        checker.add("state", "state must not be null", "状態を指定してください")
    _check_quantity(checker, quantity)
    checker.raise_if_any()
    need = await _managed_need(session, principal, need_id)
    reopening = state == NeedState.OPEN and need.state != NeedState.OPEN.value
    if (
        reopening
        and await repository.count_needs(session, need.shelter_id, NeedState.OPEN) >= MAX_OPEN_NEEDS
    ):
        raise LimitExceeded(
            f"at most {MAX_OPEN_NEEDS} open needs per shelter",
            f"募集中の項目は1つの避難所につき{MAX_OPEN_NEEDS}件までです",
        )
    if state is not UNSET:
        need.state = NeedState(state).value
    if quantity is not UNSET:
        need.quantity = quantity
    need.updated_by = Viewer(principal).actor
    await session.flush()
    changed(session, shelter_topic(need.shelter_id))
    return need


async def shelter_needs(
    session: AsyncSession, *, shelter_id: uuid.UUID, include_closed: bool = False
) -> list[ShelterNeed]:
    """A shelter's open needs, newest first; with the newest closed ones on request."""
    shelter = await get_shelter(session, shelter_id, field="shelterId")
    found = await repository.needs_of(session, [shelter.id], states=[NeedState.OPEN])
    if include_closed:
        found += await repository.needs_of(
            session,
            [shelter.id],
            states=[NeedState.FULFILLED, NeedState.WITHDRAWN],
            limit=MAX_CLOSED_LISTED,
        )
    return found


async def open_needs_of_many(
    session: AsyncSession, shelter_ids: Sequence[uuid.UUID]
) -> list[ShelterNeed]:
    """Open needs of many shelters (loader batch; at most MAX_OPEN_NEEDS each)."""
    return await repository.needs_of(session, shelter_ids, states=[NeedState.OPEN])
