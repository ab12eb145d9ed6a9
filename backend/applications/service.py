"""Bundled applications (一括申請): forms of a municipality, prefill under consent, submission
of several forms at once, and the staff review (received → under review → returned /
resubmitted → approved step by step, or rejected) with every step kept.

Who sees an application: its applicant, and staff of its municipality who hold one of the
roles of its form's approval steps; anyone else gets NotFound (existence never leaks).
Prefill reads the applicant's own items only where they granted them to city staff for
``application_prefill``, and household members' items through ``read_many`` (logged).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..api import uploads
from ..api.ids import encode_id
from ..config import Settings
from ..consent import enforcement
from ..consent import service as consent_service
from ..errors import Checker, Conflict, LimitExceeded, NotFound, NotPermitted, ValidationFailed
from ..family import service as family_service
from ..municipalities import service as municipalities_service
from ..principal import Principal, RequestMeta, Role, Viewer
from ..push import service as push_service
from ..text import clean_text
from . import forms, repository
from .models import (
    Application,
    ApplicationAction,
    ApplicationAttachment,
    ApplicationBundle,
    ApplicationEvent,
    ApplicationForm,
    ApplicationStatus,
)

PURPOSE = "application_prefill"
GRAPHQL_TYPE = "Application"
MAX_COMMENTS = 50
MAX_COMMENT = 1000
MAX_ATTACHMENTS_PER_FORM = 10
# Uploaded, not yet sent: bounds what one resident can leave on disk.
MAX_PENDING_ATTACHMENTS = 30
ATTACHMENT_TYPES = (uploads.JPEG, uploads.PNG, uploads.PDF)
REVIEWABLE = (ApplicationStatus.RECEIVED, ApplicationStatus.RESUBMITTED)
OPEN = (*REVIEWABLE, ApplicationStatus.UNDER_REVIEW)
STAFF_ROLES = (Role.CITY_STAFF, Role.CITY_ADMIN)


@dataclass(frozen=True, slots=True)
class BundleView:
    bundle: ApplicationBundle
    forms: list[ApplicationForm]


@dataclass(frozen=True, slots=True)
class FieldPrefill:
    field: str
    value: Any
    source: str | None  # "profile.address", "family.youngest.birthDate"
    reason: str | None  # why it stays empty: NOT_CONSENTED, NO_VALUE, NO_MEMBER
    member_id: uuid.UUID | None = None  # the family membership a family value came from


@dataclass(frozen=True, slots=True)
class FormPrefill:
    form: ApplicationForm
    fields: list[FieldPrefill]


@dataclass(frozen=True, slots=True)
class ApplicationView:
    application: Application
    form: ApplicationForm
    bundle: ApplicationBundle
    events: list[ApplicationEvent] = field(default_factory=list)
    attachments: list[ApplicationAttachment] = field(default_factory=list)

    @property
    def current_step(self) -> dict[str, str] | None:
        steps = self.form.steps
        if self.application.status in (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED):
            return None
        done = self.application.steps_done
        return steps[done] if done < len(steps) else None


@dataclass(frozen=True, slots=True)
class FormData:
    form_id: uuid.UUID
    data: Any
    attachment_ids: Sequence[uuid.UUID] = ()


@dataclass(frozen=True, slots=True)
class FieldComment:
    field: str
    comment: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    municipality_code: str
    forms: int
    bundles: int


# --- forms and bundles -----------------------------------------------------------------------


async def import_forms(
    session: AsyncSession, *, municipality_code: str, data: bytes, source_name: str
) -> ImportResult:
    """Store a municipality's forms and bundles from a document; all or nothing.

    Forms keep their ids (applications refer to them); a form of the same code is updated.
    """
    municipality = await municipalities_service.get_municipality(
        session, municipality_code, field="municipality"
    )
    # YAML and schema checks are CPU work (bounded by the size cap): off the event loop.
    document = await asyncio.to_thread(forms.parse_forms, data, source_name)
    for form in document.forms:
        await repository.upsert_form(
            session,
            municipality.code,
            form.code,
            {
                "title_ja": form.title_ja,
                "title_en": form.title_en,
                "schema": form.schema,
                "steps": [s.as_json() for s in form.steps],
            },
        )
    for bundle in document.bundles:
        await repository.upsert_bundle(
            session,
            municipality.code,
            bundle.code,
            {
                "title_ja": bundle.title_ja,
                "title_en": bundle.title_en,
                "form_codes": list(bundle.forms),
            },
        )
    await repository.delete_bundles_except(
        session, municipality.code, [b.code for b in document.bundles]
    )
    return ImportResult(municipality.code, len(document.forms), len(document.bundles))


def _bundle_forms(
    bundle: ApplicationBundle, by_code: dict[str, ApplicationForm]
) -> list[ApplicationForm]:
    return [by_code[code] for code in bundle.form_codes if code in by_code]


async def list_bundles(session: AsyncSession, municipality_code: str) -> list[BundleView]:
    """The bundles a municipality offers, each with its forms in order."""
    municipality = await municipalities_service.get_municipality(session, municipality_code)
    by_code = {f.code: f for f in await repository.forms_of(session, municipality.code)}
    return [
        BundleView(bundle, _bundle_forms(bundle, by_code))
        for bundle in await repository.bundles_of(session, municipality.code)
    ]


async def _bundle(session: AsyncSession, bundle_id: uuid.UUID) -> BundleView:
    bundle = await repository.get_bundle(session, bundle_id)
    if bundle is None:
        raise NotFound("application bundle", "一括申請", field="bundle")
    by_code = {f.code: f for f in await repository.forms_of(session, bundle.municipality_code)}
    return BundleView(bundle, _bundle_forms(bundle, by_code))


# --- prefill ---------------------------------------------------------------------------------


def _camel(item: str) -> str:
    head, *rest = item.split("_")
    return head + "".join(part.title() for part in rest)


async def _own_consented_items(session: AsyncSession, resident_id: uuid.UUID) -> set[str]:
    """Items the resident granted to city staff for application prefill, in force now."""
    granted: set[str] = set()
    for view in await consent_service.list_grants(session, resident_id):
        grant = view.grant
        if grant.purpose_code == PURPOSE and grant.recipient_role == "city_staff":
            granted.update(grant.items)
    return granted


def _household_value(value: Any, kind: str | None) -> Any:
    size = max((g.get("members", 0) for g in value or []), default=None)
    if size is None:
        return None
    return size if kind in ("integer", "number") else f"{size}人"


async def prefill(
    session: AsyncSession, viewer: Viewer, *, bundle_id: uuid.UUID, meta: RequestMeta
) -> list[FormPrefill]:
    """For each form field that names a source: the proposed value and where it comes from,
    as far as consent allows (the resident's own grant to city staff; members' to family)."""
    me = viewer.resident_id
    assert me is not None, "prefill is for a signed-in resident"
    view = await _bundle(session, bundle_id)
    own_items = await _own_consented_items(session, me)
    wanted_own = [i for i in forms.PROFILE_SOURCES if i in own_items]
    own: dict[str, Any] = {}
    if wanted_own:
        read = await enforcement.read_many(
            session, viewer, [me], purpose_code=PURPOSE, items=wanted_own, meta=meta
        )
        own = read[me].values if me in read else {}
    members: dict[uuid.UUID, uuid.UUID] = {}  # resident -> a membership (FamilyMember id)
    shared: dict[uuid.UUID, enforcement.PersonalData] = {}
    if any(
        str(f.get("x-prefill", "")).startswith("family.")
        for form in view.forms
        for f in form.schema["properties"].values()
    ):
        groups = await family_service.list_groups(session, me)
        memberships = await family_service.members_of_groups(session, [g.id for g in groups])
        for membership in memberships:
            if membership.resident_id != me:
                members.setdefault(membership.resident_id, membership.id)
        if members:
            shared = await enforcement.read_many(
                session,
                viewer,
                list(members),
                purpose_code=PURPOSE,
                items=forms.FAMILY_SOURCES,
                meta=meta,
            )
    # The youngest member who shares a birth date: the child of a child-allowance form.
    dated = [
        (shared[m].values["birth_date"], str(m), m)
        for m in members
        if m in shared and shared[m].values.get("birth_date")
    ]
    youngest = max(dated) if dated else None
    result = []
    for form in view.forms:
        fields = []
        for name, spec in form.schema["properties"].items():
            source = spec.get("x-prefill")
            if source is None:
                continue
            fields.append(_fill(name, spec, source, own, own_items, youngest, shared, members))
        result.append(FormPrefill(form, fields))
    return result


def _fill(
    name: str,
    spec: dict[str, Any],
    source: str,
    own: dict[str, Any],
    own_items: set[str],
    youngest: tuple[Any, str, uuid.UUID] | None,
    shared: dict[uuid.UUID, enforcement.PersonalData],
    members: dict[uuid.UUID, uuid.UUID],
) -> FieldPrefill:
    kind, _, item = source.rpartition(".")
    if kind == "profile":
        if item not in own_items:
            return FieldPrefill(name, None, None, "NOT_CONSENTED")
        value = own.get(item)
        if item == "household":
            value = _household_value(value, spec.get("type"))
        if value is None:
            return FieldPrefill(name, None, None, "NO_VALUE")
        return FieldPrefill(name, value, f"profile.{_camel(item)}", None)
    if youngest is None:
        return FieldPrefill(name, None, None, "NO_MEMBER")
    _, _, member = youngest
    value = shared[member].values.get(item)
    if value is None:
        reason = "NOT_CONSENTED" if item in shared[member].refused else "NO_VALUE"
        return FieldPrefill(name, None, None, reason)
    return FieldPrefill(
        name, value, f"family.youngest.{_camel(item)}", None, member_id=members[member]
    )


# --- submitting ------------------------------------------------------------------------------


def _validate(checker: Checker, prefix: str, form: ApplicationForm, data: Any) -> None:
    forms.validate_data(checker, prefix, form.schema, data)


async def _claim_attachments(
    session: AsyncSession,
    checker: Checker,
    resident_id: uuid.UUID,
    prefix: str,
    ids: Sequence[uuid.UUID],
) -> list[ApplicationAttachment]:
    if len(ids) > MAX_ATTACHMENTS_PER_FORM:
        checker.add(
            prefix,
            f"at most {MAX_ATTACHMENTS_PER_FORM} attachments per form",
            f"添付は1件の申請につき{MAX_ATTACHMENTS_PER_FORM}件までです",
        )
        return []
    found = {a.id: a for a in await repository.attachments_by_ids(session, ids)}
    claimed = []
    for n, attachment_id in enumerate(ids):
        attachment = found.get(attachment_id)
        # Another resident's upload, or one already attached, looks like an unknown one.
        if attachment is None or attachment.resident_id != resident_id or attachment.application_id:
            checker.add(f"{prefix}[{n}]", "attachment not found", "添付ファイルが見つかりません")
        else:
            claimed.append(attachment)
    return claimed


async def submit_bundle(
    session: AsyncSession,
    viewer: Viewer,
    *,
    bundle_id: uuid.UUID,
    entries: Sequence[FormData],
) -> list[ApplicationView]:
    """Send the forms of a bundle at once: every form validated, all stored or none."""
    me = viewer.resident_id
    assert me is not None
    view = await _bundle(session, bundle_id)
    by_id = {f.id: f for f in view.forms}
    checker = Checker()
    if not 1 <= len(entries) <= min(len(view.forms), forms.MAX_FORMS_PER_SUBMISSION):
        raise ValidationFailed.at(
            "forms",
            f"send 1-{len(view.forms)} forms of this bundle",
            f"この一括申請の申請書を1〜{len(view.forms)}件送ってください",
        )
    seen: set[uuid.UUID] = set()
    claimed: list[list[ApplicationAttachment]] = []
    for n, entry in enumerate(entries):
        form = by_id.get(entry.form_id)
        if form is None:
            checker.add(
                f"forms[{n}].form",
                "not a form of this bundle",
                "この一括申請の申請書ではありません",
            )
        elif entry.form_id in seen:
            checker.add(f"forms[{n}].form", "each form once", "同じ申請書は1回だけ送れます")
        else:
            seen.add(entry.form_id)
            # Linear in the (capped) data; off the event loop like any parsing.
            await asyncio.to_thread(_validate, checker, f"forms[{n}].data", form, entry.data)
        claimed.append(
            await _claim_attachments(
                session, checker, me, f"forms[{n}].attachments", entry.attachment_ids
            )
        )
    checker.raise_if_any()
    submission = uuid.uuid4()
    views = []
    for entry, attachments in zip(entries, claimed, strict=True):
        form = by_id[entry.form_id]
        application = Application(
            id=uuid.uuid4(),
            submission_id=submission,
            bundle_id=view.bundle.id,
            form_id=form.id,
            resident_id=me,
            municipality_code=view.bundle.municipality_code,
            status=ApplicationStatus.RECEIVED.value,
            data=entry.data,
            steps_done=0,
            review_round=0,
            field_comments=[],
        )
        event = _event(application, ApplicationAction.SUBMITTED, viewer.actor)
        await repository.add(session, application)
        await repository.add(session, event)
        for attachment in attachments:
            attachment.application_id = application.id
        views.append(ApplicationView(application, form, view.bundle, [event], attachments))
    await session.flush()
    return views


def _event(
    application: Application,
    action: ApplicationAction,
    actor: str,
    *,
    step: str | None = None,
    comments: list[dict[str, str]] | None = None,
    reason: str | None = None,
) -> ApplicationEvent:
    return ApplicationEvent(
        id=uuid.uuid4(),
        application_id=application.id,
        action=action.value,
        status=application.status,
        step=step,
        review_round=application.review_round,
        actor=actor,
        comments=comments or [],
        reason=reason,
    )


# --- reading ---------------------------------------------------------------------------------


def _step_roles(form: ApplicationForm) -> set[Role]:
    return {Role(s["role"]) for s in form.steps}


def staff_may_see(principal: Principal, application: Application, form: ApplicationForm) -> bool:
    """Staff of the application's municipality holding a role of one of its form's steps."""
    return principal.has_role(application.municipality_code, *_step_roles(form))


async def _views(
    session: AsyncSession, applications: Sequence[Application]
) -> list[ApplicationView]:
    ids = [a.id for a in applications]
    forms_by_id = {
        f.id: f for f in await repository.forms_by_ids(session, [a.form_id for a in applications])
    }
    bundles = {
        b.id: b
        for b in await repository.bundles_by_ids(session, [a.bundle_id for a in applications])
    }
    events: dict[uuid.UUID, list[ApplicationEvent]] = {i: [] for i in ids}
    for event in await repository.events_of(session, ids):
        events[event.application_id].append(event)
    attachments: dict[uuid.UUID, list[ApplicationAttachment]] = {i: [] for i in ids}
    for attachment in await repository.attachments_of(session, ids):
        attachments[attachment.application_id or uuid.UUID(int=0)].append(attachment)
    return [
        ApplicationView(
            a, forms_by_id[a.form_id], bundles[a.bundle_id], events[a.id], attachments[a.id]
        )
        for a in applications
    ]


async def read_application(
    session: AsyncSession, viewer: Viewer, application_id: uuid.UUID, *, for_update: bool = False
) -> ApplicationView:
    """An application its applicant or its municipality's reviewing staff may see."""
    application = await repository.get_application(session, application_id, for_update=for_update)
    if application is not None:
        [view] = await _views(session, [application])
        if application.resident_id == viewer.resident_id or staff_may_see(
            viewer.principal, application, view.form
        ):
            return view
    raise NotFound("application", "申請", field="id")


