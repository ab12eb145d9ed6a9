"""Application mutations: submit a bundle, resubmit; staff review, return, approve, reject."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_viewer
from ..api.scalars import JSONValue
from ..principal import Viewer
from . import service
from .service import ApplicationView
from .types import ApplicationType


@strawberry.input
class ApplicationFormInput:
    form: strawberry.ID = strawberry.field(description="The form's id (of the bundle)")
    data: JSONValue = strawberry.field(description="The form's fields, as its schema says")
    attachments: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Uploaded attachments (POST /applications/attachments)"
    )


@strawberry.input
class SubmitApplicationBundleInput:
    bundle: strawberry.ID
    forms: list[ApplicationFormInput]


@strawberry.type
class SubmitApplicationBundlePayload:
    applications: list[ApplicationType] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApplicationPayload:
    application: ApplicationType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ApplicationIdInput:
    id: strawberry.ID


@strawberry.input
class FieldCommentInput:
    field: str = strawberry.field(description="The form's field name")
    comment: str


@strawberry.input
class ReturnApplicationInput:
    id: strawberry.ID
    field_comments: list[FieldCommentInput]


@strawberry.input
class RejectApplicationInput:
    id: strawberry.ID
    reason: str


@strawberry.input
class ResubmitApplicationInput:
    id: strawberry.ID
    data: JSONValue


Step = Callable[[AsyncSession, Viewer], Awaitable[ApplicationView]]


async def _one(info: KInfo, step: Step) -> ApplicationPayload:
    async def work(session: AsyncSession, viewer: Viewer) -> ApplicationPayload:
        return ApplicationPayload(
            application=ApplicationType.from_view(await step(session, viewer))
        )

    return await as_viewer(info, ApplicationPayload, work)


@strawberry.type
class ApplicationMutations:
    @strawberry.mutation(
        description="Send several forms of a bundle at once: each is validated (errors name "
        "`forms[i].data.field`); all are stored, each as a RECEIVED application, or none."
    )
    async def submit_application_bundle(
        self, info: KInfo, input: SubmitApplicationBundleInput
    ) -> SubmitApplicationBundlePayload:
        async def work(session: AsyncSession, viewer: Viewer) -> SubmitApplicationBundlePayload:
            entries = [
                service.FormData(
                    form_id=decode_id("ApplicationForm", f.form, field=f"forms[{n}].form"),
                    data=f.data,
                    attachment_ids=[
                        decode_id("ApplicationAttachment", a, field=f"forms[{n}].attachments[{k}]")
                        for k, a in enumerate(f.attachments)
                    ],
                )
                for n, f in enumerate(input.forms)
            ]
            views = await service.submit_bundle(
                session,
                viewer,
                bundle_id=decode_id("ApplicationBundle", input.bundle, field="bundle"),
                entries=entries,
            )
            return SubmitApplicationBundlePayload(
                applications=[ApplicationType.from_view(v) for v in views]
            )

        return await as_viewer(info, SubmitApplicationBundlePayload, work)

    @strawberry.mutation(description="My corrected form after a return (差戻し); checked again.")
    async def resubmit_application(
        self, info: KInfo, input: ResubmitApplicationInput
    ) -> ApplicationPayload:
        return await _one(
            info,
            lambda s, v: service.resubmit(s, v, decode_id("Application", input.id), input.data),
        )

    @strawberry.mutation(description="Staff: take up a received or resubmitted application.")
    async def start_application_review(
        self, info: KInfo, input: ApplicationIdInput
    ) -> ApplicationPayload:
        return await _one(
            info, lambda s, v: service.start_review(s, v, decode_id("Application", input.id))
        )

    @strawberry.mutation(description="Staff: return an application with a comment per field.")
    async def return_application(
        self, info: KInfo, input: ReturnApplicationInput
    ) -> ApplicationPayload:
        comments = [service.FieldComment(c.field, c.comment) for c in input.field_comments]
        return await _one(
            info,
            lambda s, v: service.return_application(
                s, v, decode_id("Application", input.id), comments
            ),
        )

    @strawberry.mutation(
        description="Staff: approve the current approval step (its role; not the person who "
        "approved an earlier step). The last step approves the application."
    )
    async def approve_application_step(
        self, info: KInfo, input: ApplicationIdInput
    ) -> ApplicationPayload:
        return await _one(
            info, lambda s, v: service.approve_step(s, v, decode_id("Application", input.id))
        )

    @strawberry.mutation(description="Staff: reject an application, with the reason.")
    async def reject_application(
        self, info: KInfo, input: RejectApplicationInput
    ) -> ApplicationPayload:
        return await _one(
            info,
            lambda s, v: service.reject(s, v, decode_id("Application", input.id), input.reason),
        )
