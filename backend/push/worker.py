"""The outbox worker: claims due push messages with a lease, sends them, records the outcome.

Several workers (processes, and several loops in each) may run at once. A batch goes through
three steps, and the send happens outside any transaction:

1. claim: one short write transaction leases up to ``batch_size`` due rows to this loop
   (and gives up at once on rows whose device is no longer active);
2. send: the messages, in each device's locale, go to the gateway (FCM or the log);
3. record: one transaction marks rows SENT, reschedules retries (exponential backoff with
   jitter, at least Retry-After), deactivates devices whose token FCM refused for good,
   gives up after ``max_attempts``, and writes a delivery record per attempt.

A worker killed between 1 and 3 loses nothing: its rows come due again when the lease ends
and another worker sends them. Only that in-flight batch can be sent twice; its messages
carry the notification id as collapse key, so a phone shows a repeat once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from notifications.fcm import FcmGateway
from notifications.gateway import LogGateway, Outcome, PushGateway, PushMessage, SendResult

from ..config import Settings
from ..db.base import utcnow
from ..db.session import WRITES, Database
from ..observability import metrics
from . import outbox
from . import service as push_service
from .models import NotificationCategory

log = logging.getLogger("kizuna.push.worker")
# Devices unused for 270 days are looked for this often (and once when a worker starts).
STALE_SWEEP_SECONDS = 6 * 3600


@dataclass(frozen=True)
class WorkerOptions:
    batch_size: int = 500
    concurrency: int = 2
    lease_seconds: float = 60.0
    poll_seconds: float = 1.0
    max_attempts: int = 10
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 900.0
    ttl_seconds: int = 86_400

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: float | None) -> WorkerOptions:
        """The settings' values, with the given (not None) values in their place."""
        values = {
            "batch_size": settings.push_batch_size,
            "concurrency": settings.push_concurrency,
            "lease_seconds": settings.push_lease_seconds,
            "poll_seconds": settings.push_poll_seconds,
            "max_attempts": settings.push_max_attempts,
            "retry_base_seconds": settings.push_retry_base_seconds,
            "retry_max_seconds": settings.push_retry_max_seconds,
            "ttl_seconds": settings.push_ttl_seconds,
        }
        names = {f.name for f in fields(cls)}
        values.update({k: v for k, v in overrides.items() if v is not None and k in names})
        return cls(**values)  # type: ignore[arg-type]


