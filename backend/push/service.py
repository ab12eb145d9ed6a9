"""Push, the resident's side: devices, preferences, the in-app inbox, and ``notify``.

``notify`` is what other domains call to tell residents something: it applies each
resident's preferences, writes one inbox row per (resident, dedupe key) and one outbox row
per active device, idempotently and in bulk. The worker (``push.worker``) drains the outbox
and picks the text in the device's locale at send time, so outbox rows carry no text.

A device row belongs to one resident for its whole life. When a token moves to another
account, the old row keeps its history (outbox, delivery records) under a placeholder token
and is deactivated, its waiting pushes are cancelled, and the new owner gets a new row:
idempotency keys are ``<dedupe key>:<device id>``, so a reused row would make the new
owner's push of an alert the old owner also received look like a duplicate.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..db.base import utcnow
from ..db.dialect import chunked
from ..errors import Checker, LimitExceeded, NotFound, ValidationFailed
from ..text import clean_text
from . import repository
from .models import (
    OTHER_PRIORITY,
    PRIORITY,
    Device,
    Notification,
    NotificationCategory,
    NotificationPreference,
    OutboxState,
    Platform,
)

# --- devices ------------------------------------------------------------------------------

# FCM registration tokens are ~150-250 characters of base64url and ':'; APNs tokens 64 hex.
TOKEN_MIN, TOKEN_MAX = 32, 1024
TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_:\-]+$")
# language[-Script][-REGION], with '-' or '_' as the phone sends it: ja, en-US, zh_Hant_TW.
LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|[0-9]{3}))?$")
APP_VERSION_MAX = 32
# A resident's phones, tablets and browsers; more is a script, and each one multiplies an
# emergency fan-out. The least recently seen device makes room for a new one.
MAX_ACTIVE_DEVICES = 10
STALE_AFTER_DAYS = 270


class DeactivatedReason:
    """Why a device stopped receiving (``Device.deactivated_reason``)."""

    SIGNED_OUT = "signed_out"  # unregistered by the app
    MOVED = "moved"  # the token registered under another account
    STALE = "stale"  # not seen for STALE_AFTER_DAYS
    SUPERSEDED = "superseded"  # made room for a newer device (MAX_ACTIVE_DEVICES)


def normalize_locale(raw: str) -> str | None:
    """``ja``, ``ja-JP``, ``zh-Hant-TW`` from any case and '-' or '_'; None if malformed."""
    match = LOCALE.match(raw.strip())
    if match is None:
        return None
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def message_language(locale: str | None) -> str:
    """The language of a push to a device: Japanese for ``ja``, else English (if written)."""
    return "ja" if not locale or locale.split("-")[0].lower() == "ja" else "en"


def text_for(notification: Notification, locale: str | None) -> tuple[str, str]:
    """(title, body) of a notification in a device's locale, Japanese when no English."""
    if message_language(locale) == "en" and notification.title_en and notification.body_en:
        return notification.title_en, notification.body_en
    return notification.title_ja, notification.body_ja


def retired_token(device_id: uuid.UUID) -> str:
    """The placeholder token of a moved device row: '/' never occurs in a real token."""
    return f"moved/{device_id.hex}"


@dataclass(frozen=True, slots=True)
class Registration:
    token: str
    platform: Platform
    locale: str
    app_version: str | None


