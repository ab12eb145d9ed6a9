"""Mutations of the support-needed register: staff add, edit, link and unlink entries."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_viewer, sent
from ..principal import Viewer
from . import register_service as service
from .register_types import RegisterConsentEnum, SupportRegisterEntryType

_FIELDS = (
    "register_number",
    "name",
    "kana",
    "birth_date",
    "gender",
    "address",
    "phone",
    "care_level",
    "physical_disability_grade",
    "intellectual_disability",
    "mental_disability_grade",
    "intractable_disease",
    "intractable_disease_name",
    "elderly_alone",
    "elderly_household",
    "other_reason",
    "consent_status",
)


@strawberry.input(description="Fields of an entry; omitted ones stay as they are, null clears.")
class SupportRegisterFields:
    register_number: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    kana: str | None = strawberry.UNSET
    birth_date: date | None = strawberry.UNSET
    gender: str | None = strawberry.field(
        default=strawberry.UNSET, description="男/女/その他 or male/female/other"
    )
    address: str | None = strawberry.UNSET
    phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="Digits and hyphens, 10 or 11 digits"
    )
    care_level: str | None = strawberry.field(
        default=strawberry.UNSET, description="要支援1-2 or 要介護1-5"
    )
    physical_disability_grade: int | None = strawberry.field(
        default=strawberry.UNSET, description="身体障害者手帳 1-6"
    )
    intellectual_disability: str | None = strawberry.field(
        default=strawberry.UNSET, description="療育手帳 A, B, A1, A2, B1 or B2"
    )
    mental_disability_grade: int | None = strawberry.field(
        default=strawberry.UNSET, description="精神障害者保健福祉手帳 1-3"
    )
    intractable_disease: bool | None = strawberry.UNSET
    intractable_disease_name: str | None = strawberry.field(
        default=strawberry.UNSET, description="The disease (implies intractableDisease)"
    )
    elderly_alone: bool | None = strawberry.UNSET
    elderly_household: bool | None = strawberry.UNSET
    other_reason: str | None = strawberry.UNSET
    consent_status: RegisterConsentEnum | None = strawberry.UNSET


def _changes(fields: Any) -> service.EntryChanges:
    return service.EntryChanges(
        **{name: sent(getattr(fields, name), service.KEEP) for name in _FIELDS}
    )


@strawberry.input
class CreateSupportRegisterEntryInput(SupportRegisterFields):
    municipality_code: str


@strawberry.input
class UpdateSupportRegisterEntryInput(SupportRegisterFields):
    entry_id: strawberry.ID


@strawberry.input
class LinkSupportRegisterEntryInput:
    entry_id: strawberry.ID
    resident_subject: str | None = strawberry.field(
        default=None, description="The resident's regional-ID subject"
    )
    resident_id: strawberry.ID | None = strawberry.field(
        default=None, description="Or their id (e.g. an entry's suggestedResidentId)"
    )


@strawberry.input
class UnlinkSupportRegisterEntryInput:
    entry_id: strawberry.ID


@strawberry.type
class SupportRegisterEntryPayload:
    entry: SupportRegisterEntryType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _entry_id(value: strawberry.ID) -> Any:
    return decode_id("SupportRegisterEntry", value, field="entryId")


@strawberry.type
class SupportRegisterMutations:
    @strawberry.mutation(description="City staff: add one person to your municipality's register.")
    async def create_support_register_entry(
        self, info: KInfo, input: CreateSupportRegisterEntryInput
    ) -> SupportRegisterEntryPayload:
        async def work(session: AsyncSession, viewer: Viewer) -> SupportRegisterEntryPayload:
            entry = await service.create_entry(
                session,
                viewer,
                municipality_code=input.municipality_code,
                changes=_changes(input),
            )
            return SupportRegisterEntryPayload(entry=SupportRegisterEntryType.from_model(entry))

        return await as_viewer(info, SupportRegisterEntryPayload, work)

    @strawberry.mutation(
        description="City staff: change an entry's fields, checked as an import checks them."
    )
    async def update_support_register_entry(
        self, info: KInfo, input: UpdateSupportRegisterEntryInput
    ) -> SupportRegisterEntryPayload:
        async def work(session: AsyncSession, viewer: Viewer) -> SupportRegisterEntryPayload:
            entry = await service.update_entry(
                session,
                viewer,
                entry_id=_entry_id(input.entry_id),
                changes=_changes(input),
                meta=info.context.request_meta(),
            )
            return SupportRegisterEntryPayload(entry=SupportRegisterEntryType.from_model(entry))

        return await as_viewer(info, SupportRegisterEntryPayload, work)

    @strawberry.mutation(
        description="City staff: tie an entry to the resident it describes (a resident of "
        "the same municipality, with no other entry)."
    )
    async def link_support_register_entry(
        self, info: KInfo, input: LinkSupportRegisterEntryInput
    ) -> SupportRegisterEntryPayload:
        async def work(session: AsyncSession, viewer: Viewer) -> SupportRegisterEntryPayload:
            entry = await service.link_entry(
                session,
                viewer,
                entry_id=_entry_id(input.entry_id),
                resident_id=(
                    decode_id("Resident", input.resident_id, field="residentId")
                    if input.resident_id
                    else None
                ),
                resident_subject=input.resident_subject,
                meta=info.context.request_meta(),
            )
            return SupportRegisterEntryPayload(entry=SupportRegisterEntryType.from_model(entry))

        return await as_viewer(info, SupportRegisterEntryPayload, work)

    @strawberry.mutation(description="City staff: undo a link (the entry is again nobody's).")
    async def unlink_support_register_entry(
        self, info: KInfo, input: UnlinkSupportRegisterEntryInput
    ) -> SupportRegisterEntryPayload:
        async def work(session: AsyncSession, viewer: Viewer) -> SupportRegisterEntryPayload:
            entry = await service.unlink_entry(session, viewer, entry_id=_entry_id(input.entry_id))
            return SupportRegisterEntryPayload(entry=SupportRegisterEntryType.from_model(entry))

        return await as_viewer(info, SupportRegisterEntryPayload, work)
