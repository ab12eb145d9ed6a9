"""Strawberry schema extensions: operation metrics, and tracing when configured.

They come first in the schema's extension list, so they wrap the others: the time includes
parsing and validation, and errors are seen as the client gets them (unexpected ones already
masked as INTERNAL).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from ..config import Settings
from . import metrics, tracing

# Raised out of the operation and answered 400 by strawberry's view.
_REFUSED = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


class OperationMetrics(SchemaExtension):
    """Times every operation and counts its errors by code."""

    def on_operation(self) -> Iterator[None]:
        record = metrics.OperationRecord()
        token = metrics.current_operation.set(record)
        started = time.perf_counter()
        try:
            yield
        except _REFUSED:
            record.codes.append("BAD_REQUEST")
            raise
        except Exception:
            record.codes.append("INTERNAL")
            raise
        finally:
            metrics.current_operation.reset(token)
            context = self.execution_context
            result = context.result
            errors = getattr(result, "errors", None) or context.pre_execution_errors or []
            codes = [metrics.error_code((e.extensions or {}).get("code")) for e in errors]
            metrics.observe_operation(
                context.operation_name,
                _operation_type(self),
                time.perf_counter() - started,
                codes + record.codes,
            )


def _operation_type(extension: SchemaExtension) -> str:
    try:
        return extension.execution_context.operation_type.value
    except RuntimeError:  # the document did not parse, or names no such operation
        return "unknown"


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The extensions to put first in the schema's list (see the module docstring)."""
    extensions: list[Callable[[], SchemaExtension]] = []
    if metrics.metrics_served(settings):
        extensions.append(OperationMetrics)
    traced = tracing.graphql_extension(settings)
    if traced is not None:
        extensions.append(traced)
    return extensions