def check_registration(
    token: str, platform: str, locale: str, app_version: str | None
) -> Registration:
    """The registration's values, normalised; every bad field reported at once."""
    checker = Checker()
    token = token.strip()
    if not TOKEN_MIN <= len(token) <= TOKEN_MAX:
        checker.add(
            "token",
            f"token must be {TOKEN_MIN} to {TOKEN_MAX} characters",
            f"端末の通知トークンは{TOKEN_MIN}〜{TOKEN_MAX}文字です",
        )
    elif TOKEN_CHARS.match(token) is None:
        checker.add(
            "token",
            "token may contain only letters, digits, '-', '_' and ':'",
            "端末の通知トークンに使えない文字が含まれています（英数字と「-」「_」「:」のみ）",
        )
    try:
        parsed_platform = Platform(platform.strip().lower())
    except ValueError:
        parsed_platform = Platform.ANDROID
        checker.add(
            "platform",
            "platform must be ios, android or web",
            "端末の種類が不正です（アイフォーン等、アンドロイド、ウェブのいずれか）",
        )
    parsed_locale = normalize_locale(locale)
    if parsed_locale is None:
        checker.add(
            "locale",
            "locale must be a language tag such as ja, en or ja-JP",
            "言語の指定が不正です（言語コードの形式で指定してください）",
        )
    version = clean_text(
        checker, "appVersion", app_version, label_ja="アプリの版", max_length=APP_VERSION_MAX
    )
    checker.raise_if_any()
    assert parsed_locale is not None
    return Registration(token, parsed_platform, parsed_locale, version)


async def register_device(
    session: AsyncSession,
    resident_id: uuid.UUID,
    token: str,
    platform: str,
    locale: str,
    app_version: str | None = None,
    *,
    now: datetime | None = None,
) -> Device:
    """Register or refresh the resident's device; a token of another account moves here."""
    values = check_registration(token, platform, locale, app_version)
    now = now or utcnow()
    device = await repository.device_by_token(session, values.token)
    if device is not None and device.resident_id != resident_id:
        await _retire_moved(session, device, now)
        device = None
    if device is None:
        device = Device(resident_id=resident_id, token=values.token, created_at=now)
        session.add(device)
    device.platform = values.platform.value
    device.locale = values.locale
    device.app_version = values.app_version
    device.active = True
    device.deactivated_reason = None
    device.last_seen_at = now
    device.updated_at = now
    await session.flush()
    await _keep_within_cap(session, resident_id, keep=device.id, now=now)
    return device


async def _retire_moved(session: AsyncSession, device: Device, now: datetime) -> None:
    # The old owner's waiting pushes must not reach a phone now signed in as someone else.
    await repository.cancel_pending_pushes(session, [device.id])
    device.token = retired_token(device.id)
    device.active = False
    device.deactivated_reason = DeactivatedReason.MOVED
    device.updated_at = now
    # Free the token (unique) before the new owner's row takes it.
    await session.flush()


async def _keep_within_cap(
    session: AsyncSession, resident_id: uuid.UUID, *, keep: uuid.UUID, now: datetime
) -> None:
    active = await repository.active_devices_of(session, resident_id)
    if len(active) <= MAX_ACTIVE_DEVICES:
        return
    others = [d for d in active if d.id != keep]  # newest seen first
    dropped = [d.id for d in others[MAX_ACTIVE_DEVICES - 1 :]]
    await repository.cancel_pending_pushes(session, dropped)
    for device in others[MAX_ACTIVE_DEVICES - 1 :]:
        device.active = False
        device.deactivated_reason = DeactivatedReason.SUPERSEDED
        device.updated_at = now
    await session.flush()


async def unregister_device(
    session: AsyncSession, resident_id: uuid.UUID, token: str, *, now: datetime | None = None
) -> Device:
    """Stop pushes to one of the resident's devices (sign-out); others' tokens are NotFound."""
    device = await repository.device_by_token(session, token.strip())
    if device is None or device.resident_id != resident_id:
        raise NotFound("device", "この端末の登録", field="token")
    if device.active:
        await repository.cancel_pending_pushes(session, [device.id])
        device.active = False
        device.deactivated_reason = DeactivatedReason.SIGNED_OUT
        device.updated_at = now or utcnow()
        await session.flush()
    return device


async def deactivate_stale_devices(
    session: AsyncSession, now: datetime, days: int = STALE_AFTER_DAYS
) -> int:
    """Deactivate devices not seen for ``days`` days and cancel their waiting pushes."""
    stale = await repository.stale_device_ids(session, seen_before=now - timedelta(days=days))
    await repository.cancel_pending_pushes(session, stale)
    await repository.deactivate_devices(session, stale, reason=DeactivatedReason.STALE, now=now)
    return len(stale)


