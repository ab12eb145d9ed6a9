"""GraphQL types of bundled applications: forms, bundles, prefill, applications, history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from ..api.ids import encode_id
from ..api.scalars import JSONValue
from .models import ApplicationAction, ApplicationForm, ApplicationStatus
from .service import ApplicationView, BundleView, FormPrefill

if TYPE_CHECKING:
    ApplicationStatusEnum = ApplicationStatus
    ApplicationActionEnum = ApplicationAction
else:
    ApplicationStatusEnum = strawberry.enum(
        ApplicationStatus,
        name="ApplicationStatus",
        description="受付 RECEIVED, 審査中 UNDER_REVIEW, 差戻し RETURNED, 再提出 RESUBMITTED, "
        "承認 APPROVED, 却下 REJECTED",
    )
    ApplicationActionEnum = strawberry.enum(ApplicationAction, name="ApplicationAction")

ATTACHMENT_PATH = "/applications/attachments"


def attachment_url(attachment_id: uuid.UUID) -> str:
    """Where an attachment is fetched (with the same bearer token)."""
    return f"{ATTACHMENT_PATH}?id={encode_id('ApplicationAttachment', attachment_id)}"


@strawberry.type(name="ApprovalStep")
class ApprovalStepType:
    step: str = strawberry.field(description="The step's name, e.g. clerk, chief")
    role: str = strawberry.field(description="The staff role that approves it")


@strawberry.type(name="ApplicationForm", description="A form a municipality accepts.")
class ApplicationFormType:
    id: strawberry.ID
    code: str
    title_ja: str
    title_en: str
    schema: JSONValue = strawberry.field(
        description="The form's JSON Schema (fields with `title` in ja and `x-label-en`)"
    )
    approval_steps: list[ApprovalStepType]

    @classmethod
    def from_model(cls, form: ApplicationForm) -> ApplicationFormType:
        return cls(
            id=strawberry.ID(encode_id("ApplicationForm", form.id)),
            code=form.code,
            title_ja=form.title_ja,
            title_en=form.title_en,
            schema=JSONValue(form.schema),
            approval_steps=[ApprovalStepType(step=s["step"], role=s["role"]) for s in form.steps],
        )


@strawberry.type(name="ApplicationBundle", description="Forms sent together (e.g. 転入セット).")
class ApplicationBundleType:
    id: strawberry.ID
    code: str
    municipality_code: str
    title_ja: str
    title_en: str
    forms: list[ApplicationFormType]

    @classmethod
    def from_view(cls, view: BundleView) -> ApplicationBundleType:
        bundle = view.bundle
        return cls(
            id=strawberry.ID(encode_id("ApplicationBundle", bundle.id)),
            code=bundle.code,
            municipality_code=bundle.municipality_code,
            title_ja=bundle.title_ja,
            title_en=bundle.title_en,
            forms=[ApplicationFormType.from_model(f) for f in view.forms],
        )


@strawberry.type(name="PrefilledField")
class PrefilledFieldType:
    field: str = strawberry.field(description="The form's field name")
    value: JSONValue | None = strawberry.field(description="The proposed value; null if none")
    source: str | None = strawberry.field(
        description="Where it came from, e.g. `profile.address`, `family.youngest.birthDate`"
    )
    member: strawberry.ID | None = strawberry.field(
        description="For a value from the household: the FamilyMember it came from"
    )
    reason: str | None = strawberry.field(
        description="Why it is empty: NOT_CONSENTED (no consent to share it with the city "
        "for applications), NO_VALUE (not in the profile), NO_MEMBER (no household member "
        "shares it)"
    )


@strawberry.type(name="PrefilledForm")
class PrefilledFormType:
    form: ApplicationFormType
    fields: list[PrefilledFieldType]

    @classmethod
    def from_prefill(cls, prefill: FormPrefill) -> PrefilledFormType:
        return cls(
            form=ApplicationFormType.from_model(prefill.form),
            fields=[
                PrefilledFieldType(
                    field=f.field,
                    value=JSONValue(f.value) if f.value is not None else None,
                    source=f.source,
                    reason=f.reason,
                    member=strawberry.ID(encode_id("FamilyMember", f.member_id))
                    if f.member_id
                    else None,
                )
                for f in prefill.fields
            ],
        )


@strawberry.type(name="FieldComment")
class FieldCommentType:
    field: str
    comment: str


@strawberry.type(name="ApplicationEvent", description="One step of an application's history.")
class ApplicationEventType:
    action: ApplicationActionEnum
    status: ApplicationStatusEnum = strawberry.field(description="The status it led to")
    step: str | None = strawberry.field(description="The approval step approved")
    actor: str = strawberry.field(description="Who: the regional-ID subject of the person")
    at: datetime
    comments: list[FieldCommentType]
    reason: str | None


@strawberry.type(name="ApplicationAttachment")
class ApplicationAttachmentType:
    id: strawberry.ID
    media_type: str
    size: int
    url: str = strawberry.field(description="GET it with the same bearer token")


@strawberry.type(name="Application", description="One form as sent, and its review.")
class ApplicationType:
    id: strawberry.ID
    form: ApplicationFormType
    bundle_code: str
    municipality_code: str
    status: ApplicationStatusEnum
    data: JSONValue
    current_step: ApprovalStepType | None = strawberry.field(
        description="The step waiting for approval; null once decided"
    )
    field_comments: list[FieldCommentType] = strawberry.field(
        description="The comments of the latest return (差戻し), per field"
    )
    rejection_reason: str | None
    submitted_at: datetime
    updated_at: datetime
    history: list[ApplicationEventType]
    attachments: list[ApplicationAttachmentType]

    @classmethod
    def from_view(cls, view: ApplicationView) -> ApplicationType:
        application = view.application
        step = view.current_step
        return cls(
            id=strawberry.ID(encode_id("Application", application.id)),
            form=ApplicationFormType.from_model(view.form),
            bundle_code=view.bundle.code,
            municipality_code=application.municipality_code,
            status=ApplicationStatus(application.status),
            data=JSONValue(application.data),
            current_step=ApprovalStepType(step=step["step"], role=step["role"]) if step else None,
            field_comments=[FieldCommentType(**c) for c in application.field_comments],
            rejection_reason=application.reason,
            submitted_at=application.created_at,
            updated_at=application.updated_at,
            history=[
                ApplicationEventType(
                    action=ApplicationAction(e.action),
                    status=ApplicationStatus(e.status),
                    step=e.step,
                    actor=e.actor,
                    at=e.at,
                    comments=[FieldCommentType(**c) for c in e.comments],
                    reason=e.reason,
                )
                for e in view.events
            ],
            attachments=[
                ApplicationAttachmentType(
                    id=strawberry.ID(encode_id("ApplicationAttachment", a.id)),
                    media_type=a.media_type,
                    size=a.size,
                    url=attachment_url(a.id),
                )
                for a in view.attachments
            ],
        )
