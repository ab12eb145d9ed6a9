"""myPortal's ranking for a catalog of 2,000 services across 59 municipalities.

Prints p50/p95 of the indexed portal (what a request runs, after its few look-ups) against
evaluating every rule of every service (the naive way), for the same callers, in one run;
and checks both give the same answer.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import UTC, datetime

from backend.portal.rules import (
    ALL_RELATIONS,
    HOUSEHOLD_FACTS,
    MUNICIPALITIES_SCOPE,
    PREFECTURE_SCOPE,
    Audience,
    Entry,
    Facts,
    PortalIndex,
    Relation,
    Situation,
    naive_portal,
)

SERVICES, MUNICIPALITIES, CALLERS = 2000, 59, 2000


def catalog(rng: random.Random, codes: list[str]) -> list[Entry]:
    entries = []
    for n in range(SERVICES):
        prefecture = rng.random() < 0.05
        personal = rng.random() < 0.25
        audience = Audience(
            relations=frozenset(rng.sample(sorted(ALL_RELATIONS), rng.randint(1, 4))),
            min_age=rng.choice([None, 65, 18]) if personal else None,
            household=tuple(rng.sample(sorted(HOUSEHOLD_FACTS), 1))
            if personal and rng.random() < 0.6
            else (),
            languages=("en",) if personal and rng.random() < 0.1 else (),
        )
        if personal and not audience.personal:
            audience = Audience(relations=audience.relations, min_age=65)
        owner = rng.choice(codes)
        entries.append(
            Entry(
                id=uuid.uuid4(),
                code=f"s{n:05d}",
                owner_code="07" if prefecture else owner,
                scope=PREFECTURE_SCOPE if prefecture else MUNICIPALITIES_SCOPE,
                municipality_codes=() if prefecture else (owner,),
                audience=audience,
                priority=rng.randint(0, 100),
                min_acr=rng.choice([None, None, "mynumber"]),
            )
        )
    return entries


def caller(rng: random.Random, codes: list[str], now: datetime) -> Situation:
    consent = rng.random() < 0.6
    return Situation(
        prefecture_code="07",
        home_code=rng.choice(codes),
        commutes=((Relation.WORKPLACE, rng.choice(codes)),) if rng.random() < 0.5 else (),
        facts=Facts(
            items=frozenset({"age", "household"}) if consent else None,
            age=rng.randint(0, 90) if consent else None,
            household=frozenset(rng.sample(sorted(HOUSEHOLD_FACTS), rng.randint(0, 1)))
            if consent
            else frozenset(),
            language=rng.choice(["ja", "en"]) if consent else None,
        ),
        acr_level=rng.randint(0, 3),
        now=now,
    )


def timed(fn, situations) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for situation in situations:
        start = time.perf_counter()
        fn(situation)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    rng = random.Random(7)
    codes = [f"07{n:03d}" for n in range(201, 201 + MUNICIPALITIES)]
    entries = catalog(rng, codes)
    now = datetime.now(UTC)
    situations = [caller(rng, codes, now) for _ in range(CALLERS)]
    start = time.perf_counter()
    index = PortalIndex(entries)
    build_ms = (time.perf_counter() - start) * 1000
    for situation in situations[:200]:
        assert index.portal(situation) == naive_portal(entries, situation)
    indexed = timed(index.portal, situations)
    naive = timed(lambda s: naive_portal(entries, s), situations)
    print(f"catalog: {SERVICES} services, {MUNICIPALITIES} municipalities")
    print(f"index built in {build_ms:.1f} ms (once per catalog change)")
    for name, times in (("indexed", indexed), ("naive", naive)):
        q = statistics.quantiles(times, n=100)
        print(f"{name:8s} p50 {q[49]:.3f} ms  p95 {q[94]:.3f} ms  ({len(times)} callers)")
    ratio = statistics.quantiles(naive, n=100)[94] / statistics.quantiles(indexed, n=100)[94]
    print(f"speed-up at p95: {ratio:.1f}x")


if __name__ == "__main__":
    main()