@dataclass
class BatchReport:
    """What one batch (or a whole run, summed) did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    invalid_token: int = 0
    failed: int = 0
    gave_up: int = 0  # retries exhausted
    device_inactive: int = 0
    # The longest Retry-After the gateway asked for (seconds), if any.
    retry_after: float | None = None

    def add(self, other: BatchReport) -> None:
        for name in ("claimed", "sent", "retried", "invalid_token", "failed", "gave_up"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.device_inactive += other.device_inactive
        if other.retry_after is not None:
            self.retry_after = max(self.retry_after or 0.0, other.retry_after)


def gateway_from_settings(settings: Settings) -> PushGateway:
    """FCM when a service-account file is configured, else the log gateway."""
    if settings.fcm_credentials_file is None:
        return LogGateway()
    return FcmGateway(
        credentials_file=settings.fcm_credentials_file,
        project_id=settings.fcm_project_id,
        endpoint=settings.fcm_endpoint,
        timeout_seconds=settings.fcm_timeout_seconds,
        max_in_flight=settings.fcm_max_in_flight,
    )


def message_for(row: outbox.Claimed, *, ttl_seconds: int) -> PushMessage:
    """The push for one claimed row, in the device's language (Japanese unless English)."""
    english = row.locale.lower().startswith("en") and bool(row.title_en) and bool(row.body_en)
    title = row.title_en if english and row.title_en else row.title_ja
    body = row.body_en if english and row.body_en else row.body_ja
    data = {str(k): str(v) for k, v in (row.data or {}).items()}
    data["notificationId"] = str(row.notification_id)
    data["category"] = row.category
    return PushMessage(
        token=row.token,
        title=title,
        body=body,
        data=data,
        urgent=row.category == NotificationCategory.EMERGENCY.value,
        ttl_seconds=ttl_seconds,
        collapse_key=str(row.notification_id),
    )


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds before the next attempt: base·2^(attempt-1) up to ``cap``, between half and all
    of it (jitter, so workers that failed together do not retry together), never less than
    what the service asked for."""
    step = min(cap, base * 2 ** max(0, attempt - 1))
    delay = step / 2 + (rng or random).uniform(0, step / 2)
    return max(delay, retry_after or 0.0)


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class OutboxWorker:
    """Delivers the outbox through one gateway; ``run`` loops, ``drain`` empties what is due."""

    def __init__(
        self,
        database: Database,
        gateway: PushGateway,
        options: WorkerOptions | None = None,
        *,
        name: str | None = None,
    ) -> None:
        self.database = database
        self.gateway = gateway
        self.options = options or WorkerOptions()
        self.name = name or worker_name()
        self._rng = random.Random()
        # After a Retry-After from the service, no loop of this worker claims until then.
        self._paused_until = 0.0
        self.totals = BatchReport()

    # -- one batch ---------------------------------------------------------------------
    async def run_batch(self, owner: str | None = None) -> BatchReport:
        """Claim, send and record one batch (claimed == 0: nothing was due)."""
        owner = owner or f"{self.name}/{uuid.uuid4().hex[:6]}"
        started = time.perf_counter()
        report = BatchReport()
        now = utcnow()
        claimed = await self._claim(owner, now, report)
        if not claimed:
            self.totals.add(report)
            return report
        messages = [message_for(row, ttl_seconds=self.options.ttl_seconds) for row in claimed]
        async with self._lease_kept(owner, [row.outbox_id for row in claimed]):
            results = await self._send(messages)
        await self._record(owner, claimed, results, report)
        metrics.PUSH_BATCH_SECONDS.labels(self.gateway.name).observe(time.perf_counter() - started)
        self.totals.add(report)
        if report.retry_after:
            self._paused_until = max(self._paused_until, time.monotonic() + report.retry_after)
        return report

    async def _claim(self, owner: str, now: datetime, report: BatchReport) -> list[outbox.Claimed]:
        lease_until = now + timedelta(seconds=self.options.lease_seconds)
        async with self.database.session() as session:
            # SQLite: take the write lock first (BEGIN IMMEDIATE), so claims never interleave.
            await session.connection(execution_options={WRITES: True})
            rows = await outbox.claim(
                session,
                owner=owner,
                now=now,
                lease_until=lease_until,
                limit=self.options.batch_size,
            )
            inactive = [row.outbox_id for row in rows if not row.device_active]
            await outbox.mark_dead(session, owner=owner, ids=inactive)
        report.claimed = len(rows)
        report.device_inactive = len(inactive)
        if inactive:
            metrics.PUSH_DROPPED.labels("device_inactive").inc(len(inactive))
        return [row for row in rows if row.device_active]

    @contextlib.asynccontextmanager
    async def _lease_kept(self, owner: str, ids: list[int]) -> AsyncIterator[None]:
        """Renew the batch's lease every third of it while the send runs: a slow FCM (many
        requests near their timeout) must not hand the batch to another worker, while a
        killed worker's batch still comes free one lease after its last renewal."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.options.lease_seconds / 3)
                lease_until = utcnow() + timedelta(seconds=self.options.lease_seconds)
                try:
                    async with self.database.session() as session:
                        await session.connection(execution_options={WRITES: True})
                        await outbox.renew_lease(
                            session, owner=owner, ids=ids, lease_until=lease_until
                        )
                except Exception:  # the next renewal may succeed; the lease covers a miss
                    log.warning("push lease renewal failed", exc_info=True)

        task = asyncio.get_running_loop().create_task(renew())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _send(self, messages: list[PushMessage]) -> list[SendResult]:
        try:
            results = await self.gateway.send(messages)
        except Exception:  # a gateway bug or an outage it did not classify: retry them all
            log.exception("push gateway failed", extra={"messages": len(messages)})
            return [SendResult(Outcome.RETRY, error_code="GATEWAY_ERROR")] * len(messages)
        if len(results) != len(messages):
            log.error("push gateway answered %d results for %d", len(results), len(messages))
            return [SendResult(Outcome.RETRY, error_code="GATEWAY_ERROR")] * len(messages)
        return results

    async def _record(
        self,
        owner: str,
        claimed: Sequence[outbox.Claimed],
        results: Sequence[SendResult],
        report: BatchReport,
    ) -> None:
        now = utcnow()
        sent: list[int] = []
        dead: list[int] = []
        due: list[tuple[int, datetime]] = []
        devices: dict[uuid.UUID, str] = {}
        attempts: list[outbox.Attempt] = []
        for row, result in zip(claimed, results, strict=True):
            attempts.append(
                outbox.Attempt(
                    row.outbox_id,
                    row.attempt,
                    result.outcome.value,
                    result.message_id,
                    result.error_code,
                )  # fmt: skip
            )
            metrics.PUSH_MESSAGES.labels(self.gateway.name, result.outcome.value).inc()
            if result.outcome is Outcome.SENT:
                sent.append(row.outbox_id)
            elif result.outcome is Outcome.RETRY:
                if row.attempt >= self.options.max_attempts:
                    dead.append(row.outbox_id)
                    report.gave_up += 1
                    metrics.PUSH_DROPPED.labels("attempts_exhausted").inc()
                    continue
                report.retried += 1
                if result.retry_after is not None:
                    report.retry_after = max(report.retry_after or 0.0, result.retry_after)
                delay = retry_delay(
                    row.attempt,
                    base=self.options.retry_base_seconds,
                    cap=self.options.retry_max_seconds,
                    retry_after=result.retry_after,
                    rng=self._rng,
                )
                due.append((row.outbox_id, now + timedelta(seconds=delay)))
            elif result.outcome is Outcome.INVALID_TOKEN:
                dead.append(row.outbox_id)
                report.invalid_token += 1
                devices[row.device_id] = (
                    "unregistered" if result.error_code == "UNREGISTERED" else "invalid"
                )
            else:
                dead.append(row.outbox_id)
                report.failed += 1
        report.sent = len(sent)
        async with self.database.session() as session:
            await session.connection(execution_options={WRITES: True})
            await outbox.mark_sent(session, owner=owner, ids=sent, now=now)
            await outbox.mark_dead(session, owner=owner, ids=dead)
            await outbox.reschedule(session, owner=owner, due=due)
            await outbox.deactivate_devices(session, reasons=devices, now=now)
            await outbox.add_records(
                session, attempts=attempts, gateway=self.gateway.name, worker=owner, at=now
            )

    # -- loops -------------------------------------------------------------------------
    async def drain(self) -> BatchReport:
        """Deliver everything due now (``concurrency`` batches at a time), then return."""

        async def loop(index: int) -> None:
            owner = f"{self.name}/{index}"
            # The service asked us to wait (Retry-After): what is left is not due "now".
            while time.monotonic() >= self._paused_until:
                if (await self.run_batch(owner)).claimed == 0:
                    return

        await asyncio.gather(*(loop(i) for i in range(self.options.concurrency)))
        return self.totals

    async def run(self, stop: asyncio.Event) -> BatchReport:
        """Deliver until ``stop`` is set, polling every ``poll_seconds`` while idle.

        Alongside, once at start and then every STALE_SWEEP_SECONDS, devices unused for 270
        days are deactivated: the worker is what runs on a schedule, and the sweep is cheap
        to repeat from several workers.
        """

        async def sweep() -> None:
            while not stop.is_set():
                try:
                    async with self.database.session() as session:
                        await session.connection(execution_options={WRITES: True})
                        count = await push_service.deactivate_stale_devices(session, utcnow())
                    if count:
                        log.info("stale devices deactivated", extra={"devices": count})
                except Exception:  # the database went away: try at the next sweep
                    log.exception("stale-device sweep failed")
                await _wait(stop, STALE_SWEEP_SECONDS)

        async def loop(index: int) -> None:
            owner = f"{self.name}/{index}"
            idle = False
            while not stop.is_set():
                await self._wait_out_pause(stop)
                try:
                    if idle and not await self._any_due():
                        await _wait(stop, self.options.poll_seconds)
                        continue
                    idle = (await self.run_batch(owner)).claimed == 0
                except Exception:  # the database went away: log, wait, try again
                    log.exception("push outbox batch failed")
                    idle = True
                    await _wait(stop, self.options.poll_seconds)

        await asyncio.gather(sweep(), *(loop(i) for i in range(self.options.concurrency)))
        return self.totals

    async def _any_due(self) -> bool:
        async with self.database.session() as session:
            return await outbox.any_due(session, now=utcnow())

    async def _wait_out_pause(self, stop: asyncio.Event) -> None:
        remaining = self._paused_until - time.monotonic()
        if remaining > 0:
            log.info("push paused for the service's Retry-After", extra={"seconds": remaining})
            await _wait(stop, remaining)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


@dataclass
class InProcessWorker:
    """The worker as a background task of the server (development: `kizuna serve`)."""

    worker: OutboxWorker
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[BatchReport] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.worker.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            try:
                await asyncio.wait_for(self.task, timeout=30)
            except TimeoutError:
                self.task.cancel()
        await self.worker.gateway.aclose()
