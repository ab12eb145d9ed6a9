"""GraphQL types of the portal."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from ..api.ids import encode_id
from . import service as portal_service
from .models import ServiceUsage
from .rules import Section, Shown


@strawberry.enum(description="Where a service appears in the portal.")
class PortalSectionKind(Enum):
    PREFECTURE = Section.PREFECTURE.value
    RESIDENCE = Section.RESIDENCE.value
    COMMUTE = Section.COMMUTE.value
    FOR_ME = Section.FOR_ME.value
    SELECTED = Section.SELECTED.value


@strawberry.type(name="PortalService", description="A service of the portal catalog.")
class PortalServiceType:
    id: strawberry.ID
    code: str
    name_ja: str
    name_en: str
    description_ja: str
    description_en: str
    category: str
    provider_kind: str = strawberry.field(description="prefecture, municipality or client")
    provider_client_id: str | None
    url: str = strawberry.field(description="Web URL or app deep link to open")
    owner_code: str = strawberry.field(description="Municipality (5 digits) or prefecture (2)")
    consent_purpose: str | None = strawberry.field(
        description="The consent purpose the service needs before it opens"
    )
    min_acr: str | None = strawberry.field(description="Minimum identity assurance (acr)")

    @classmethod
    def from_card(cls, card: portal_service.Card) -> PortalServiceType:
        return cls(
            id=strawberry.ID(encode_id("PortalService", card.id)),
            code=card.code,
            name_ja=card.name_ja,
            name_en=card.name_en,
            description_ja=card.description_ja,
            description_en=card.description_en,
            category=card.category,
            provider_kind=card.provider_kind,
            provider_client_id=card.provider_client_id,
            url=card.url,
            owner_code=card.owner_code,
            consent_purpose=card.consent_purpose,
            min_acr=card.min_acr,
        )


@strawberry.type(description="A service as shown to me, with why it is shown.")
class PortalItem:
    service: PortalServiceType
    reason_ja: str
    reason_en: str
    locked: bool = strawberry.field(
        description="My sign-in's identity assurance is below what the service needs"
    )
    lock_reason_ja: str | None
    lock_reason_en: str | None
    needs_consent: bool = strawberry.field(
        description="Opening it first shows its consent purpose's document (not given yet)"
    )

    @classmethod
    def from_shown(cls, shown: Shown, view: portal_service.PortalView) -> PortalItem:
        card = view.cards[shown.entry.id]
        lock = portal_service.lock_reason(card.min_acr) if shown.locked else None
        return cls(
            service=PortalServiceType.from_card(card),
            reason_ja=shown.reason_ja,
            reason_en=shown.reason_en,
            locked=shown.locked,
            lock_reason_ja=lock[0] if lock else None,
            lock_reason_en=lock[1] if lock else None,
            needs_consent=bool(card.consent_purpose)
            and card.consent_purpose not in view.consented_purposes,
        )


@strawberry.type(description="One section of my portal, ranked by priority and my recent use.")
class PortalSection:
    kind: PortalSectionKind
    items: list[PortalItem]


@strawberry.type(description="My portal.")
class Portal:
    sections: list[PortalSection]
    personalized: bool = strawberry.field(
        description='Whether my portal_personalization consent is active ("for me" shown)'
    )
    acr: str | None = strawberry.field(description="My sign-in's identity assurance (acr)")

    @classmethod
    def from_view(cls, view: portal_service.PortalView) -> Portal:
        return cls(
            sections=[
                PortalSection(
                    kind=PortalSectionKind(section.value),
                    items=[PortalItem.from_shown(s, view) for s in shown],
                )
                for section, shown in view.sections.items()
            ],
            personalized=view.personalized,
            acr=view.acr,
        )


@strawberry.type(description="A service I opened.")
class ServiceUsageType:
    id: strawberry.ID
    opened_at: datetime
    service: PortalServiceType

    @classmethod
    def of(cls, usage: ServiceUsage, card: portal_service.Card) -> ServiceUsageType:
        return cls(
            id=strawberry.ID(encode_id("ServiceUsage", usage.id)),
            opened_at=usage.opened_at,
            service=PortalServiceType.from_card(card),
        )


@strawberry.type(description="How often a service was opened (aggregates only).")
class ServiceUsageCount:
    service: PortalServiceType
    opens: int
    residents: int = strawberry.field(description="Distinct residents who opened it")
