"""Resident mutations: profile and places."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import in_transaction, sent
from . import service
from .models import Resident
from .types import (
    GenderType,
    LanguageType,
    MeRef,
    PlaceKindType,
    PlaceType,
    me_of,
    signed_in_resident,
)

UNSET = strawberry.UNSET
P = TypeVar("P")


def _sent(value: object) -> object:
    return sent(value, service.UNSET)


@strawberry.input(description="Fields to change; omitted fields stay, null clears.")
class UpdateProfileInput:
    display_name: str | None = strawberry.field(
        default=UNSET, description="Shown to your family and leaders; may change, not be blank"
    )
    family_name: str | None = UNSET
    given_name: str | None = UNSET
    family_name_kana: str | None = strawberry.field(
        default=UNSET, description="フリガナ in katakana (hiragana is converted)"
    )
    given_name_kana: str | None = strawberry.field(
        default=UNSET, description="フリガナ in katakana (hiragana is converted)"
    )
    birth_date: date | None = UNSET
    gender: GenderType | None = UNSET
    phone: str | None = UNSET
    address: str | None = UNSET
    preferred_language: LanguageType | None = UNSET
    municipality_code: str | None = strawberry.field(
        default=UNSET,
        description="Choose the home municipality explicitly; null derives it from the home place.",
    )


@strawberry.type
class UpdateProfilePayload:
    me: MeRef | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AddPlaceInput:
    kind: PlaceKindType
    label: str
    latitude: float
    longitude: float
    address: str | None = None


@strawberry.input(description="Fields to change; omitted fields stay.")
class UpdatePlaceInput:
    id: strawberry.ID
    kind: PlaceKindType | None = UNSET
    label: str | None = UNSET
    latitude: float | None = UNSET
    longitude: float | None = UNSET
    address: str | None = UNSET


@strawberry.input
class RemovePlaceInput:
    id: strawberry.ID


@strawberry.type
class PlacePayload:
    place: PlaceType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemovePlacePayload:
    removed_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _as_me(
    info: KInfo,
    payload: Callable[..., P],
    work: Callable[[AsyncSession, Resident], Awaitable[P]],
) -> P:
    resident = await signed_in_resident(info)
    return await in_transaction(info, payload, lambda session: work(session, resident))


@strawberry.type
class ResidentMutations:
    @strawberry.mutation(description="Update the signed-in resident's profile.")
    async def update_profile(self, info: KInfo, input: UpdateProfileInput) -> UpdateProfilePayload:
        changes = service.ProfileChanges(
            **{name: _sent(getattr(input, name)) for name in service.ProfileChanges.__slots__}
        )

        async def work(session: AsyncSession, resident: Resident) -> UpdateProfilePayload:
            await service.update_profile(session, resident, changes=changes)
            return UpdateProfilePayload(me=me_of(resident))

        return await _as_me(info, UpdateProfilePayload, work)

    @strawberry.mutation(description="Save a new place for the signed-in resident.")
    async def add_place(self, info: KInfo, input: AddPlaceInput) -> PlacePayload:
        async def work(session: AsyncSession, resident: Resident) -> PlacePayload:
            place = await service.add_place(
                session,
                info.context.settings,
                resident,
                kind=input.kind,
                label=input.label,
                latitude=input.latitude,
                longitude=input.longitude,
                address=input.address,
            )
            return PlacePayload(place=PlaceType.from_model(place))

        return await _as_me(info, PlacePayload, work)

    @strawberry.mutation(description="Change one of the signed-in resident's places.")
    async def update_place(self, info: KInfo, input: UpdatePlaceInput) -> PlacePayload:
        changes = service.PlaceChanges(
            kind=_sent(input.kind),
            label=_sent(input.label),
            latitude=_sent(input.latitude),
            longitude=_sent(input.longitude),
            address=_sent(input.address),
        )

        async def work(session: AsyncSession, resident: Resident) -> PlacePayload:
            place = await service.update_place(
                session,
                info.context.settings,
                resident,
                decode_id("Place", input.id),
                changes=changes,
            )
            return PlacePayload(place=PlaceType.from_model(place))

        return await _as_me(info, PlacePayload, work)

    @strawberry.mutation(description="Delete one of the signed-in resident's places.")
    async def remove_place(self, info: KInfo, input: RemovePlaceInput) -> RemovePlacePayload:
        async def work(session: AsyncSession, resident: Resident) -> RemovePlacePayload:
            await service.remove_place(session, resident, decode_id("Place", input.id))
            return RemovePlacePayload(removed_id=input.id)

        return await _as_me(info, RemovePlacePayload, work)
