"""Typed GraphQL errors: payload errors for expected failures, top-level for auth only."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError

from ..errors import DomainError, ErrorCode, Unauthenticated, ValidationErrors

ErrorCodeType = strawberry.enum(ErrorCode, name="ErrorCode")


@strawberry.type(description="An expected failure of a mutation: which field, why, in ja and en.")
class UserError:
    code: ErrorCodeType  # type: ignore[valid-type]
    field: str | None
    message: str
    message_ja: str


class KizunaGraphQLError(GraphQLError):
    """A top-level error we raise on purpose; never masked."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


class AuthenticationRequired(KizunaGraphQLError):
    def __init__(self, message: str = "authentication required") -> None:
        super().__init__(message, ErrorCode.UNAUTHENTICATED.value)


def top_level_error(exc: DomainError) -> KizunaGraphQLError:
    """A domain error reported as a top-level GraphQL error (for queries)."""
    if isinstance(exc, Unauthenticated):
        return AuthenticationRequired(exc.message)
    return KizunaGraphQLError(
        exc.message, exc.code.value, messageJa=exc.message_ja, field=exc.field
    )


def user_errors(exc: DomainError) -> list[UserError]:
    """Payload errors for a domain error; authentication problems stay top-level."""
    if isinstance(exc, Unauthenticated):
        raise AuthenticationRequired(exc.message) from exc
    problems = exc.errors if isinstance(exc, ValidationErrors) else [exc]
    return [
        UserError(code=p.code, field=p.field, message=p.message, message_ja=p.message_ja)
        for p in problems
    ]


def enum_value(value: Enum | None) -> Any:
    return value.value if value is not None else None
