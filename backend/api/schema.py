"""The strawberry Schema assembled from the domain query and mutation mixins."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import aclosing
from typing import Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaskErrors, MaxTokensLimiter, ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionContext
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from ..alerts.mutations import AlertMutations
from ..alerts.queries import AlertQueries
from ..applications.mutations import ApplicationMutations
from ..applications.queries import ApplicationQueries
from ..auth.mutations import AuthMutations
from ..auth.queries import AuthQueries
from ..communities.mutations import CommunityMutations
from ..communities.queries import CommunityQueries
from ..config import Settings
from ..consent.mutations import ConsentMutations
from ..consent.queries import ConsentQueries
from ..dangerspots.mutations import DangerSpotMutations
from ..dangerspots.queries import DangerSpotQueries
from ..family.mutations import FamilyMutations
from ..family.queries import FamilyQueries
from ..family.types import FamilyMeFields
from ..hazards.queries import HazardQueries
from ..lifeevents.queries import LifeEventQueries
from ..municipalities.queries import MunicipalityQueries
from ..observability.extensions import schema_extensions
from ..plans.mutations import PlanMutations
from ..plans.queries import PlanQueries
from ..plans.register_mutations import SupportRegisterMutations
from ..plans.register_queries import SupportRegisterQueries
from ..portal.mutations import PortalMutations
from ..portal.queries import PortalQueries
from ..push.mutations import PushMutations
from ..push.queries import PushQueries
from ..push.types import PushMeFields
from ..residents.mutations import ResidentMutations
from ..residents.queries import ResidentQueries
from ..residents.types import ResidentMeFields
from ..routing.gate_mutations import TicketGateMutations
from ..routing.gate_queries import TicketGateQueries
from ..routing.queries import RoutingQueries
from ..safety.mutations import SafetyMutations
from ..safety.queries import SafetyQueries
from ..safety.subscriptions import SafetySubscriptions
from ..shelters.mutations import ShelterMutations
from ..shelters.queries import ShelterQueries
from ..shelters.subscriptions import ShelterSubscriptions
from ..supplies.mutations import SupplyMutations
from ..supplies.queries import SupplyQueries
from .context import Context
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
    TicketGateQueries,
    PushQueries,
    AlertQueries,
    SafetyQueries,
    PlanQueries,
    SupportRegisterQueries,
    DangerSpotQueries,
    SupplyQueries,
    LifeEventQueries,
    PortalQueries,
    ApplicationQueries,
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
    TicketGateMutations,
    PlanMutations,
    SupportRegisterMutations,
    DangerSpotMutations,
    SupplyMutations,
    PortalMutations,
    ApplicationMutations,
):
    pass


@strawberry.type
class Subscription(ShelterSubscriptions, SafetySubscriptions):
    pass


def _should_mask(error: GraphQLError) -> bool:
    # Syntax, validation and input-coercion errors (GraphQLError), our own typed errors
    # (KizunaGraphQLError, a GraphQLError) and an operation of a type the transport does not
    # run (a query over the websocket) are meant for the caller; anything else is a bug.
    original = error.original_error
    return original is not None and not isinstance(
        original, GraphQLError | InvalidOperationTypeError
    )


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

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> Any:
        # Over HTTP a subscription would run once and fail (its resolver returns a stream):
        # it is refused with 400, subscriptions go over the websocket.
        allowed = set(allowed_operation_types or (OperationType.QUERY, OperationType.MUTATION))
        allowed.discard(OperationType.SUBSCRIPTION)
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> Any:
        # Streams are the websocket's operations. strawberry runs all of one connection's
        # with the connection's context: each gets a context of its own, which a live view
        # renews at every re-read without touching its neighbours'. Queries and mutations go
        # over HTTP (its body limits and metrics), subscriptions only here.
        if isinstance(context_value, Context):
            context_value = context_value.for_operation()
            allowed_operation_types = (OperationType.SUBSCRIPTION,)
        results = await super().stream(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            operation_extensions,
            allowed_operation_types,
        )
        return _syntax_errors_answered(results)

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        # graphql-core's execute() takes hide_suggestions (input coercion "Did you mean"s);
        # strawberry has no option for it, this is the hook that reaches the call.
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        kwargs["hide_suggestions"] = self.hide_suggestions
        return kwargs


async def _syntax_errors_answered(results: AsyncGenerator[Any, None]) -> AsyncGenerator[Any, None]:
    """The stream, with a syntax error as its first result instead of raised out of it.

    ParserCache and MaxTokensLimiter raise the parser's error from their hook, which
    strawberry's stream lets through: the websocket handler logged a crash and completed
    the operation without a word. Given the error as a result, it closes the connection
    with 4400 and the error's message, as it does for a document that does not parse.
    """
    async with aclosing(results):
        try:
            first = await anext(results)
        except StopAsyncIteration:
            return
        except GraphQLError as error:
            yield PreExecutionError(data=None, errors=[error])
            return
        yield first
        async for result in results:
            yield result


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
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        hide_suggestions=not introspection,
    )


def print_sdl() -> str:
    """The SDL of the schema, as committed in graphql/schema.graphql."""
    return build_schema(Settings()).as_str() + "\n"
