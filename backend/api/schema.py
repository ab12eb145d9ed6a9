"""The strawberry Schema assembled from the domain query and mutation mixins."""

from __future__ import annotations

from collections.abc import Callable

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig

from ..auth.mutations import AuthMutations
from ..auth.queries import AuthQueries
from ..communities.mutations import CommunityMutations
from ..communities.queries import CommunityQueries
from ..config import Settings
from ..consent.mutations import ConsentMutations
from ..consent.queries import ConsentQueries
from ..family.mutations import FamilyMutations
from ..family.queries import FamilyQueries
from ..hazards.queries import HazardQueries
from ..municipalities.queries import MunicipalityQueries
from ..residents.mutations import ResidentMutations
from ..residents.queries import ResidentQueries
from ..routing.queries import RoutingQueries
from ..shelters.mutations import ShelterMutations
from ..shelters.queries import ShelterQueries
from .persisted import PersistedQueries, PersistedQueryExtension
from .scalars import SCALAR_MAP

GRAPHQL_DOCUMENT_CACHE = 512


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


def build_schema(settings: Settings) -> strawberry.Schema:
    """The schema with request limits from settings."""
    # The depth and alias rules are made once: the validation cache is keyed by the rule
    # classes, and QueryDepthLimiter/MaxAliasesLimiter make new ones per request (no hits).
    rules = [
        depth_rule(settings.graphql_max_depth, None, None),
        alias_rule(settings.graphql_max_aliases),
    ]
    # Factories, so every request gets fresh extension instances. The app sends the same
    # few documents again and again; parsing and validating them once saves ~70 % of a
    # small request (bounded LRU, so unique query texts cannot grow memory).
    persisted = PersistedQueries.from_folder(
        settings.operations_folder,
        learn=settings.learns_persisted_queries,
        capacity=GRAPHQL_DOCUMENT_CACHE,
    )
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: PersistedQueryExtension(persisted),
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: ParserCache(maxsize=GRAPHQL_DOCUMENT_CACHE),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=GRAPHQL_DOCUMENT_CACHE),
        lambda: InternalErrorMask(
            should_mask_error=_should_mask, error_message="internal server error"
        ),
    ]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )


def print_sdl() -> str:
    """The SDL of the schema, as committed in graphql/schema.graphql."""
    return build_schema(Settings()).as_str() + "\n"
