"""Bounds on a GraphQL document, measured in one linear pass before any validation rule runs.

strawberry's depth and alias limiters walk a fragment again at every spread: a 1 KB document
whose fragments each spread the next one twice costs 2^n (20 fragments took 17 s).
graphql-core's OverlappingFieldsCanBeMergedRule compares every pair of fields that share a
response name and every pair of fragments in a selection set: quadratic (400 copies of one
field took 1.5 s). Here each fragment is measured once, as if it were inlined wherever it
is spread, and a document over any bound is refused before the specification's rules see it.
Validation runs in a worker thread either way, so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from ..errors import ErrorCode

# Fields of one operation once its fragments are inlined; the app's largest screen has 35.
MAX_EXPANDED_FIELDS = 2_000
# Times one response path (`me.places`) may be selected, through fragments and repeated
# parents: colocated fragments repeat `id`, nobody needs a field twenty times.
MAX_FIELD_REPEATS = 20
# Fragment definitions in one document: graphql-core compares them pairwise.
MAX_FRAGMENTS = 50


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    max_depth: int
    max_aliases: int
    max_fields: int = MAX_EXPANDED_FIELDS
    max_repeats: int = MAX_FIELD_REPEATS
    max_fragments: int = MAX_FRAGMENTS


def _too_complex(message: str, nodes: Node | Sequence[Node] | None = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": ErrorCode.LIMIT_EXCEEDED.value})


class _Exceeded(Exception):
    def __init__(self, error: GraphQLError) -> None:
        super().__init__(error.message)
        self.error = error


ResponsePath = tuple[str, ...]


@dataclass(slots=True)
class _Shape:
    """A selection set measured as if every fragment in it were inlined.

    Fields with one response name at one level are merged by execution and compared pairwise
    by validation, sub-selections included, so repeats are counted per response path
    (``me.places`` twice in each of twenty ``me`` is forty ``me.places``).
    """

    depth: int = 0  # levels of fields with sub-selections (introspection not counted)
    aliases: int = 0
    fields: int = 0
    paths: Counter[ResponsePath] = field(default_factory=Counter)  # response paths below this set


class _Measure:
    """Measures the document's fragments once each, then its operations."""

    def __init__(self, document: DocumentNode, limits: DocumentLimits) -> None:
        self.limits = limits
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                # Duplicates are reported by UniqueFragmentNamesRule; the first one counts.
                self.fragments.setdefault(definition.name.value, definition)
        self.shapes: dict[str, _Shape] = {}

    def measure_fragments(self) -> None:
        for name in self._dependencies_first():
            self.shapes[name] = self.selection_set(self.fragments[name].selection_set)

    def _dependencies_first(self) -> Iterator[str]:
        """Fragment names, each after the fragments it spreads (iterative: chains may be long).

        A spread that closes a cycle is skipped (NoFragmentCyclesRule reports the cycle), so
        a fragment on a cycle is measured without it.
        """
        done: set[str] = set()
        for root in self.fragments:
            if root in done:
                continue
            on_path = {root}
            stack = [(root, iter(_spreads(self.fragments[root].selection_set)))]
            while stack:
                name, pending = stack[-1]
                child = next(pending, None)
                if child is None:
                    stack.pop()
                    on_path.discard(name)
                    done.add(name)
                    yield name
                elif child in self.fragments and child not in done and child not in on_path:
                    on_path.add(child)
                    stack.append((child, iter(_spreads(self.fragments[child].selection_set))))

    def selection_set(self, selection_set: SelectionSetNode) -> _Shape:
        shape = _Shape()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                shape.fields += 1
                shape.aliases += selection.alias is not None
                self._count(shape, (key,), 1, selection)
                if selection.selection_set is not None:
                    sub = self.selection_set(selection.selection_set)
                    # Introspection may nest deeper than data (it is off in production).
                    if not selection.name.value.startswith("__"):
                        shape.depth = max(shape.depth, sub.depth + 1)
                    self._add(shape, sub, (key,), selection)
            elif isinstance(selection, InlineFragmentNode):
                sub = self.selection_set(selection.selection_set)
                shape.depth = max(shape.depth, sub.depth)
                self._add(shape, sub, (), selection)
            elif isinstance(selection, FragmentSpreadNode):
                spread = self.shapes.get(selection.name.value)
                if spread is not None:  # unknown or on a cycle: the rules report it
                    shape.depth = max(shape.depth, spread.depth)
                    self._add(shape, spread, (), selection)
        return shape

    def _add(self, shape: _Shape, sub: _Shape, prefix: ResponsePath, node: Node) -> None:
        shape.aliases += sub.aliases
        shape.fields += sub.fields
        # Checked as the counts grow, so an exponential document stops at the bound
        # instead of being counted to the end.
        if shape.fields > self.limits.max_fields:
            raise _Exceeded(
                _too_complex(
                    f"the document selects more than {self.limits.max_fields} fields once "
                    "its fragments are expanded",
                    node,
                )
            )
        for path, count in sub.paths.items():
            self._count(shape, prefix + path, count, node)

    def _count(self, shape: _Shape, path: ResponsePath, count: int, node: Node) -> None:
        total = shape.paths[path] = shape.paths[path] + count
        if total > self.limits.max_repeats:
            raise _Exceeded(
                _too_complex(
                    f"field {'.'.join(path)!r} is selected {total} times (fragments "
                    f"included); at most {self.limits.max_repeats} are allowed",
                    node,
                )
            )


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """Names of the fragments spread anywhere inside a selection set."""
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)


