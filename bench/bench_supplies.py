"""Supplies: the cost of parsing catalogs and of building checklists, in one process.

Run: .venv/bin/python bench/bench_supplies.py [--runs 20]

1. Parsing a catalog (YAML with line numbers, every rule checked): the shipped default
   catalog (the baseline) against the largest one accepted (items of 10 rules up to the
   size cap): the import CLI's worst case, run in a worker thread by the service.
2. Building a checklist from the default catalog: one person (the baseline, `mySupplies`)
   against the largest household (30 family members with pets, medication and diets, the
   family-group limit), for 14 days — pure CPU work done per `householdSupplies` request.
Prints the median and p95 of each, and the ratio to its baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backend.supplies.catalog import (  # noqa: E402
    MAX_CATALOG_BYTES,
    MAX_ITEMS,
    MAX_RULES_PER_ITEM,
    default_catalog,
    parse_catalog,
)
from backend.supplies.checklist import Person, build  # noqa: E402

DEFAULT = (
    Path(__file__).resolve().parent.parent / "backend/supplies/default_catalog.yaml"
).read_bytes()


def largest_catalog() -> bytes:
    rule = (
        "      - {per: person_day, quantity: 1.5, reason_ja: 理由, reason_en: why,"
        " when: {age_min: 3, age_max: 90, genders: [female, male], dietary: [allergy]}}\n"
    )
    item = (
        "  - code: item_{n}\n    name_ja: 品目{n}\n    name_en: Item {n}\n    unit_ja: 個\n"
        "    unit_en: pieces\n    category: tools\n    rules:\n" + rule * MAX_RULES_PER_ITEM
    )
    text = "mode: replace\nitems:\n"
    for n in range(MAX_ITEMS):
        more = item.replace("{n}", str(n))
        if len((text + more).encode()) > MAX_CATALOG_BYTES:
            break  # as many whole items as the size cap lets in
        text += more
    return text.encode()


def household(size: int) -> list[Person]:
    people = []
    for n in range(size):
        people.append(
            Person(
                age=(n * 7) % 95,
                gender=("female", "male", None)[n % 3],
                pets=(("dog", 1), ("cat", 2)) if n % 4 == 0 else (),
                medication=n % 2 == 0,
                dietary=frozenset({"allergy"}) if n % 5 == 0 else frozenset(),
            )
        )
    return people


def timed(work: Callable[[], object], runs: int) -> list[float]:
    work()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(label: str, times: list[float], baseline: list[float] | None = None) -> None:
    median = statistics.median(times)
    p95 = sorted(times)[max(0, round(0.95 * len(times)) - 1)]
    ratio = f"  x{median / statistics.median(baseline):.1f} the baseline" if baseline else ""
    print(f"{label:<52} median {median:9.3f} ms  p95 {p95:9.3f} ms{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    big = largest_catalog()
    items = default_catalog().items
    print(f"default catalog: {len(DEFAULT):,} bytes, {len(items)} items")
    count = big.count(b"  - code: ")
    print(f"largest catalog: {len(big):,} bytes, {count} items x {MAX_RULES_PER_ITEM} rules")
    base = timed(lambda: parse_catalog(DEFAULT, "default.yaml"), args.runs)
    report("parse default catalog (baseline)", base)
    report(
        "parse largest accepted catalog",
        timed(lambda: parse_catalog(big, "big.yaml"), args.runs),
        base,
    )
    one, thirty = household(1), household(30)
    base = timed(lambda: build(items, one, 14), args.runs * 10)
    report("checklist, 1 person, 14 days (baseline)", base)
    report(
        "checklist, household of 30, 14 days",
        timed(lambda: build(items, thirty, 14), args.runs * 10),
        base,
    )


if __name__ == "__main__":
    main()
