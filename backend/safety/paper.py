"""Safety answers collected on paper (安否確認票), imported by city staff from a CSV file.

All or nothing: every row is checked (status, time, position, that the person is known)
before anything is stored, and every bad line is named. Each row gets an idempotency key
from its content, so importing the same file twice stores each answer once.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..ingest.csv_table import csv_number, read_csv_table
from ..ingest.files import read_capped
from ..ingest.problems import FileRefused, Problems
from .models import SafetyStatus

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
JST = timezone(timedelta(hours=9))

# Paper forms say it in Japanese; spreadsheets exported from the app in English.
STATUS_WORDS = {
    "safe": SafetyStatus.SAFE,
    "無事": SafetyStatus.SAFE,
    "injured": SafetyStatus.INJURED,
    "負傷": SafetyStatus.INJURED,
    "けが": SafetyStatus.INJURED,
    "needs_help": SafetyStatus.NEEDS_HELP,
    "要救助": SafetyStatus.NEEDS_HELP,
    "要支援": SafetyStatus.NEEDS_HELP,
    "evacuated_to_shelter": SafetyStatus.EVACUATED_TO_SHELTER,
    "evacuated": SafetyStatus.EVACUATED_TO_SHELTER,
    "避難所": SafetyStatus.EVACUATED_TO_SHELTER,
    "避難済": SafetyStatus.EVACUATED_TO_SHELTER,
}
COLUMNS = {
    "subject": ("subject", "地域ID"),
    "status": ("status", "安否"),
    "answered_at": ("answered_at", "回答日時"),
    "note": ("note", "メモ"),
    "latitude": ("latitude", "緯度"),
    "longitude": ("longitude", "経度"),
}
REQUIRED = ("subject", "status", "answered_at")


class SafetyAnswersRefused(FileRefused):
    """The answers file was refused as a whole; nothing was stored."""


@dataclass(frozen=True, slots=True)
class PaperAnswer:
    line: int
    subject: str
    status: SafetyStatus
    answered_at: datetime
    note: str | None
    latitude: float | None
    longitude: float | None
    key: str


def _time(raw: str, line: int, problems: Problems) -> datetime | None:
    text = raw.strip().replace("/", "-")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        problems.add(
            line,
            f"answered_at {raw!r} is not a date and time (e.g. 2026-11-30 14:05)",
            "回答日時は「2026-11-30 14:05」の形式で記入してください",
        )
        return None
    # Times written on paper in Japan are local time.
    return value if value.tzinfo else value.replace(tzinfo=JST)


def parse_answers(data: bytes, path: str, now: datetime) -> list[PaperAnswer]:
    """The rows of an answers CSV; refuses the file with every bad line named."""
    problems = Problems(path, SafetyAnswersRefused)
    table = read_csv_table(data, problems)
    index: dict[str, int] = {}
    for key, names in COLUMNS.items():
        for name in names:
            if name in table.header:
                index[key] = table.header.index(name)
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in index]
    if missing:
        problems.fail(
            table.header_line,
            f"missing columns: {', '.join(missing)}",
            f"必要な列がありません: {'、'.join(missing)}",
        )
    if len(table.rows) > MAX_ROWS:
        problems.fail(None, f"at most {MAX_ROWS:,} rows", f"行数は{MAX_ROWS:,}行までです")
    answers: list[PaperAnswer] = []
    for line, row in table.rows:

        def cell(key: str, row: list[str] = row) -> str:
            at = index.get(key)
            return row[at].strip() if at is not None and at < len(row) else ""

        subject = cell("subject")
        if not subject or len(subject) > 255:
            problems.add(line, "subject is required (1-255 characters)", "地域IDを記入してください")
        status = STATUS_WORDS.get(cell("status").lower())
        if status is None:
            problems.add(
                line,
                f"unknown status {cell('status')!r} (SAFE, INJURED, NEEDS_HELP, "
                "EVACUATED_TO_SHELTER)",
                "安否は「無事」「負傷」「要救助」「避難所」のいずれかを記入してください",
            )
        answered_at = _time(cell("answered_at"), line, problems)
        if answered_at is not None and answered_at > now + timedelta(minutes=5):
            problems.add(line, "answered_at lies in the future", "回答日時が未来です")
        note = cell("note") or None
        if note is not None and len(note) > 500:
            problems.add(line, "note is longer than 500 characters", "メモは500文字までです")
        lat = csv_number(cell("latitude"), "latitude", line, problems) if cell("latitude") else None
        lon = (
            csv_number(cell("longitude"), "longitude", line, problems)
            if cell("longitude")
            else None
        )
        if (lat is None) != (lon is None) or (
            lat is not None
            and lon is not None
            and not (-90 <= lat <= 90 and -180 <= lon <= 180 and math.isfinite(lat + lon))
        ):
            problems.add(
                line,
                "give both latitude (-90..90) and longitude (-180..180), or neither",
                "緯度と経度は両方を正しい範囲で記入するか、両方とも空欄にしてください",
            )
            lat = lon = None
        if status is None or answered_at is None or not subject:
            continue
        content = "|".join(
            (subject, status.value, answered_at.isoformat(), note or "", str(lat), str(lon))
        )
        answers.append(
            PaperAnswer(
                line=line,
                subject=subject,
                status=status,
                answered_at=answered_at,
                note=note,
                latitude=lat,
                longitude=lon,
                key="paper:" + hashlib.sha256(content.encode()).hexdigest()[:48],
            )
        )
    if not table.rows:
        problems.add(None, "the file has no answers", "回答の行がありません")
    problems.raise_if_any()
    return answers


async def read_answers_file(path: Path, now: datetime) -> list[PaperAnswer]:
    """Read and check a file off the event loop (a large CSV takes a while)."""
    problems = Problems(str(path), SafetyAnswersRefused)
    data = read_capped(path, MAX_FILE_BYTES, problems)
    return await asyncio.to_thread(parse_answers, data, str(path), now)


def event_uuid(raw: str) -> uuid.UUID | None:
    """An event named by its GraphQL id or its UUID."""
    from ..api.ids import decode_id
    from ..errors import NotFound

    try:
        return uuid.UUID(raw)
    except ValueError:
        try:
            return decode_id("DisasterEvent", raw, field="event")
        except NotFound:
            return None
