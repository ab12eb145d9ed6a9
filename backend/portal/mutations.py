"""Portal mutations: admins save catalog services; residents open services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_principal, as_resident, sent
from ..consent.catalog_store import get_purpose
from ..errors import ValidationFailed
from ..principal import Principal, ResidentRef
from . import service
from .types import PortalServiceType, ServiceUsageType


@strawberry.input(description='Whom a service is for; any attribute rule makes it "for me".')
class AudienceInput:
    relations: list[str] | None = strawberry.field(
        default=None, description="home, workplace, school, child_school (default: all)"
    )
    min_age: int | None = None
    max_age: int | None = None
    household: list[str] | None = strawberry.field(
        default=None, description="child_under_6, school_age_child, lives_alone_65_plus"
    )
    languages: list[str] | None = None


@strawberry.input(description="A catalog service, created or replaced by its code.")
class SaveServiceInput:
    code: str
    owner: str = strawberry.field(description="Municipality code, or prefecture code (07)")
    name_ja: str
    name_en: str
    category: str
    url: str
    description_ja: str | None = None
    description_en: str | None = None
    provider_client_id: str | None = strawberry.field(
        default=None, description="A registered system client providing it (else the owner)"
    )
    municipalities: list[str] | None = strawberry.field(
        default=None, description="Municipalities offering it (default: the owner)"
    )
    audience: AudienceInput | None = None
    consent_purpose: str | None = None
    min_acr: str | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    priority: int = 0


@strawberry.type
class SaveServicePayload:
    service: PortalServiceType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="The service to open: its id or its code.")
class OpenServiceInput:
    service_id: strawberry.ID | None = None
    service_code: str | None = None


@strawberry.type(description="The consent a service needs before it opens.")
class ConsentNeeded:
    purpose: str
    label_ja: str
    label_en: str
    description_ja: str
    description_en: str
    text_version: str = strawberry.field(description="The consent document's version to show")
    client_id: str | None = strawberry.field(description="The service's system client, if any")


@strawberry.type
class OpenServicePayload:
    usage: ServiceUsageType | None = strawberry.field(
        default=None, description="The recorded use (null while a consent is needed)"
    )
    url: str | None = None
    consent_needed: ConsentNeeded | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _raw(input: SaveServiceInput) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "code": input.code,
        "owner": input.owner,
        "name_ja": input.name_ja,
        "name_en": input.name_en,
        "category": input.category,
        "url": input.url,
        "description_ja": input.description_ja,
        "description_en": input.description_en,
        "consent_purpose": input.consent_purpose,
        "min_acr": input.min_acr,
        "available_from": input.available_from,
        "available_until": input.available_until,
        "priority": input.priority,
    }
    if input.provider_client_id is not None:
        raw["provider"] = {"kind": "client", "client_id": input.provider_client_id}
    if input.municipalities is not None:
        raw["municipalities"] = input.municipalities
    if input.audience is not None:
        audience = {k: sent(v, None) for k, v in vars(input.audience).items()}
        raw["audience"] = {k: v for k, v in audience.items() if v is not None}
    return raw


@strawberry.type
class PortalMutations:
    @strawberry.mutation(
        description="Create or update a catalog service (municipal admins: their own; "
        "prefecture admins: prefecture-wide ones)."
    )
    async def save_portal_service(self, info: KInfo, input: SaveServiceInput) -> SaveServicePayload:
        async def work(session: AsyncSession, principal: Principal) -> SaveServicePayload:
            row = await service.save_service(session, principal, _raw(input))
            return SaveServicePayload(service=PortalServiceType.from_card(service._card(row)))

        return await as_principal(info, SaveServicePayload, work)

    @strawberry.mutation(
        description="Open a service: records my use, or names the consent it needs first."
    )
    async def open_service(self, info: KInfo, input: OpenServiceInput) -> OpenServicePayload:
        principal = info.context.principal

        async def work(session: AsyncSession, resident: ResidentRef) -> OpenServicePayload:
            if (input.service_id is None) == (input.service_code is None):
                raise ValidationFailed(
                    "give serviceId or serviceCode",
                    "serviceId か serviceCode のどちらかを指定してください",
                    field="serviceId",
                )
            service_id = (
                decode_id("PortalService", input.service_id, field="serviceId")
                if input.service_id is not None
                else None
            )
            opened = await service.open_service(
                session, principal, resident, service_id=service_id, code=input.service_code
            )
            if opened.usage is None:
                purpose = await get_purpose(session, opened.consent_purpose or "")
                return OpenServicePayload(
                    consent_needed=ConsentNeeded(
                        purpose=purpose.code,
                        label_ja=purpose.label_ja,
                        label_en=purpose.label_en,
                        description_ja=purpose.description_ja,
                        description_en=purpose.description_en,
                        text_version=purpose.text_version,
                        client_id=opened.card.provider_client_id,
                    )
                )
            return OpenServicePayload(
                usage=ServiceUsageType.of(opened.usage, opened.card), url=opened.card.url
            )

        return await as_resident(info, OpenServicePayload, work)
