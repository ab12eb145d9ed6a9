"""What a push gateway takes and answers: messages in, one result per message out.

The caller (the outbox worker) decides what to do with each result: mark it sent, try again
later, deactivate the device, or give up. Nothing here touches the database.
"""

from __future__ import annotations

import email.utils
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

log = logging.getLogger("kizuna.push.gateway")


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # the service could not take it now (UNAVAILABLE, INTERNAL, quota, timeout)
    INVALID_TOKEN = "invalid_token"  # the token will never work again: deactivate the device
    FAILED = "failed"  # this message will never be accepted; retrying would not help


@dataclass(frozen=True, slots=True)
class PushMessage:
    """One notification for one device token."""

    token: str
    title: str
    body: str
    data: Mapping[str, str] = field(default_factory=dict)
    # Emergencies go out at high priority (Android "high", APNs priority 10) and wake the device.
    urgent: bool = False
    # How long the push service keeps the message for an offline device (None: its default).
    ttl_seconds: int | None = None
    # A later message with the same key replaces an undelivered earlier one on the device, so
    # a duplicate send (a worker killed mid-batch) shows once.
    collapse_key: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    message_id: str | None = None
    # The service's error code (UNREGISTERED, QUOTA_EXCEEDED, UNAVAILABLE, ...), or None.
    error_code: str | None = None
    # Seconds the service asked us to wait (Retry-After), for RETRY outcomes.
    retry_after: float | None = None

    @classmethod
    def sent(cls, message_id: str | None) -> SendResult:
        return cls(Outcome.SENT, message_id=message_id)


class PushGateway(Protocol):
    """Sends push messages; ``send`` answers one result per message, in order, and never
    raises for a message the service refused (a refusal is a result)."""

    name: str
    # The most messages one ``send`` call takes (FCM: 500).
    max_batch: int

    async def send(self, messages: Sequence[PushMessage]) -> list[SendResult]: ...

    async def aclose(self) -> None: ...


class LogGateway:
    """Writes each message to the log instead of sending it (no FCM credentials configured).

    The delivery records and the in-app inbox still show what would have been pushed.
    """

    name = "log"
    max_batch = 500

    def __init__(self, *, logger: logging.Logger | None = None) -> None:
        self._log = logger or log

    async def send(self, messages: Sequence[PushMessage]) -> list[SendResult]:
        results = []
        for message in messages:
            message_id = f"log:{uuid.uuid4().hex}"
            if self._log.isEnabledFor(logging.INFO):
                self._log.info(
                    "push (log gateway)",
                    extra={
                        "token": redact_token(message.token),
                        "title": message.title,
                        "body": message.body,
                        "data": dict(message.data),
                        "urgent": message.urgent,
                        "message_id": message_id,
                    },
                )
            results.append(SendResult.sent(message_id))
        return results

    async def aclose(self) -> None:
        return None


def redact_token(token: str) -> str:
    """Enough of a device token to tell tokens apart in a log, not enough to use it."""
    return f"{token[:6]}…{token[-4:]}" if len(token) > 12 else "…"


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - (time.time() if now is None else now))
