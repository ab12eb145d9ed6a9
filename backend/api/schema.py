"""The strawberry Schema assembled from the domain query and mutation mixins."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, MaxTokensLimiter, ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from ..alerts.mutations import AlertMutations
from ..alerts.queries import AlertQueries
from ..auth.mutations import AuthMutations
from ..auth.queries import AuthQueries
from ..communities.mutations import CommunityMutations
from ..communities.queries import CommunityQueries
from ..config import Settings
from ..consent.mutations import ConsentMutations
from ..consent.queries import ConsentQueries
from ..family.mutations import FamilyMutations
from ..family.queries import FamilyQueries
from ..family.types import FamilyMeFields
from ..hazards.queries import HazardQueries
from ..municipalities.queries import MunicipalityQueries
from ..observability.extensions import schema_extensions
from ..push.mutations import PushMutations
from ..push.queries import PushQueries
from ..push.types import PushMeFields
from ..residents.mutations import ResidentMutations
from ..residents.queries import ResidentQueries
from ..residents.types import ResidentMeFields
from ..routing.queries import RoutingQueries
from ..safety.mutations import SafetyMutations
from ..safety.queries import SafetyQueries
from ..shelters.mutations import ShelterMutations
from ..shelters.queries import ShelterQueries
from .limits import BoundedValidation, DocumentLimits, ValidationResults
from .persisted import PersistedQueries, PersistedQueryExtension
from .scalars import SCALAR_MAP

GRAPHQL_DOCUMENT_CACHE = 512
log = logging.getLogger("kizuna.graphql")


@strawberry.type(name="Me", description="The signed-in resident's own record.")
class Me(ResidentMeFields, FamilyMeFields, PushMeFields):
    """Composed from each domain's fields of the signed-in resident."""


@strawberry.type
class Query(
    ResidentQueries,
    FamilyQueries,
    MunicipalityQueries,
    AuthQueries,
    ConsentQueries,
    CommunityQueries,
    ShelterQueries,
    HazardQueries,
    RoutingQueries,
    PushQueries,
    AlertQueries,
    SafetyQueries,
):
    pass


@strawberry.type
class Mutation(
    ResidentMutations,
    FamilyMutations,
    AuthMutations,
    ConsentMutations,
    CommunityMutations,
    ShelterMutations,
    PushMutations,
    AlertMutations,
    SafetyMutations,
):
    pass


def _should_mask(error: GraphQLError) -> bool:
    # Syntax, validation and input-coercion errors (GraphQLError) and our own typed errors
    # (KizunaGraphQLError, a GraphQLError) are meant for the caller; anything else is a bug.
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class InternalErrorMask(MaskErrors):
    """Hides unexpected exceptions behind a generic message with code INTERNAL."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": "INTERNAL"},
        )


class KizunaSchema(strawberry.Schema):
    """The schema with our logging of errors and, when configured, no field suggestions."""

    def __init__(self, *args: Any, hide_suggestions: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hide_suggestions = hide_suggestions

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Errors meant for the caller (bad documents, our typed errors) are routine: one
        # line at INFO. Only unexpected exceptions are logged at ERROR with their traceback.
        operation = execution_context.operation_name if execution_context else None
        for error in errors:
            extra = {
                "operation": operation,
                "path": ".".join(map(str, error.path)) if error.path else None,
                "code": (error.extensions or {}).get("code"),
            }
            if _should_mask(error):
                cause = error.original_error
                log.error("unexpected error: %s", error.message, exc_info=cause, extra=extra)
            else:
                log.info("request error: %s", error.message, extra=extra)

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        # graphql-core's execute() takes hide_suggestions (input coercion "Did you mean"s);
        # strawberry has no option for it, this is the hook that reaches the call.
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        kwargs["hide_suggestions"] = self.hide_suggestions
        return kwargs


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with request limits from settings."""
    introspection = settings.graphql_introspection_enabled
    limits = DocumentLimits(
        max_depth=settings.graphql_max_depth, max_aliases=settings.graphql_max_aliases
    )
    # Shared by every request's extension: the app sends the same few documents again and
    # again, and parsing and validating them once saves ~70 % of a small request (bounded,
    # so unique query texts cannot grow memory).
    results = ValidationResults(GRAPHQL_DOCUMENT_CACHE)
    extra_rules = [] if introspection else [NoSchemaIntrospectionCustomRule]
    # The app's documents by hash (persisted queries), read once per schema.
    persisted = PersistedQueries.from_folder(
        settings.operations_folder,
        learn=settings.learns_persisted_queries,
        capacity=GRAPHQL_DOCUMENT_CACHE,
    )
    # Factories, so every request gets fresh extension instances.
    extensions: list[Callable[[], SchemaExtension]] = [
        # Before anything reads the document: a hash becomes the document it stands for. It
        # comes first because strawberry does not unwind the hooks entered before one that
        # refuses the operation (an unknown hash), which would leave them dangling.
        lambda: PersistedQueryExtension(persisted),
        *schema_extensions(settings),  # then: they see the whole operation, errors masked
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: ParserCache(maxsize=GRAPHQL_DOCUMENT_CACHE),
        lambda: BoundedValidation(
            limits, results, extra_rules=extra_rules, hide_suggestions=not introspection
        ),
        lambda: InternalErrorMask(
            should_mask_error=_should_mask, error_message="internal server error"
        ),
    ]
    return KizunaSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        hide_suggestions=not introspection,
    )


def print_sdl() -> str:
    """The SDL of the schema, as committed in graphql/schema.graphql."""
    return build_schema(Settings()).as_str() + "\n"
