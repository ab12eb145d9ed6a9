"""Expected failures raised by services and turned into typed GraphQL errors at the edge.

One hierarchy for every domain: a stable ``code``, an English ``message``, a wholly Japanese
``message_ja`` and the input ``field`` at fault, named as the client sent it (camelCase, with
list indices such as ``avoid[0]``). GraphQL shows them as payload errors of mutations and as
union members of query results, all implementing the one ``Error`` interface.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    NOT_PERMITTED = "NOT_PERMITTED"
    CONFLICT = "CONFLICT"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    EXPIRED = "EXPIRED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    # Evacuation routing: why no walk could be planned.
    INVALID_COORDINATE = "INVALID_COORDINATE"
    OUTSIDE_ROUTING_AREA = "OUTSIDE_ROUTING_AREA"
    POINT_OFF_NETWORK = "POINT_OFF_NETWORK"
    NO_ROUTE = "NO_ROUTE"
    NO_SHELTER = "NO_SHELTER"
    ROUTING_UNAVAILABLE = "ROUTING_UNAVAILABLE"
    # Shelter check-in: why a shelter did not take someone in.
    SHELTER_CLOSED = "SHELTER_CLOSED"
    SHELTER_FULL = "SHELTER_FULL"


class DomainError(Exception):
    """An expected failure with a stable code and a message in Japanese and English."""

    code: ErrorCode = ErrorCode.VALIDATION

    def __init__(self, message: str, message_ja: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_ja = message_ja
        self.field = field


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION

    @classmethod
    def at(cls, field: str, message: str, message_ja: str) -> ValidationFailed:
        """One problem with one input field."""
        return cls(message, message_ja, field=field)


class NotFound(DomainError):
    """Unknown ids and ids the caller may not see look the same: existence never leaks."""

    code = ErrorCode.NOT_FOUND

    def __init__(self, what: str, what_ja: str, *, field: str | None = None) -> None:
        super().__init__(f"{what} not found", f"{what_ja}が見つかりません", field=field)


class NotPermitted(DomainError):
    code = ErrorCode.NOT_PERMITTED

    def __init__(
        self,
        message: str = "not permitted",
        message_ja: str = "この操作は許可されていません",
        *,
        field: str | None = None,
    ) -> None:
        super().__init__(message, message_ja, field=field)


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class LimitExceeded(DomainError):
    code = ErrorCode.LIMIT_EXCEEDED


class Expired(DomainError):
    code = ErrorCode.EXPIRED


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED

    def __init__(
        self,
        message: str = "authentication required",
        message_ja: str = "ログインが必要です",
    ) -> None:
        super().__init__(message, message_ja)


class ValidationErrors(DomainError):
    """Several field problems found at once, reported together."""

    code = ErrorCode.VALIDATION

    def __init__(self, errors: list[ValidationFailed]) -> None:
        super().__init__(
            "; ".join(e.message for e in errors),
            "。".join(e.message_ja.rstrip("。") for e in errors),
            field=errors[0].field if errors else None,
        )
        self.errors = errors


class Checker:
    """Collects field problems so a caller sees every mistake in one answer."""

    def __init__(self) -> None:
        self.errors: list[ValidationFailed] = []

    def add(self, field: str, message: str, message_ja: str) -> None:
        self.errors.append(ValidationFailed(message, message_ja, field=field))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationErrors(self.errors)


def problems_of(error: DomainError) -> list[DomainError]:
    """The individual problems of an error (several for ValidationErrors, else itself)."""
    return list(error.errors) if isinstance(error, ValidationErrors) else [error]
