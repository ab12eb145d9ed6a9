"""Consent mutations: grant, bundle-grant, revoke, answer requests; clients request consent."""

from __future__ import annotations

from datetime import datetime

import strawberry

from ..api.context import KInfo
from ..api.errors import UserError, user_errors
from ..api.ids import decode_id
from ..errors import Checker, DomainError, NotFound
from ..family import service as family_service
from . import service
from .catalog import LegalBasis, RecipientKind, RecipientRole
from .types import (
    ConsentRequestType,
    ConsentType,
    LegalBasisType,
    RecipientKindType,
    RecipientRoleType,
)


@strawberry.input(description="Who receives the data.")
class RecipientInput:
    kind: RecipientKindType  # type: ignore[valid-type]
    role: RecipientRoleType | None = None  # type: ignore[valid-type]
    client_id: str | None = None
    family_member_id: strawberry.ID | None = strawberry.field(
        default=None, description="A named person: one of your family members (FamilyMember id)"
    )


@strawberry.input
class GrantConsentInput:
    purpose: str
    recipient: RecipientInput
    items: list[str]
    text_version: str = strawberry.field(description="Version of the consent text you were shown")
    valid_until: datetime | None = None
    proxy_role: str | None = strawberry.field(
        default=None, description="When the recipient acts for you as a proxy (代理人)"
    )
    legal_basis: LegalBasisType = LegalBasis.CONSENT  # type: ignore[valid-type]


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


@strawberry.type(name="SystemClient")
class SystemClientType:
    client_id: str
    name_ja: str
    name_en: str
    municipality_code: str
    purposes: list[str]
    active: bool


@strawberry.type
class RegisterSystemClientPayload:
    client: SystemClientType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


async def _recipient(info: KInfo, session: object, value: RecipientInput) -> service.Recipient:
    kind = RecipientKind(value.kind)
    checker = Checker()
    if kind is RecipientKind.ROLE:
        if value.role is None:
            checker.add("recipient.role", "role is required", "提供先の役割を指定してください")
        checker.raise_if_any()
        return service.Recipient(kind, role=RecipientRole(value.role))
    if kind is RecipientKind.SYSTEM_CLIENT:
        if not value.client_id:
            checker.add("recipient.clientId", "clientId is required", "サービスを指定してください")
        checker.raise_if_any()
        return service.Recipient(kind, client_id=value.client_id)
    if value.family_member_id is None:
        checker.add(
            "recipient.familyMemberId", "familyMemberId is required", "相手を指定してください"
        )
        checker.raise_if_any()
    assert value.family_member_id is not None
    resident = await info.context.resident()
    membership_id = decode_id(
        "FamilyMember", value.family_member_id, field="recipient.familyMemberId"
    )
    person = await family_service.member_resident_id(session, resident, membership_id)  # type: ignore[arg-type]
    if person is None or person == resident.id:
        raise NotFound("family member", "家族のメンバー", field="recipient.familyMemberId")
    return service.Recipient(kind, resident_id=person)


@strawberry.type
class ConsentMutations:
    @strawberry.mutation(description="Consent to one flow: these items, to this recipient.")
    async def grant_consent(self, info: KInfo, input: GrantConsentInput) -> ConsentPayload:
        resident = await info.context.resident()
        try:
            async with info.context.db.transaction() as session:
                recipient = await _recipient(info, session, input.recipient)
                grant = await service.grant_consent(
                    session,
                    resident,
                    purpose_code=input.purpose,
                    recipient=recipient,
                    items=input.items,
                    meta=info.context.request_meta(),
                    text_version=input.text_version,
                    valid_until=input.valid_until,
                    proxy_role=input.proxy_role,
                    legal_basis=LegalBasis(input.legal_basis),
                )
        except DomainError as exc:
            return ConsentPayload(errors=user_errors(exc))
        return ConsentPayload(consents=[ConsentType.from_grant(grant, active=True, revoked=False)])

    @strawberry.mutation(description="Accept a bundled consent; it is stored flow by flow.")
    async def grant_bundled_consent(
        self, info: KInfo, input: GrantBundledConsentInput
    ) -> ConsentPayload:
        resident = await info.context.resident()
        try:
            async with info.context.db.transaction() as session:
                grants = await service.grant_bundle(
                    session, resident, bundle_code=input.bundle, meta=info.context.request_meta()
                )
        except DomainError as exc:
            return ConsentPayload(errors=user_errors(exc))
        return ConsentPayload(
            consents=[ConsentType.from_grant(g, active=True, revoked=False) for g in grants]
        )

    @strawberry.mutation(description="Revoke a consent; the very next read is refused.")
    async def revoke_consent(self, info: KInfo, input: RevokeConsentInput) -> ConsentPayload:
        resident = await info.context.resident()
        try:
            grant_id = decode_id("Consent", input.consent_id, field="consentId")
            async with info.context.db.transaction() as session:
                grants = await service.revoke_consent(
                    session,
                    resident,
                    grant_id=grant_id,
                    meta=info.context.request_meta(),
                    whole_acceptance=input.whole_acceptance,
                )
        except DomainError as exc:
            return ConsentPayload(errors=user_errors(exc))
        return ConsentPayload(
            consents=[ConsentType.from_grant(g, active=False, revoked=True) for g in grants]
        )

    @strawberry.mutation(description="Accept or decline a service's consent request.")
    async def answer_consent_request(
        self, info: KInfo, input: AnswerConsentRequestInput
    ) -> AnswerConsentRequestPayload:
        resident = await info.context.resident()
        try:
            request_id = decode_id("ConsentRequest", input.request_id, field="requestId")
            async with info.context.db.transaction() as session:
                request, grant = await service.answer_request(
                    session,
                    resident,
                    request_id=request_id,
                    accept=input.accept,
                    meta=info.context.request_meta(),
                )
        except DomainError as exc:
            return AnswerConsentRequestPayload(errors=user_errors(exc))
        return AnswerConsentRequestPayload(
            request=ConsentRequestType.from_model(request),
            consent=ConsentType.from_grant(grant, active=True, revoked=False) if grant else None,
        )

    @strawberry.mutation(description="A system client asks a resident for consent.")
    async def request_consent(
        self, info: KInfo, input: RequestConsentInput
    ) -> RequestConsentPayload:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.transaction() as session:
                request = await service.request_consent(
                    session,
                    principal,
                    subject=input.subject,
                    purpose_code=input.purpose,
                    items=input.items,
                    message=input.message,
                    valid_until=input.valid_until,
                )
        except DomainError as exc:
            return RequestConsentPayload(errors=user_errors(exc))
        return RequestConsentPayload(request=ConsentRequestType.from_model(request))

    @strawberry.mutation(description="Register a system client for your municipality (admins).")
    async def register_system_client(
        self, info: KInfo, input: RegisterSystemClientInput
    ) -> RegisterSystemClientPayload:
        principal = await info.context.staff_principal()
        try:
            async with info.context.db.transaction() as session:
                client = await service.register_system_client(
                    session,
                    principal,
                    client_id=input.client_id,
                    name_ja=input.name_ja,
                    name_en=input.name_en,
                    municipality_code=input.municipality_code,
                    purposes=input.purposes,
                )
        except DomainError as exc:
            return RegisterSystemClientPayload(errors=user_errors(exc))
        return RegisterSystemClientPayload(
            client=SystemClientType(
                client_id=client.client_id,
                name_ja=client.name_ja,
                name_en=client.name_en,
                municipality_code=client.municipality_code,
                purposes=list(client.purposes),
                active=client.active,
            )
        )