async def list_devices(session: AsyncSession, resident_id: uuid.UUID) -> list[Device]:
    """The resident's active devices, most recently seen first."""
    return await repository.active_devices_of(session, resident_id)


# --- preferences --------------------------------------------------------------------------

# 震度 as JMA reports it, in order: 5- is 5弱, 5+ is 5強.
INTENSITIES = ("1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")
_INTENSITY_RANK = {value: rank for rank, value in enumerate(INTENSITIES)}
_INTENSITY_WORDS = {"弱": "-", "強": "+", "−": "-", "ー": "-"}


def normalize_intensity(raw: str) -> str | None:
    """``"5-"`` from "5-", "5弱", "５弱" and the like; None when it is no 震度 we know."""
    text = unicodedata.normalize("NFKC", raw).strip().removeprefix("震度")
    for word, sign in _INTENSITY_WORDS.items():
        text = text.replace(word, sign)
    return text if text in _INTENSITY_RANK else None


@dataclass(frozen=True, slots=True)
class Preferences:
    advisories: bool = True
    city_notices: bool = True
    earthquake_min_intensity: str = "3"

    def wants(self, category: NotificationCategory, intensity: str | None) -> bool:
        """Whether a notice of ``category`` (and 震度) reaches this resident."""
        if category is NotificationCategory.ADVISORY:
            return self.advisories
        if category is NotificationCategory.CITY_NOTICE:
            return self.city_notices
        if category is NotificationCategory.EARTHQUAKE:
            assert intensity is not None  # checked by notify
            return _INTENSITY_RANK[intensity] >= _INTENSITY_RANK[self.earthquake_min_intensity]
        return True  # EMERGENCY and WARNING always go out


DEFAULT_PREFERENCES = Preferences()
# Categories a resident may turn off: only these need their preferences read.
FILTERED = frozenset(
    {
        NotificationCategory.ADVISORY,
        NotificationCategory.CITY_NOTICE,
        NotificationCategory.EARTHQUAKE,
    }
)


def _preferences_of(row: NotificationPreference | None) -> Preferences:
    if row is None:
        return DEFAULT_PREFERENCES
    return Preferences(row.advisories, row.city_notices, row.earthquake_min_intensity)


async def get_preferences(session: AsyncSession, resident_id: uuid.UUID) -> Preferences:
    """The resident's preferences (the defaults when never changed)."""
    return _preferences_of(await repository.preference(session, resident_id))


async def update_preferences(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    advisories: bool | None = None,
    city_notices: bool | None = None,
    earthquake_min_intensity: str | None = None,
    now: datetime | None = None,
) -> Preferences:
    """Change the given preferences (None leaves one as it is)."""
    minimum = None
    if earthquake_min_intensity is not None:
        minimum = normalize_intensity(earthquake_min_intensity)
        if minimum is None:
            raise ValidationFailed(
                f"earthquakeMinIntensity must be one of {', '.join(INTENSITIES)}",
                "地震情報を受け取る震度は1、2、3、4、5弱、5強、6弱、6強、7のいずれかです",
                field="earthquakeMinIntensity",
            )
    row = await repository.preference(session, resident_id)
    if row is None:
        row = NotificationPreference(
            resident_id=resident_id,
            advisories=DEFAULT_PREFERENCES.advisories,
            city_notices=DEFAULT_PREFERENCES.city_notices,
            earthquake_min_intensity=DEFAULT_PREFERENCES.earthquake_min_intensity,
        )
        session.add(row)
    if advisories is not None:
        row.advisories = advisories
    if city_notices is not None:
        row.city_notices = city_notices
    if minimum is not None:
        row.earthquake_min_intensity = minimum
    row.updated_at = now or utcnow()
    await session.flush()
    return _preferences_of(row)


# --- notify -------------------------------------------------------------------------------

DEDUPE_KEY_MAX = 200  # Notification.dedupe_key; + ":" + a 36-character uuid fits the outbox key
TITLE_MAX = 200
# Notices per round of statements: ~10 bind parameters each keeps an inbox INSERT batch far
# under the drivers' limits, and a round holds the event loop for milliseconds only.
NOTIFY_CHUNK = 1000


