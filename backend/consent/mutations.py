"""Consent mutations: grant, bundle-grant, revoke, answer requests; clients request consent."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_principal, as_resident
from ..errors import Checker
from ..principal import Principal, ResidentRef
from . import service
from .catalog import LegalBasis, RecipientKind
from .providers import providers
from .types import (
    ConsentRequestType,
    ConsentType,
    LegalBasisType,
    RecipientKindType,
    SystemClientType,
)

FAMILY = "family"


@strawberry.input(description="Who receives the data.")
class RecipientInput:
    kind: RecipientKindType
    role: str | None = strawberry.field(
        default=None,
        description="For kind ROLE: a relationship code of `consentCatalog.relationships`",
    )
    client_id: str | None = None
    family_member_id: strawberry.ID | None = strawberry.field(
        default=None, description="A named person: one of your family members (FamilyMember id)"
    )
    person_relationship: str | None = strawberry.field(
        default=None,
        description="A named person other than family: the relationship you name them "
        "through (e.g. care_manager), with personReference",
    )
    person_reference: str | None = strawberry.field(
        default=None,
        description="How you name them for that relationship (for care_manager: your care "
        "manager's regional-ID subject)",
    )


@strawberry.input
class GrantConsentInput:
    purpose: str
    recipient: RecipientInput
    items: list[str]
    text_version: str = strawberry.field(
        description="Version of the consent text you were shown (the purpose's `textVersion`)"
    )
    valid_until: datetime | None = None
    proxy_role: str | None = strawberry.field(
        default=None, description="When the recipient acts for you as a proxy (代理人)"
    )
    legal_basis: LegalBasisType = LegalBasis.CONSENT


@strawberry.input
class GrantBundledConsentInput:
    bundle: str


@strawberry.input
class RevokeConsentInput:
    consent_id: strawberry.ID
    whole_acceptance: bool = strawberry.field(
        default=True, description="Also revoke the other flows accepted together (a bundle)"
    )


@strawberry.input
class AnswerConsentRequestInput:
    request_id: strawberry.ID
    accept: bool


@strawberry.input
class RequestConsentInput:
    subject: str = strawberry.field(description="The resident's regional-ID subject")
    purpose: str
    items: list[str]
    message: str | None = None
    valid_until: datetime | None = None


@strawberry.input
class RegisterSystemClientInput:
    client_id: str
    name_ja: str
    name_en: str
    municipality_code: str
    purposes: list[str]


@strawberry.type
class ConsentPayload:
    consents: list[ConsentType] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AnswerConsentRequestPayload:
    request: ConsentRequestType | None = None
    consent: ConsentType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RequestConsentPayload:
    request: ConsentRequestType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RegisterSystemClientPayload:
    client: SystemClientType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _recipient(
    session: AsyncSession, resident: ResidentRef, value: RecipientInput
) -> service.Recipient:
    kind = RecipientKind(value.kind)
    checker = Checker()
    if kind is RecipientKind.ROLE:
        if not value.role:
            checker.add("recipient.role", "role is required", "提供先を指定してください")
        checker.raise_if_any()
        return service.Recipient(kind, role=(value.role or "").strip().lower())
    if kind is RecipientKind.SYSTEM_CLIENT:
        if not value.client_id:
            checker.add("recipient.clientId", "clientId is required", "サービスを指定してください")
        checker.raise_if_any()
        return service.Recipient(kind, client_id=value.client_id)
    if value.family_member_id is None and value.person_relationship is not None:
        relationship = value.person_relationship.strip().lower()
        if not providers.can_name_persons_through(relationship):
            checker.add(
                "recipient.personRelationship",
                f"nobody can be named through {relationship!r}",
                "この関係で相手を指定することはできません",
            )
        if not value.person_reference:
            checker.add(
                "recipient.personReference", "personReference is required", "相手を指定してください"
            )
        checker.raise_if_any()
        return await service.named_person(
            session,
            resident,
            relationship=relationship,
            reference=str(value.person_reference),
            field="recipient.personReference",
        )
    if value.family_member_id is None:
        checker.add(
            "recipient.familyMemberId", "familyMemberId is required", "相手を指定してください"
        )
        checker.raise_if_any()
    return await service.named_person(
        session,
        resident,
        relationship=FAMILY,
        reference=str(value.family_member_id),
        field="recipient.familyMemberId",
    )


@strawberry.type
class ConsentMutations:
    @strawberry.mutation(description="Consent to one flow: these items, to this recipient.")
    async def grant_consent(self, info: KInfo, input: GrantConsentInput) -> ConsentPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> ConsentPayload:
            grant = await service.grant_consent(
                session,
                resident,
                purpose_code=input.purpose,
                recipient=await _recipient(session, resident, input.recipient),
                items=input.items,
                meta=info.context.request_meta(),
                text_version=input.text_version,
                valid_until=input.valid_until,
                proxy_role=input.proxy_role,
                legal_basis=LegalBasis(input.legal_basis),
            )
            return ConsentPayload(
                consents=[ConsentType.from_grant(grant, active=True, revoked=False)]
            )

        return await as_resident(info, ConsentPayload, work)

    @strawberry.mutation(description="Accept a bundled consent; it is stored flow by flow.")
    async def grant_bundled_consent(
        self, info: KInfo, input: GrantBundledConsentInput
    ) -> ConsentPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> ConsentPayload:
            grants = await service.grant_bundle(
                session, resident, bundle_code=input.bundle, meta=info.context.request_meta()
            )
            return ConsentPayload(
                consents=[ConsentType.from_grant(g, active=True, revoked=False) for g in grants]
            )

        return await as_resident(info, ConsentPayload, work)

    @strawberry.mutation(description="Revoke a consent; the very next read is refused.")
    async def revoke_consent(self, info: KInfo, input: RevokeConsentInput) -> ConsentPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> ConsentPayload:
            grants = await service.revoke_consent(
                session,
                resident,
                grant_id=decode_id("Consent", input.consent_id, field="consentId"),
                meta=info.context.request_meta(),
                whole_acceptance=input.whole_acceptance,
            )
            return ConsentPayload(
                consents=[ConsentType.from_grant(g, active=False, revoked=True) for g in grants]
            )

        return await as_resident(info, ConsentPayload, work)

    @strawberry.mutation(description="Accept or decline a service's consent request.")
    async def answer_consent_request(
        self, info: KInfo, input: AnswerConsentRequestInput
    ) -> AnswerConsentRequestPayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> AnswerConsentRequestPayload:
            request, grant = await service.answer_request(
                session,
                resident,
                request_id=decode_id("ConsentRequest", input.request_id, field="requestId"),
                accept=input.accept,
                meta=info.context.request_meta(),
            )
            return AnswerConsentRequestPayload(
                request=ConsentRequestType.from_model(request),
                consent=(
                    ConsentType.from_grant(grant, active=True, revoked=False) if grant else None
                ),
            )

        return await as_resident(info, AnswerConsentRequestPayload, work)

    @strawberry.mutation(
        description="A system client asks a resident for consent. A resident who has not "
        "signed in yet gets the request when they do; the answer is the same either way."
    )
    async def request_consent(
        self, info: KInfo, input: RequestConsentInput
    ) -> RequestConsentPayload:
        async def work(session: AsyncSession, principal: Principal) -> RequestConsentPayload:
            request = await service.request_consent(
                session,
                principal,
                subject=input.subject,
                purpose_code=input.purpose,
                items=input.items,
                message=input.message,
                valid_until=input.valid_until,
            )
            return RequestConsentPayload(request=ConsentRequestType.from_model(request))

        return await as_principal(info, RequestConsentPayload, work)

    @strawberry.mutation(description="Register a system client for your municipality (admins).")
    async def register_system_client(
        self, info: KInfo, input: RegisterSystemClientInput
    ) -> RegisterSystemClientPayload:
        async def work(session: AsyncSession, principal: Principal) -> RegisterSystemClientPayload:
            client = await service.register_system_client(
                session,
                principal,
                client_id=input.client_id,
                name_ja=input.name_ja,
                name_en=input.name_en,
                municipality_code=input.municipality_code,
                purposes=input.purposes,
            )
            return RegisterSystemClientPayload(client=SystemClientType.from_model(client))

        return await as_principal(info, RegisterSystemClientPayload, work)
