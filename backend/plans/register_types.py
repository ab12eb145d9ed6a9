"""GraphQL types of the support-needed register (避難行動要支援者名簿)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

import strawberry

from ..api.ids import encode_id
from .models import RegisterConsent, SupportRegisterEntry
from .register import ReasonKind, reasons_from_json

if TYPE_CHECKING:
    RegisterConsentEnum = RegisterConsent
    SupportReasonKindEnum = ReasonKind
else:
    RegisterConsentEnum = strawberry.enum(
        RegisterConsent,
        name="RegisterConsentStatus",
        description="Whether the person agreed to their entry reaching supporters before a "
        "disaster (同意 / 不同意 / 未回答).",
    )
    SupportReasonKindEnum = strawberry.enum(
        ReasonKind, name="SupportReasonKind", description="Why a person needs support."
    )


def entry_gid(entry_id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(encode_id("SupportRegisterEntry", entry_id))


@strawberry.type(name="SupportReason", description="One reason for support and its grade.")
class SupportReasonType:
    kind: SupportReasonKindEnum
    value: str | None = strawberry.field(
        description="要介護3, 2級, A1, a disease's name, a note; null for a plain yes"
    )


@strawberry.type(
    name="SupportRegisterEntry",
    description="One person on the municipality's register of people who need support to "
    "evacuate, as the municipality keeps it (its staff only, or the person once linked).",
)
class SupportRegisterEntryType:
    id: strawberry.ID
    municipality_code: str
    register_number: str = strawberry.field(description="名簿番号, the municipality's own")
    name: str
    kana: str | None = strawberry.field(description="ふりがな, in hiragana")
    birth_date: date | None
    gender: str | None = strawberry.field(description="male, female or other")
    address: str | None
    phone: str | None
    care_level: str | None = strawberry.field(description="要支援1-2 or 要介護1-5")
    physical_disability_grade: int | None = strawberry.field(description="身体障害者手帳 1-6級")
    intellectual_disability: str | None = strawberry.field(description="療育手帳 A, B, A1-B2")
    mental_disability_grade: int | None = strawberry.field(
        description="精神障害者保健福祉手帳 1-3級"
    )
    intractable_disease: bool = strawberry.field(description="難病")
    intractable_disease_name: str | None
    elderly_alone: bool = strawberry.field(description="独居高齢者")
    elderly_household: bool = strawberry.field(description="高齢者のみ世帯")
    other_reason: str | None = strawberry.field(description="その他の理由")
    reasons: list[SupportReasonType] = strawberry.field(description="Every reason, in order")
    consent_status: RegisterConsentEnum
    resident_id: strawberry.ID | None = strawberry.field(
        description="The linked resident (opaque id); null until linked"
    )
    linked_at: datetime | None
    suggested_resident_id: strawberry.ID | None = strawberry.field(
        description="Staff lists: the one resident of the municipality whose name (or kana) "
        "and birth date match this unlinked entry; confirm with linkSupportRegisterEntry"
    )
    updated_at: datetime

    @classmethod
    def from_model(
        cls, entry: SupportRegisterEntry, suggested: uuid.UUID | None = None
    ) -> SupportRegisterEntryType:
        reasons = {r.kind: r.value for r in reasons_from_json(entry.reasons)}
        return cls(
            id=entry_gid(entry.id),
            municipality_code=entry.municipality_code,
            register_number=entry.register_number,
            name=entry.name,
            kana=entry.kana,
            birth_date=entry.birth_date,
            gender=entry.gender,
            address=entry.address,
            phone=entry.phone,
            care_level=reasons.get(ReasonKind.CARE_LEVEL),
            physical_disability_grade=_grade(reasons.get(ReasonKind.PHYSICAL_DISABILITY)),
            intellectual_disability=reasons.get(ReasonKind.INTELLECTUAL_DISABILITY),
            mental_disability_grade=_grade(reasons.get(ReasonKind.MENTAL_DISABILITY)),
            intractable_disease=ReasonKind.INTRACTABLE_DISEASE in reasons,
            intractable_disease_name=reasons.get(ReasonKind.INTRACTABLE_DISEASE),
            elderly_alone=ReasonKind.ELDERLY_ALONE in reasons,
            elderly_household=ReasonKind.ELDERLY_HOUSEHOLD in reasons,
            other_reason=reasons.get(ReasonKind.OTHER),
            reasons=[
                SupportReasonType(kind=ReasonKind(k), value=v)
                for k, v in reasons.items()
                if k in ReasonKind._value2member_map_
            ],
            consent_status=RegisterConsent(entry.consent_status),
            resident_id=(
                strawberry.ID(encode_id("Resident", entry.resident_id))
                if entry.resident_id
                else None
            ),
            linked_at=entry.linked_at,
            suggested_resident_id=(
                strawberry.ID(encode_id("Resident", suggested)) if suggested else None
            ),
            updated_at=entry.updated_at,
        )


def _grade(value: str | None) -> int | None:
    return int(value.removesuffix("級")) if value else None
