"""One way in for alert documents (CLI, HTTP relay endpoint, feed pollers).

The document's size is checked first; parsing (defusedxml, schema validation) and cutting the
areas into cells run in a worker thread; each draft is then stored in its own transaction.
A refused document is answered with its reason and kept only in the rejection log (name,
size, hash, reason: never its content).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field

from ..config import Settings
from ..db.session import RequestDatabase
from ..errors import Conflict, DomainError, ValidationFailed
from . import repository
from .drafts import AlertDraft, AlertSource
from .service import PreparedDraft, StoreOutcome, prepare, store

log = logging.getLogger("kizuna.alerts")

_SOURCE_LABELS = {
    AlertSource.JMA: ("JMA disaster XML", "気象庁防災情報XML"),
    AlertSource.CAP: ("CAP 1.2", "CAP 1.2"),
    AlertSource.L_ALERT: ("L-Alert", "Lアラート"),
}


@dataclass(slots=True)
class IngestReport:
    """What one document did: an outcome per draft it held."""

    name: str
    sha256: str
    outcomes: list[tuple[AlertDraft, StoreOutcome]] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(1 for _, o in self.outcomes if o.duplicate)

    @property
    def concerned_residents(self) -> int:
        return sum(o.concerned_residents for _, o in self.outcomes)


def _parse(data: bytes, name: str, expect: AlertSource | None) -> list[PreparedDraft]:
    from .sources.edxl import parse_alert_document

    drafts = parse_alert_document(data, name)
    if expect is not None:
        wrong = {d.source for d in drafts} - {expect}
        if wrong:
            found_en, found_ja = _SOURCE_LABELS.get(
                next(iter(wrong)), ("another format", "別の形式")
            )
            want_en, want_ja = _SOURCE_LABELS[expect]
            raise ValidationFailed(
                f"{name}: expected {want_en}, found {found_en}",
                f"{name}: {want_ja}ではなく{found_ja}です",
            )
    return prepare(drafts)


async def ingest_document(
    db: RequestDatabase,
    settings: Settings,
    data: bytes,
    name: str,
    *,
    via: str,
    client: str | None = None,
    expect: AlertSource | None = None,
) -> IngestReport:
    """Parse, check and store one alert document; refusals raise after being logged."""
    sha256 = hashlib.sha256(data).hexdigest()
    report = IngestReport(name, sha256)
    try:
        if len(data) > settings.alert_max_document_bytes:
            limit = settings.alert_max_document_bytes
            raise ValidationFailed(
                f"{name}: the document is larger than {limit} bytes",
                f"{name}: 文書が大きすぎます（上限 {limit} バイト）",
            )
        prepared = await asyncio.to_thread(_parse, data, name, expect)
    except DomainError as exc:
        async with db.transaction() as session:
            await repository.add_rejection(
                session,
                {
                    "via": via,
                    "name": name[:255],
                    "size": len(data),
                    "sha256": sha256,
                    "reason": exc.message,
                    "reason_ja": exc.message_ja,
                    "client": client,
                },
            )
        log.info("alert document refused", extra={"document": name, "reason": exc.message})
        raise
    for item in prepared:
        try:
            async with db.transaction() as session:
                outcome = await store(
                    session, item, via=via, sha256=sha256, open_events=settings.auto_open_events
                )
        except Conflict:
            # Another process stored this alert at the same moment: once more, it finds
            # the alert (or the receipt) and updates or ignores as usual.
            async with db.transaction() as session:
                outcome = await store(
                    session, item, via=via, sha256=sha256, open_events=settings.auto_open_events
                )
        report.outcomes.append((item.draft, outcome))
    log.info(
        "alert document ingested",
        extra={
            "document": name,
            "drafts": len(report.outcomes),
            "duplicates": report.duplicates,
            "concerned": report.concerned_residents,
        },
    )
    return report
