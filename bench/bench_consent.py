"""Consent enforcement cost: a leader's roster read in one batch vs one check per member.

Run: python bench/bench_consent.py [--members 1000] [--database-url URL]
Creates a fresh database (SQLite file in a temp folder by default), a town association of
N members who each consented to community safety sharing, then measures reading all of
them through consent.service.read_many (the API's path) against the naive baseline of one
read_personal_data call per member, in the same process. Prints the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert

from backend.bootstrap import sync_reference_data
from backend.communities.models import Community, CommunityMembership
from backend.consent import service as consent_service
from backend.consent.models import ConsentEvent, ConsentGrant
from backend.consent.viewer import RequestMeta, Viewer
from backend.db.base import utcnow
from backend.db.migrate import upgrade
from backend.db.session import Database
from backend.principal import Principal, PrincipalKind
from backend.residents.models import Resident

ITEMS = ["name", "age", "address", "phone"]


async def populate(database: Database, members: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    now = utcnow()
    leader_id = uuid.uuid4()
    community_id = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(members)]
    async with database.session() as session:
        await sync_reference_data(session)
        residents = [
            {
                "id": rid,
                "subject": f"bench-{rid.hex}",
                "family_name": "会津",
                "given_name": f"{n}",
                "address": f"会津若松市{n}",
                "phone": "0242-00-0000",
                "gender": "unspecified",
                "preferred_language": "ja",
                "municipality_chosen": True,
                "home_municipality_code": "07202",
                "created_at": now,
                "updated_at": now,
            }
            for n, rid in enumerate([leader_id, *ids])
        ]
        await session.execute(insert(Resident), residents)
        await session.execute(
            insert(Community),
            [
                {
                    "id": community_id,
                    "municipality_code": "07202",
                    "name": "町内会",
                    "kind": "town_association",
                    "created_at": now,
                }
            ],
        )
        await session.execute(
            insert(CommunityMembership),
            [
                {
                    "id": uuid.uuid4(),
                    "community_id": community_id,
                    "resident_id": rid,
                    "role": "leader" if rid == leader_id else "member",
                    "joined_at": now,
                }
                for rid in [leader_id, *ids]
            ],
        )
        grants = [
            {
                "id": uuid.uuid4(),
                "resident_id": rid,
                "purpose_code": "community_safety",
                "recipient_kind": "role",
                "recipient_role": "community",
                "items": ITEMS,
                "acceptance_id": uuid.uuid4(),
                "valid_from": now,
                "legal_basis": "consent",
                "text_version": "bench",
                "recorded_by": "bench",
                "created_at": now,
            }
            for rid in ids
        ]
        await session.execute(insert(ConsentGrant), grants)
        # every fourth member revoked: the check must exclude them
        await session.execute(
            insert(ConsentEvent),
            [
                {
                    "id": uuid.uuid4(),
                    "resident_id": g["resident_id"],
                    "kind": "revoked",
                    "grant_id": g["id"],
                    "purpose_code": "community_safety",
                    "actor": "bench",
                    "at": now,
                }
                for g in grants[::4]
            ],
        )
    return leader_id, ids


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    database = Database.from_url(url)
    await upgrade(database.engine)
    leader_id, ids = await populate(database, args.members)
    viewer = Viewer(
        principal=Principal(kind=PrincipalKind.RESIDENT, subject="bench-leader"),
        resident_id=leader_id,
    )
    meta = RequestMeta(request_id="bench")

    async def batched() -> int:
        async with database.session() as session:
            from backend.residents import repository

            subjects = await repository.get_many(session, ids)
            results = await consent_service.read_many(
                session, viewer, subjects, purpose_code="community_safety", items=None, meta=meta
            )
            return len(results)

    async def one_by_one() -> int:
        readable = 0
        async with database.session() as session:
            from backend.errors import NotPermitted
            from backend.residents import repository

            for subject_id in ids:
                subject = (await repository.get_many(session, [subject_id]))[0]
                try:
                    await consent_service.read_personal_data(
                        session,
                        viewer,
                        subject=subject,
                        purpose_code="community_safety",
                        items=None,
                        meta=meta,
                    )
                    readable += 1
                except NotPermitted:
                    pass
        return readable

    timings: dict[str, list[float]] = {"batched (read_many)": [], "one by one (baseline)": []}
    counts = {}
    for _ in range(args.repeat):
        for name, fn in (("batched (read_many)", batched), ("one by one (baseline)", one_by_one)):
            started = time.perf_counter()
            counts[name] = await fn()
            timings[name].append((time.perf_counter() - started) * 1000)
    print(f"database: {url.split('@')[-1]}")
    print(
        f"roster of {args.members} members, {args.members - len(ids[::4])} with an active consent"
    )
    print(f"{'strategy':<24}{'readable':>10}{'median ms':>12}{'best ms':>10}")
    for name, values in timings.items():
        print(f"{name:<24}{counts[name]:>10}{statistics.median(values):>12.1f}{min(values):>10.1f}")
    ratio = statistics.median(timings["one by one (baseline)"]) / statistics.median(
        timings["batched (read_many)"]
    )
    print(f"batched is {ratio:.1f}x faster than one check per member")
    await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