@dataclass(frozen=True)
class Notice:
    """One thing to tell one resident; ``dedupe_key`` names it (e.g. "alert:<id>:<version>")."""

    resident_id: uuid.UUID
    category: NotificationCategory
    dedupe_key: str
    title_ja: str
    body_ja: str
    title_en: str | None = None
    body_en: str | None = None
    # Where the app goes when the notification is opened, e.g. {"alertId": "..."}.
    data: dict[str, str] = field(default_factory=dict)
    # 震度 of an EARTHQUAKE notice ("1"…"7", "5-", "5+", "6-", "6+"); required for that one.
    intensity: str | None = None


@dataclass(frozen=True, slots=True)
class NotifyReport:
    inbox_written: int = 0
    outbox_written: int = 0
    skipped_by_preference: int = 0
    # Notices whose (resident, dedupe key) was in the inbox already or earlier in the call.
    duplicates: int = 0


def _title(text: str) -> str:
    # A long headline must not stop an emergency fan-out: shorten it, never refuse it.
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…"


def _checked(notice: Notice, index: int) -> tuple[NotificationCategory, str | None]:
    """The notice's category and 震度; a malformed notice is the caller's bug (ValueError)."""
    category = NotificationCategory(notice.category)
    if not 0 < len(notice.dedupe_key) <= DEDUPE_KEY_MAX:
        raise ValueError(f"notices[{index}]: dedupe_key must be 1 to {DEDUPE_KEY_MAX} characters")
    if not notice.title_ja or not notice.body_ja:
        raise ValueError(f"notices[{index}]: title_ja and body_ja are required")
    intensity = None
    if notice.intensity is not None:
        intensity = normalize_intensity(notice.intensity)
        if intensity is None:
            raise ValueError(f"notices[{index}]: unknown intensity {notice.intensity!r}")
    if category is NotificationCategory.EARTHQUAKE and intensity is None:
        raise ValueError(f"notices[{index}]: an earthquake notice needs its intensity")
    return category, intensity


async def notify(
    session: AsyncSession, notices: Sequence[Notice], *, now: datetime | None = None
) -> NotifyReport:
    """Write inbox and outbox rows for ``notices`` as preferences allow; idempotent, in bulk."""
    now = now or utcnow()
    # Check every notice before writing anything: a bad one fails the call, not half of it.
    checked = [_checked(notice, i) for i, notice in enumerate(notices)]
    seen: set[tuple[uuid.UUID, str]] = set()
    unique: list[tuple[Notice, NotificationCategory, str | None]] = []
    duplicates = 0
    for notice, (category, intensity) in zip(notices, checked, strict=True):
        key = (notice.resident_id, notice.dedupe_key)
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        unique.append((notice, category, intensity))
    inbox = outbox = skipped = 0
    for chunk in chunked(unique, NOTIFY_CHUNK):
        written = await _notify_chunk(session, chunk, now)
        inbox += written.inbox_written
        outbox += written.outbox_written
        skipped += written.skipped_by_preference
        duplicates += written.duplicates
    return NotifyReport(inbox, outbox, skipped, duplicates)


