"""Resident mutations: profile and places."""

from __future__ import annotations

from datetime import date

import strawberry

from ..api.context import KInfo
from ..api.errors import UserError, user_errors
from ..api.ids import decode_id
from ..errors import DomainError
from . import service
from .types import GenderType, LanguageType, MeType, PlaceKindType, PlaceType

UNSET = strawberry.UNSET


def _sent(value: object) -> object:
    return service.UNSET if value is UNSET else value


@strawberry.input(description="Fields to change; omitted fields stay, null clears.")
class UpdateProfileInput:
    display_name: str | None = UNSET
    family_name: str | None = UNSET
    given_name: str | None = UNSET
    family_name_kana: str | None = UNSET
    given_name_kana: str | None = UNSET
    birth_date: date | None = UNSET
    gender: GenderType | None = UNSET  # type: ignore[valid-type]
    phone: str | None = UNSET
    address: str | None = UNSET
    preferred_language: LanguageType | None = UNSET  # type: ignore[valid-type]
    municipality_code: str | None = strawberry.field(
        default=UNSET,
        description="Choose the home municipality explicitly; null derives it from the home place.",
    )


@strawberry.type
class UpdateProfilePayload:
    me: MeType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AddPlaceInput:
    kind: PlaceKindType  # type: ignore[valid-type]
    label: str
    latitude: float
    longitude: float
    address: str | None = None


@strawberry.input(description="Fields to change; omitted fields stay.")
class UpdatePlaceInput:
    id: strawberry.ID
    kind: PlaceKindType | None = UNSET  # type: ignore[valid-type]
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


@strawberry.type
class ResidentMutations:
    @strawberry.mutation(description="Update the signed-in resident's profile.")
    async def update_profile(self, info: KInfo, input: UpdateProfileInput) -> UpdateProfilePayload:
        resident = await info.context.resident()
        changes = service.ProfileChanges(
            **{name: _sent(getattr(input, name)) for name in service.ProfileChanges.__slots__}
        )
        try:
            async with info.context.db.transaction() as session:
                await service.update_profile(session, resident, changes=changes)
        except DomainError as exc:
            return UpdateProfilePayload(errors=user_errors(exc))
        return UpdateProfilePayload(me=MeType.from_model(await info.context.resident()))

    @strawberry.mutation(description="Save a new place for the signed-in resident.")
    async def add_place(self, info: KInfo, input: AddPlaceInput) -> PlacePayload:
        resident = await info.context.resident()
        try:
            async with info.context.db.transaction() as session:
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
        except DomainError as exc:
            return PlacePayload(errors=user_errors(exc))
        return PlacePayload(place=PlaceType.from_model(place))

    @strawberry.mutation(description="Change one of the signed-in resident's places.")
    async def update_place(self, info: KInfo, input: UpdatePlaceInput) -> PlacePayload:
        resident = await info.context.resident()
        try:
            place_id = decode_id("Place", input.id)
            changes = service.PlaceChanges(
                kind=_sent(input.kind),
                label=_sent(input.label),
                latitude=_sent(input.latitude),
                longitude=_sent(input.longitude),
                address=_sent(input.address),
            )
            async with info.context.db.transaction() as session:
                place = await service.update_place(
                    session, info.context.settings, resident, place_id, changes=changes
                )
        except DomainError as exc:
            return PlacePayload(errors=user_errors(exc))
        return PlacePayload(place=PlaceType.from_model(place))

    @strawberry.mutation(description="Delete one of the signed-in resident's places.")
    async def remove_place(self, info: KInfo, input: RemovePlaceInput) -> RemovePlacePayload:
        resident = await info.context.resident()
        try:
            place_id = decode_id("Place", input.id)
            async with info.context.db.transaction() as session:
                await service.remove_place(session, resident, place_id)
        except DomainError as exc:
            return RemovePlacePayload(errors=user_errors(exc))
        return RemovePlacePayload(removed_id=input.id)