def check_document(document: DocumentNode, limits: DocumentLimits) -> list[GraphQLError]:
    """Errors for every bound the document exceeds (depth, aliases, size); linear time."""
    fragment_count = sum(isinstance(d, FragmentDefinitionNode) for d in document.definitions)
    if fragment_count > limits.max_fragments:
        return [
            _too_complex(
                f"the document defines {fragment_count} fragments; at most "
                f"{limits.max_fragments} are allowed"
            )
        ]
    measure = _Measure(document, limits)
    errors: list[GraphQLError] = []
    try:
        measure.measure_fragments()
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            name = definition.name.value if definition.name else "anonymous"
            shape = measure.selection_set(definition.selection_set)
            if shape.depth > limits.max_depth:
                errors.append(
                    _too_complex(
                        f"'{name}' exceeds maximum operation depth of {limits.max_depth}",
                        definition,
                    )
                )
            if shape.aliases > limits.max_aliases:
                errors.append(
                    _too_complex(
                        f"'{name}' has {shape.aliases} aliases (fragments included); at most "
                        f"{limits.max_aliases} are allowed",
                        definition,
                    )
                )
    except _Exceeded as exceeded:
        return [exceeded.error]
    return errors


def validate_bounded(
    schema: GraphQLSchema,
    document: DocumentNode,
    limits: DocumentLimits,
    rules: Sequence[type[ASTValidationRule]],
    *,
    hide_suggestions: bool = False,
) -> list[GraphQLError]:
    """The document's bounds first; only a document within them meets the other rules."""
    errors = check_document(document, limits)
    if errors:
        return errors
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


class ValidationResults:
    """Recent validation results by document text (bounded, so unique texts cannot grow it).

    Only touched on the event loop, so it needs no lock.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._results: OrderedDict[str, list[GraphQLError]] = OrderedDict()

    def get(self, query: str) -> list[GraphQLError] | None:
        result = self._results.get(query)
        if result is not None:
            self._results.move_to_end(query)
        return result

    def put(self, query: str, errors: list[GraphQLError]) -> None:
        self._results[query] = errors
        if len(self._results) > self.maxsize:
            self._results.popitem(last=False)


class BoundedValidation(SchemaExtension):
    """Validates each document in a worker thread, bounds first, and caches the result.

    It takes strawberry's validation step (strawberry skips its own once
    pre_execution_errors is set) and refuses a document with several operations and no
    operationName, as the specification asks, instead of running the first one.
    """

    def __init__(
        self,
        limits: DocumentLimits,
        results: ValidationResults,
        *,
        extra_rules: Sequence[type[ASTValidationRule]] = (),
        hide_suggestions: bool = False,
    ) -> None:
        super().__init__()
        self.limits = limits
        self.results = results
        self.extra_rules = tuple(extra_rules)
        self.hide_suggestions = hide_suggestions

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None
        operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
        # context.operation_name falls back to the first operation; only the private field
        # tells whether the client named one.
        if operations > 1 and context._provided_operation_name is None:
            context.pre_execution_errors = [
                GraphQLError(
                    "the document has several operations: name the one to run in operationName",
                    extensions={"code": "BAD_REQUEST"},
                )
            ]
        else:
            context.pre_execution_errors = await self._validate(context.query, document)
        yield

    async def _validate(self, query: str | None, document: DocumentNode) -> list[GraphQLError]:
        cached = self.results.get(query) if query is not None else None
        if cached is not None:
            return cached
        context = self.execution_context
        rules = (
            *context.validation_rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            *self.extra_rules,
        )
        errors = await asyncio.to_thread(
            validate_bounded,
            context.schema._schema,
            document,
            self.limits,
            rules,
            hide_suggestions=self.hide_suggestions,
        )
        if query is not None:
            self.results.put(query, errors)
        return errors
