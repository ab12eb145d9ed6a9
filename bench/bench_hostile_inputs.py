"""Cost of the hostile inputs of issue 8: bounded checks vs what the old code did, same run.

Run: python bench/bench_hostile_inputs.py
Documents whose fragments each spread the next one twice, validated by strawberry's depth
and alias rules (the old path, 2^n) and by backend.api.limits (bounds first, then the
specification's rules); the app's own documents through both, so normal requests are seen
not to pay more; self-intersecting avoid stars repaired with shapely.make_valid (the old
path, ~n^3.4) and refused by parse_polygon_geometry(repair=False). Prints milliseconds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shapely
from graphql import parse, specified_rules, validate
from shapely.geometry import Polygon
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.api.limits import DocumentLimits, validate_bounded  # noqa: E402
from backend.api.schema import build_schema  # noqa: E402
from backend.config import Settings  # noqa: E402
from backend.hazards.sources import InvalidGeometry, parse_polygon_geometry  # noqa: E402
from tests.hostile import doubling_fragments, star  # noqa: E402

OPERATIONS = Path(__file__).resolve().parents[1] / "graphql" / "operations"


def best_ms(work: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def refuse(geometry: dict[str, Any]) -> None:
    try:
        parse_polygon_geometry(geometry, repair=False)
    except InvalidGeometry:
        return
    raise AssertionError("a self-intersecting star was accepted")


def main() -> None:
    settings = Settings()
    schema = build_schema(settings)._schema
    limits = DocumentLimits(settings.graphql_max_depth, settings.graphql_max_aliases)
    old_rules = [
        *specified_rules,
        depth_rule(settings.graphql_max_depth, None, None),
        alias_rule(settings.graphql_max_aliases),
    ]
    print("documents: old rules (strawberry depth + alias) vs bounded validation, ms")
    for count in (10, 12, 14, 16, 18):
        document = parse(doubling_fragments(count))
        old = best_ms(lambda d=document: validate(schema, d, old_rules), repeat=1)
        new = best_ms(
            lambda d=document: validate_bounded(schema, d, limits, specified_rules), repeat=10
        )
        print(f"  doubling fragments n={count:>2}: old {old:10.1f}   new {new:6.2f}")
    for path in sorted(OPERATIONS.glob("*.graphql")):
        document = parse(path.read_text(encoding="utf-8"))
        old = best_ms(lambda d=document: validate(schema, d, old_rules), repeat=10)
        new = best_ms(
            lambda d=document: validate_bounded(schema, d, limits, specified_rules), repeat=10
        )
        print(f"  app document {path.name:<24} old {old:6.2f}   new {new:6.2f}")

    print("self-intersecting avoid stars: make_valid (old) vs refusal (new), ms")
    for points in (21, 41, 61, 81):
        geometry = star(points)
        polygon = Polygon(geometry["coordinates"][0])
        old = best_ms(lambda p=polygon: shapely.make_valid(p), repeat=1)
        new = best_ms(lambda g=geometry: refuse(g))
        print(f"  star of {points:>3} vertices: old {old:10.1f}   new {new:6.2f}")


if __name__ == "__main__":
    main()
