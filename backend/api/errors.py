"""Typed GraphQL errors: one ``Error`` interface for payload errors and result-union members.

Mutations return their expected failures as payload ``errors``; query results that can fail
in an expected way are unions whose error member implements ``Error`` (``RouteError``,
``AccessDenied``). Top-level GraphQL errors are for authentication and the unexpected only
(plus the argument validation of plain queries, which carry ``extensions.code``).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError

from ..errors import DomainError, ErrorCode, Unauthenticated, problems_of
from ..observability.metrics import note_expected_error

if TYPE_CHECKING:
    ErrorCodeType = ErrorCode
else:
    ErrorCodeType = strawberry.enum(
        ErrorCode, name="ErrorCode", description="Why something failed, stable across versions."
    )


@strawberry.interface(
    name="Error",
    description="An expected failure: a stable code, the input field at fault, why in ja and en.",
)
class ErrorInterface:
    code: ErrorCodeType = strawberry.field(description="Stable, machine-readable reason")
    field: str | None = strawberry.field(
        description="The input field at fault, as the client sent it (e.g. `latitude`, "
        "`avoid[0]`); null when no single field is"
    )
    message: str = strawberry.field(description="Why, in English")
    message_ja: str = strawberry.field(description="Why, in Japanese (日本語)")


@strawberry.type(description="An expected failure of a mutation (one per offending field).")
class UserError(ErrorInterface):
    @classmethod
    def of(cls, problem: DomainError) -> UserError:
        return cls(
            code=problem.code,
            field=problem.field,
            message=problem.message,
            message_ja=problem.message_ja,
        )


class KizunaGraphQLError(GraphQLError):
    """A top-level error we raise on purpose; never masked."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


class AuthenticationRequired(KizunaGraphQLError):
    def __init__(self, message: str = "authentication required") -> None:
        super().__init__(message, ErrorCode.UNAUTHENTICATED.value)


def top_level_error(exc: DomainError) -> KizunaGraphQLError:
    """A domain error as a top-level GraphQL error (queries without an error union)."""
    if isinstance(exc, Unauthenticated):
        return AuthenticationRequired(exc.message)
    problems = problems_of(exc)
    return KizunaGraphQLError(
        exc.message,
        exc.code.value,
        messageJa=exc.message_ja,
        field=exc.field,
        fields=[p.field for p in problems if p.field],
    )


def user_errors(exc: DomainError) -> list[UserError]:
    """Payload errors for a domain error; authentication problems stay top-level."""
    if isinstance(exc, Unauthenticated):
        raise AuthenticationRequired(exc.message) from exc
    note_expected_error(exc.code.value)
    return [UserError.of(p) for p in problems_of(exc)]


def union_error_fields(exc: DomainError) -> dict[str, Any]:
    """The fields of a result-union error member with ``fields``; sign-in stays top-level."""
    problems = user_errors(exc)
    return {
        "code": exc.code,
        "field": problems[0].field,
        "message": exc.message,
        "message_ja": exc.message_ja,
        "fields": [p.field for p in problems if p.field],
    }


def enum_value(value: Enum | None) -> Any:
    return value.value if value is not None else None
