"""GraphQL types of the consent catalog, grants, requests and the access log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ..api.context import KInfo
from ..api.errors import ErrorInterface
from ..api.ids import encode_id
from ..api.scalars import JSONValue
from .catalog import LegalBasis, RecipientKind
from .catalog_store import CatalogView
from .enforcement import PersonalData
from .loaders import system_client_loader
from .models import (
    Bundle,
    ConsentEvent,
    ConsentGrant,
    ConsentRequest,
    DataAccess,
    DataItem,
    Purpose,
    SystemClient,
)
from .providers import Relationship
from .service import GrantView

if TYPE_CHECKING:
    RecipientKindType = RecipientKind
    LegalBasisType = LegalBasis
else:
    RecipientKindType = strawberry.enum(RecipientKind, name="ConsentRecipientKind")
    LegalBasisType = strawberry.enum(LegalBasis, name="LegalBasis")


@strawberry.type(name="ConsentDataItem")
class DataItemType:
    code: str
    label_ja: str
    label_en: str
    sensitive: bool
    available: bool = strawberry.field(
        description="false while no capability of this server keeps the item (it cannot be "
        "consented to until one does)"
    )

    @classmethod
    def from_model(cls, item: DataItem, *, available: bool) -> DataItemType:
        return cls(
            code=item.code,
            label_ja=item.label_ja,
            label_en=item.label_en,
            sensitive=item.sensitive,
            available=available,
        )


@strawberry.type(
    name="ConsentRelationship",
    description="A relationship data can flow through (family, town-association leaders, ...).",
)
class RelationshipType:
    code: str = strawberry.field(description="Used as `recipient.role` when granting")
    label_ja: str
    label_en: str

    @classmethod
    def from_relationship(cls, relationship: Relationship) -> RelationshipType:
        return cls(
            code=relationship.code,
            label_ja=relationship.label_ja,
            label_en=relationship.label_en,
        )


@strawberry.type(name="ConsentPurpose")
class PurposeType:
    code: str
    label_ja: str
    label_en: str
    description_ja: str
    description_en: str
    item_codes: list[str] = strawberry.field(description="Items this purpose may cover")
    recipients: list[str] = strawberry.field(
        description="Relationship codes, 'system_client' or 'person' this purpose may go to"
    )
    text_version: str = strawberry.field(
        description="Version of the consent text to show; grantConsent must name it"
    )

    @classmethod
    def from_model(cls, purpose: Purpose) -> PurposeType:
        return cls(
            code=purpose.code,
            label_ja=purpose.label_ja,
            label_en=purpose.label_en,
            description_ja=purpose.description_ja,
            description_en=purpose.description_en,
            item_codes=list(purpose.items),
            recipients=list(purpose.recipients),
            text_version=purpose.text_version,
        )


@strawberry.type(name="ConsentFlow", description="One flow of a bundle: these items to this role.")
class FlowType:
    recipient_role: str = strawberry.field(description="A relationship code, e.g. family")
    item_codes: list[str]


@strawberry.type(name="ConsentBundle", description="Several flows accepted as one benefit.")
class BundleType:
    code: str
    purpose_code: str
    label_ja: str
    label_en: str
    description_ja: str
    description_en: str
    text_version: str
    flows: list[FlowType]
    available: bool = strawberry.field(
        description="false while some flow names an item or relationship nothing provides yet"
    )

    @classmethod
    def from_model(cls, bundle: Bundle, *, available: bool) -> BundleType:
        return cls(
            code=bundle.code,
            purpose_code=bundle.purpose_code,
            label_ja=bundle.label_ja,
            label_en=bundle.label_en,
            description_ja=bundle.description_ja,
            description_en=bundle.description_en,
            text_version=bundle.text_version,
            flows=[
                FlowType(recipient_role=f["recipient_role"], item_codes=f["items"])
                for f in bundle.flows
            ],
            available=available,
        )


@strawberry.type(name="ConsentCatalog")
class CatalogType:
    items: list[DataItemType]
    purposes: list[PurposeType]
    bundles: list[BundleType]
    relationships: list[RelationshipType] = strawberry.field(
        description="Relationships this server can confirm (recipient roles that can be chosen)"
    )

    @classmethod
    def from_view(cls, view: CatalogView) -> CatalogType:
        return cls(
            items=[
                DataItemType.from_model(i, available=view.item_available(i.code))
                for i in view.items
            ],
            purposes=[PurposeType.from_model(p) for p in view.purposes],
            bundles=[
                BundleType.from_model(b, available=view.bundle_available(b)) for b in view.bundles
            ],
            relationships=[RelationshipType.from_relationship(r) for r in view.relationships],
        )


@strawberry.type(name="ConsentRecipient")
class RecipientType:
    kind: RecipientKindType
    role: str | None = strawberry.field(description="Relationship code, for kind ROLE")
    client_id: str | None
    person_id: strawberry.ID | None = strawberry.field(description="Resident id of a named person")
    relationship: str | None = strawberry.field(
        description="For a named person: the relationship they were named through; the consent "
        "ends when it does"
    )


@strawberry.type(name="Consent", description="One flow the resident agreed to.")
class ConsentType:
    id: strawberry.ID
    acceptance_id: strawberry.ID = strawberry.field(
        description="Shared by all flows accepted together (a bundle)"
    )
    purpose_code: str
    recipient: RecipientType
    item_codes: list[str]
    bundle_code: str | None
    valid_from: datetime
    valid_until: datetime | None
    proxy_role: str | None
    legal_basis: LegalBasisType
    text_version: str
    created_at: datetime
    active: bool
    revoked: bool

    @classmethod
    def from_grant(cls, grant: ConsentGrant, *, active: bool, revoked: bool) -> ConsentType:
        return cls(
            id=strawberry.ID(encode_id("Consent", grant.id)),
            acceptance_id=strawberry.ID(grant.acceptance_id.hex),
            purpose_code=grant.purpose_code,
            recipient=RecipientType(
                kind=RecipientKind(grant.recipient_kind),
                role=grant.recipient_role,
                client_id=grant.recipient_client_id,
                person_id=(
                    strawberry.ID(encode_id("Resident", grant.recipient_resident_id))
                    if grant.recipient_resident_id
                    else None
                ),
                relationship=grant.recipient_relationship,
            ),
            item_codes=list(grant.items),
            bundle_code=grant.bundle_code,
            valid_from=grant.valid_from,
            valid_until=grant.valid_until,
            proxy_role=grant.proxy_role,
            legal_basis=LegalBasis(grant.legal_basis),
            text_version=grant.text_version,
            created_at=grant.created_at,
            active=active,
            revoked=revoked,
        )

    @classmethod
    def from_view(cls, view: GrantView) -> ConsentType:
        return cls.from_grant(view.grant, active=view.active, revoked=view.revoked)


@strawberry.type(name="ConsentEvent", description="An entry of the append-only consent history.")
class ConsentEventType:
    id: strawberry.ID
    kind: str = strawberry.field(description="granted, revoked or declined")
    purpose_code: str
    consent_id: strawberry.ID | None
    request_id: strawberry.ID | None
    actor: str
    via_client: str | None
    ip_address: str | None
    user_agent: str | None
    at: datetime

    @classmethod
    def from_model(cls, event: ConsentEvent) -> ConsentEventType:
        return cls(
            id=strawberry.ID(encode_id("ConsentEvent", event.id)),
            kind=event.kind,
            purpose_code=event.purpose_code,
            consent_id=strawberry.ID(encode_id("Consent", event.grant_id))
            if event.grant_id
            else None,
            request_id=(
                strawberry.ID(encode_id("ConsentRequest", event.request_id))
                if event.request_id
                else None
            ),
            actor=event.actor,
            via_client=event.via_client,
            ip_address=event.ip_address,
            user_agent=event.user_agent,
            at=event.at,
        )


@strawberry.type(name="SystemClient", description="A registered city-OS service.")
class SystemClientType:
    client_id: str
    name_ja: str
    name_en: str
    municipality_code: str
    purposes: list[str]
    active: bool

    @classmethod
    def from_model(cls, client: SystemClient) -> SystemClientType:
        return cls(
            client_id=client.client_id,
            name_ja=client.name_ja,
            name_en=client.name_en,
            municipality_code=client.municipality_code,
            purposes=list(client.purposes),
            active=client.active,
        )


@strawberry.type(name="ConsentRequest", description="A service asks for your consent.")
class ConsentRequestType:
    id: strawberry.ID
    purpose_code: str
    requester_client_id: str
    item_codes: list[str]
    message: str | None
    valid_until: datetime | None
    status: str
    created_at: datetime

    @strawberry.field(description="The service asking, with the names it was registered under")
    async def requester(self, info: KInfo) -> SystemClientType | None:
        client = await info.context.loader("system_client", system_client_loader).load(
            self.requester_client_id
        )
        return SystemClientType.from_model(client) if client else None

    @classmethod
    def from_model(cls, request: ConsentRequest) -> ConsentRequestType:
        return cls(
            id=strawberry.ID(encode_id("ConsentRequest", request.id)),
            purpose_code=request.purpose_code,
            requester_client_id=request.requester_client_id,
            item_codes=list(request.items),
            message=request.message,
            valid_until=request.valid_until,
            status=request.status,
            created_at=request.created_at,
        )


@strawberry.type(name="DataAccess", description="Someone read your data: who, what, why, when.")
class DataAccessType:
    id: strawberry.ID
    viewer_kind: str = strawberry.field(description="resident or system_client")
    viewer_subject: str | None
    viewer_client_id: str | None
    relationship: str = strawberry.field(description="family, community, city_staff, ...")
    purpose_code: str
    item_codes: list[str]
    via_client: str | None
    accessed_at: datetime
    legal_basis: str | None = strawberry.field(
        description="Set when a law allowed the read without your consent (e.g. "
        "disaster_register: the support-needed register given to supporters in a declared "
        "disaster)"
    )

    @classmethod
    def from_model(cls, row: DataAccess) -> DataAccessType:
        return cls(
            id=strawberry.ID(encode_id("DataAccess", row.id)),
            viewer_kind=row.viewer_kind,
            viewer_subject=row.viewer_subject,
            viewer_client_id=row.viewer_client_id,
            relationship=row.relationship,
            purpose_code=row.purpose_code,
            item_codes=list(row.items),
            via_client=row.via_client,
            accessed_at=row.accessed_at,
            legal_basis=next(
                (r.removeprefix("law:") for r in row.relationship.split(",") if r[:4] == "law:"),
                None,
            ),
        )


@strawberry.type(name="DataItemValue")
class DataItemValueType:
    item: str
    value: JSONValue | None


@strawberry.type(name="PersonalData", description="The items of a person you may read.")
class PersonalDataType:
    subject_id: strawberry.ID
    purpose_code: str
    items: list[DataItemValueType]
    refused_items: list[str] = strawberry.field(
        description="Requested items no consent covers for you (not permitted)"
    )
    relationships: list[str]

    @classmethod
    def from_result(cls, data: PersonalData) -> PersonalDataType:
        return cls(
            subject_id=strawberry.ID(encode_id("Resident", data.subject_id)),
            purpose_code=data.purpose,
            items=[DataItemValueType(item=k, value=v) for k, v in data.values.items()],
            refused_items=data.refused,
            relationships=data.relationships,
        )


@strawberry.type(name="AccessDenied", description="Nothing of this person may be read by you.")
class AccessDeniedType(ErrorInterface):
    pass


PersonalDataResult = Annotated[
    PersonalDataType | AccessDeniedType, strawberry.union("PersonalDataResult")
]