async def staff_queue(
    session: AsyncSession,
    principal: Principal,
    *,
    municipality_code: str,
    status: ApplicationStatus | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ApplicationView]:
    """The municipality's applications whose forms the staff member reviews, newest first."""
    municipality = await municipalities_service.get_municipality(session, municipality_code)
    if not principal.has_role(municipality.code, *STAFF_ROLES):
        raise NotPermitted(
            "only the municipality's staff see its applications",
            "この市区町村の職員のみ申請を閲覧できます",
            field="municipalityCode",
        )
    visible = [
        f.id
        for f in await repository.forms_of(session, municipality.code)
        if principal.has_role(municipality.code, *_step_roles(f))
    ]
    rows = await repository.applications_page(
        session,
        municipality_code=municipality.code,
        form_ids=visible,
        status=status.value if status else None,
        after=after,
        limit=limit,
    )
    return await _views(session, rows)


async def my_applications(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[ApplicationView]:
    """The resident's own applications, newest first."""
    rows = await repository.applications_page(
        session, resident_id=resident_id, after=after, limit=limit
    )
    return await _views(session, rows)


# --- the review ------------------------------------------------------------------------------


async def _for_staff(
    session: AsyncSession, viewer: Viewer, application_id: uuid.UUID
) -> ApplicationView:
    view = await read_application(session, viewer, application_id, for_update=True)
    if not staff_may_see(viewer.principal, view.application, view.form):
        raise NotPermitted(
            "only reviewing staff may do this", "審査する職員のみ操作できます", field="id"
        )
    return view


def _require(view: ApplicationView, *allowed: ApplicationStatus) -> None:
    if view.application.status not in allowed:
        raise Conflict(
            f"not possible while the application is {view.application.status}",
            "申請の現在の状態ではこの操作はできません",
            field="id",
        )


async def _notify(
    view: ApplicationView,
    event: ApplicationEvent,
    session: AsyncSession,
    title_ja: str,
    body_ja: str,
    title_en: str,
    body_en: str,
) -> None:
    await push_service.notify(
        session,
        [
            push_service.Notice(
                resident_id=view.application.resident_id,
                category=push_service.NotificationCategory.CITY_NOTICE,
                dedupe_key=f"application:{view.application.id}:{event.id}",
                title_ja=title_ja,
                body_ja=body_ja,
                title_en=title_en,
                body_en=body_en,
                data={"applicationId": encode_id(GRAPHQL_TYPE, view.application.id)},
            )
        ],
    )


async def start_review(
    session: AsyncSession, viewer: Viewer, application_id: uuid.UUID
) -> ApplicationView:
    """Staff take up a received (or resubmitted) application."""
    view = await _for_staff(session, viewer, application_id)
    _require(view, *REVIEWABLE)
    view.application.status = ApplicationStatus.UNDER_REVIEW.value
    event = _event(view.application, ApplicationAction.REVIEW_STARTED, viewer.actor)
    await repository.add(session, event)
    return await read_application(session, viewer, application_id)


async def return_application(
    session: AsyncSession,
    viewer: Viewer,
    application_id: uuid.UUID,
    comments: Sequence[FieldComment],
) -> ApplicationView:
    """Send an application back to its applicant with a comment per field (差戻し)."""
    view = await _for_staff(session, viewer, application_id)
    _require(view, *OPEN)
    checker = Checker()
    names = forms.fields_of(view.form.schema)
    if not 1 <= len(comments) <= MAX_COMMENTS:
        checker.add(
            "fieldComments", f"1-{MAX_COMMENTS} comments", f"コメントは1〜{MAX_COMMENTS}件です"
        )
    kept = []
    for n, comment in enumerate(comments[:MAX_COMMENTS]):
        if comment.field not in names:
            checker.add(
                f"fieldComments[{n}].field", "not a field of this form", "この申請書にない項目です"
            )
        text = clean_text(
            checker,
            f"fieldComments[{n}].comment",
            comment.comment,
            label_ja="コメント",
            max_length=MAX_COMMENT,
            required=True,
            multiline=True,
        )
        kept.append({"field": comment.field, "comment": text or ""})
    checker.raise_if_any()
    application = view.application
    application.status = ApplicationStatus.RETURNED.value
    application.field_comments = kept
    event = _event(application, ApplicationAction.RETURNED, viewer.actor, comments=kept)
    await repository.add(session, event)
    await _notify(
        view,
        event,
        session,
        f"{view.form.title_ja}が差し戻されました",
        "修正が必要な項目があります。アプリでコメントを確認して再提出してください。",
        f"Your {view.form.title_en} was returned",
        "Some fields need correcting: see the comments in the app and resubmit.",
    )
    return await read_application(session, viewer, application_id)


async def approve_step(
    session: AsyncSession, viewer: Viewer, application_id: uuid.UUID
) -> ApplicationView:
    """Approve the current step (its role; a different person from earlier steps)."""
    view = await _for_staff(session, viewer, application_id)
    _require(view, *OPEN)
    application = view.application
    step = view.current_step
    assert step is not None
    if not viewer.principal.has_role(application.municipality_code, Role(step["role"])):
        raise NotPermitted(
            f"the {step['step']} step needs the {step['role']} role",
            f"この段階（{step['step']}）の承認には{Role(step['role']).label_ja}の権限が必要です",
            field="id",
        )
    approved_by = {
        e.actor
        for e in view.events
        if e.action == ApplicationAction.STEP_APPROVED
        and e.review_round == application.review_round
    }
    if viewer.actor in approved_by:
        raise NotPermitted(
            "another person must approve this step",
            "前の段階を承認した方とは別の職員が承認してください",
            field="id",
        )
    application.steps_done += 1
    final = application.steps_done >= len(view.form.steps)
    application.status = (
        ApplicationStatus.APPROVED if final else ApplicationStatus.UNDER_REVIEW
    ).value
    event = _event(application, ApplicationAction.STEP_APPROVED, viewer.actor, step=step["step"])
    await repository.add(session, event)
    if final:
        await _notify(
            view,
            event,
            session,
            f"{view.form.title_ja}が承認されました",
            "申請が承認されました。詳しくはアプリでご確認ください。",
            f"Your {view.form.title_en} was approved",
            "Your application was approved; see the app for details.",
        )
    return await read_application(session, viewer, application_id)


async def reject(
    session: AsyncSession, viewer: Viewer, application_id: uuid.UUID, reason: str
) -> ApplicationView:
    """Reject an application with a reason given to the applicant."""
    view = await _for_staff(session, viewer, application_id)
    _require(view, *OPEN)
    checker = Checker()
    text = clean_text(
        checker,
        "reason",
        reason,
        label_ja="却下の理由",
        max_length=MAX_COMMENT,
        required=True,
        multiline=True,
    )
    checker.raise_if_any()
    application = view.application
    application.status = ApplicationStatus.REJECTED.value
    application.reason = text
    event = _event(application, ApplicationAction.REJECTED, viewer.actor, reason=text)
    await repository.add(session, event)
    await _notify(
        view,
        event,
        session,
        f"{view.form.title_ja}は受理されませんでした",
        f"理由：{text}",
        f"Your {view.form.title_en} was rejected",
        f"Reason: {text}",
    )
    return await read_application(session, viewer, application_id)


async def resubmit(
    session: AsyncSession, viewer: Viewer, application_id: uuid.UUID, data: Any
) -> ApplicationView:
    """The applicant's corrected form, after a return; validated again, review starts over."""
    view = await read_application(session, viewer, application_id, for_update=True)
    application = view.application
    if application.resident_id != viewer.resident_id:
        raise NotFound("application", "申請", field="id")
    _require(view, ApplicationStatus.RETURNED)
    checker = Checker()
    await asyncio.to_thread(_validate, checker, "data", view.form, data)
    checker.raise_if_any()
    application.data = data
    application.status = ApplicationStatus.RESUBMITTED.value
    application.steps_done = 0
    application.review_round += 1
    await repository.add(session, _event(application, ApplicationAction.RESUBMITTED, viewer.actor))
    return await read_application(session, viewer, application_id)


# --- attachments -----------------------------------------------------------------------------


def attachment_dir(settings: Settings) -> Path:
    """Where attachments are kept (a local directory, by configuration)."""
    return settings.application_attachment_dir or settings.data_dir / "application-attachments"


def _attachment_not_found() -> NotFound:
    return NotFound("attachment", "添付ファイル", field="id")


async def upload_attachment(
    session: AsyncSession, settings: Settings, viewer: Viewer, data: bytes
) -> ApplicationAttachment:
    """Keep a resident's photo or PDF of a document, to attach when they submit."""
    me = viewer.resident_id
    if me is None:
        raise NotPermitted("only residents upload attachments", "添付できるのは住民のみです")
    uploads.check_size(
        data,
        settings.application_attachment_max_bytes,
        what="an attachment",
        what_ja="添付ファイル",
        field="file",
    )
    media_type = uploads.sniff(data, ATTACHMENT_TYPES)
    if media_type is None:
        raise ValidationFailed.at(
            "file", "an attachment must be JPEG, PNG or PDF", "添付はJPEG・PNG・PDFのいずれかです"
        )
    if await repository.count_unattached(session, me) >= MAX_PENDING_ATTACHMENTS:
        raise LimitExceeded(
            f"at most {MAX_PENDING_ATTACHMENTS} attachments wait to be sent; send or wait",
            f"送信前の添付は{MAX_PENDING_ATTACHMENTS}件までです",
            field="file",
        )
    attachment_id = uuid.uuid4()
    name = f"{attachment_id.hex}.{uploads.EXTENSIONS[media_type]}"
    await asyncio.to_thread(uploads.write_file, attachment_dir(settings), name, data)
    attachment = ApplicationAttachment(
        id=attachment_id,
        resident_id=me,
        application_id=None,
        file_name=name,
        media_type=media_type,
        size=len(data),
    )
    await repository.add(session, attachment)
    await session.flush()
    return attachment


async def read_attachment(
    session: AsyncSession, settings: Settings, viewer: Viewer, attachment_id: uuid.UUID
) -> tuple[bytes, str]:
    """An attachment for its uploader, or for staff who may see its application."""
    found = await repository.attachments_by_ids(session, [attachment_id])
    attachment = found[0] if found else None
    if attachment is None:
        raise _attachment_not_found()
    if attachment.resident_id != viewer.resident_id:
        if attachment.application_id is None:
            raise _attachment_not_found()
        try:
            await read_application(session, viewer, attachment.application_id)
        except NotFound:
            raise _attachment_not_found() from None
    data = await uploads.read_file(
        attachment_dir(settings), attachment.file_name, _attachment_not_found()
    )
    return data, attachment.media_type