async def _notify_chunk(
    session: AsyncSession,
    chunk: Sequence[tuple[Notice, NotificationCategory, str | None]],
    now: datetime,
) -> NotifyReport:
    # 1. preferences, read only for residents with a notice they may have turned off
    filtered = list({n.resident_id for n, category, _ in chunk if category in FILTERED})
    stored = await repository.preferences_of(session, filtered) if filtered else {}
    rows: list[dict[str, Any]] = []
    skipped = 0
    for notice, category, intensity in chunk:
        preferences = (
            Preferences(*stored[notice.resident_id])
            if notice.resident_id in stored
            else DEFAULT_PREFERENCES
        )
        if not preferences.wants(category, intensity):
            skipped += 1
            continue
        rows.append(
            {
                "id": uuid.uuid4(),
                "resident_id": notice.resident_id,
                "dedupe_key": notice.dedupe_key,
                "category": category.value,
                "title_ja": _title(notice.title_ja),
                "body_ja": notice.body_ja,
                "title_en": _title(notice.title_en) if notice.title_en else None,
                "body_en": notice.body_en,
                "data": dict(notice.data),
                "created_at": now,
            }
        )
    # 2. the inbox: rows whose (resident, dedupe key) exists already are left as they are
    new_ids = await repository.insert_notifications(session, rows)
    fresh = [row for row in rows if row["id"] in new_ids]
    # 3. one outbox row per active device of each resident with a new notification
    devices: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    residents = list({row["resident_id"] for row in fresh})
    for resident_id, device_id in await repository.active_device_ids_of_residents(
        session, residents
    ):
        devices[resident_id].append(device_id)
    pushes = [
        {
            "notification_id": row["id"],
            "device_id": device_id,
            "idempotency_key": f"{row['dedupe_key']}:{device_id}",
            "state": OutboxState.PENDING.value,
            "priority": PRIORITY.get(NotificationCategory(row["category"]), OTHER_PRIORITY),
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for row in fresh
        for device_id in devices.get(row["resident_id"], ())
    ]
    outbox = await repository.insert_outbox(session, pushes)
    return NotifyReport(
        inbox_written=len(fresh),
        outbox_written=outbox,
        skipped_by_preference=skipped,
        duplicates=len(rows) - len(fresh),
    )


# --- inbox --------------------------------------------------------------------------------

MAX_MARK_IDS = 100


async def list_notifications(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    unread_only: bool = False,
) -> list[Notification]:
    """A page of the resident's inbox, newest first."""
    return await repository.notifications_page(
        session, resident_id, after=after, limit=limit, unread_only=unread_only
    )


async def unread_count(session: AsyncSession, resident_id: uuid.UUID) -> int:
    """How many of the resident's notifications are unread."""
    return await repository.count_unread(session, resident_id)


async def get_notification(
    session: AsyncSession, resident_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification | None:
    """One of the resident's notifications; another's is None, like an unknown one."""
    found = await repository.notifications_by_ids(session, resident_id, [notification_id])
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class MarkedRead:
    marked: int  # newly marked (already read ones keep their first read time)
    notifications: list[Notification]  # those named by id (none for ``all``)


def check_mark_size(count: int) -> None:
    """Refuse marking more than MAX_MARK_IDS notifications by id in one call."""
    if count > MAX_MARK_IDS:
        raise LimitExceeded(
            f"at most {MAX_MARK_IDS} notifications at once",
            f"一度に既読にできる通知は{MAX_MARK_IDS}件までです",
            field="ids",
        )


async def mark_notifications_read(
    session: AsyncSession,
    resident_id: uuid.UUID,
    *,
    ids: Sequence[uuid.UUID] | None = None,
    all: bool = False,
    now: datetime | None = None,
) -> MarkedRead:
    """Mark the resident's notifications read: those in ``ids`` or ``all``; a foreign or
    unknown id is NotFound and nothing is marked."""
    now = now or utcnow()
    if all and ids:
        raise ValidationFailed(
            "give either ids or all, not both",
            "既読にする通知を個別に指定するか、すべてにするかのどちらかを指定してください",
            field="all",
        )
    if all:
        marked = await repository.mark_read(session, resident_id, ids=None, now=now)
        return MarkedRead(marked, [])
    if not ids:
        raise ValidationFailed(
            "name the notifications to mark read, or set all",
            "既読にする通知を指定してください",
            field="ids",
        )
    check_mark_size(len(ids))
    own = await repository.own_notification_ids(session, resident_id, ids)
    for index, notification_id in enumerate(ids):
        if notification_id not in own:
            raise NotFound("notification", "通知", field=f"ids[{index}]")
    marked = await repository.mark_read(session, resident_id, ids=ids, now=now)
    return MarkedRead(marked, await repository.notifications_by_ids(session, resident_id, ids))
