"""Evacuation plans through the API: saving a plan (with its route from home and its hazard
check), a supporter's screen, and a plan's route now — with 0 approved danger spots in the
city (baseline) and with 500, in one run.

Run: .venv/bin/python bench/bench_plans.py [--people 100] [--spots 500]

In process, demo world (SQLite). ``--people`` residents with homes on random demo-network
nodes each save their own plan (two supporters: one shared supporter with a regional ID and
a neighbour by phone; the flood shelter nearest to nothing in particular — the demo gym),
then the plans are approved and the shared supporter opens ``mySupportedPeople`` (every
person read through consent, every read logged). Baselines in the same run: the same plan
saves and route reads before any danger spot, and ``mySupportedPeople`` for a supporter of
one person. Printed: p50/p95 in ms. Fixed seed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from bench_danger_spots_routing import report_spots  # noqa: E402
from demo_world import demo_world  # noqa: E402  (bench/, the script's folder)

from backend.api.ids import encode_id  # noqa: E402
from backend.app import create_app  # noqa: E402
from backend.auth.tokens import DevSigner  # noqa: E402
from backend.consent.catalog import PURPOSES  # noqa: E402
from backend.consent.catalog_store import sync_catalog  # noqa: E402
from backend.principal import Principal, PrincipalKind, Role, RoleGrant  # noqa: E402
from backend.residents import service as residents_service  # noqa: E402
from backend.residents.models import PlaceKind  # noqa: E402
from backend.routing.demo import build_demo_graph  # noqa: E402
from backend.shelters import service as shelters_service  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "graphql" / "operations" / "EvacuationPlans.graphql").read_text()
SEED = 7202
AIZU = "07202"
TEXT = next(p.text_version for p in PURPOSES if p.code == "plan_support")
STAFF = [RoleGrant(Role.CITY_STAFF, AIZU)]
GRANT = """
mutation($input: GrantConsentInput!) { grantConsent(input: $input) { errors { code } } }"""


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


class Api:
    def __init__(self, client: httpx.AsyncClient, signer: DevSigner) -> None:
        self.client = client
        self.signer = signer

    async def call(
        self,
        subject: str,
        query: str,
        variables: dict[str, Any],
        name: str | None = None,
        roles: list[RoleGrant] | None = None,
    ) -> tuple[dict[str, Any], float]:
        token = self.signer.sign(subject, ttl=timedelta(hours=1), roles=roles)
        body: dict[str, Any] = {"query": query, "variables": variables}
        if name:
            body["operationName"] = name
        started = time.perf_counter()
        response = await self.client.post(
            "/graphql", json=body, headers={"authorization": f"Bearer {token}"}
        )
        elapsed = (time.perf_counter() - started) * 1000.0
        answer = response.json()
        assert "errors" not in answer, answer
        return answer["data"], elapsed


async def people(settings: Any, database: Any, count: int) -> list[str]:
    """Residents of 07202 with homes on random nodes of the demo network."""
    graph = build_demo_graph()
    rng = np.random.default_rng(SEED)
    subjects = []
    async with database.session() as session:
        for i, node in enumerate(rng.integers(0, graph.node_count, count + 2).tolist()):
            subject = f"bench-person-{i:04d}"
            principal = Principal(kind=PrincipalKind.RESIDENT, subject=subject, issuer="bench")
            resident = await residents_service.get_or_create_resident(session, principal)
            await residents_service.update_profile(
                session,
                resident,
                changes=residents_service.ProfileChanges(
                    family_name="計測", given_name=f"{i:04d}", municipality_code=AIZU
                ),
            )
            await residents_service.add_place(
                session, settings, resident, kind=PlaceKind.HOME,
                label="自宅", latitude=float(graph.lat[node]), longitude=float(graph.lon[node]),
            )  # fmt: skip
            subjects.append(subject)
    return subjects


def plan(shelter_id: str, supporter: str = "bench-supporter") -> dict[str, Any]:
    return {
        "supportNeeds": "車いす。段差は介助が必要。",
        "medicalNotes": "服薬あり",
        "supporters": [
            {"name": "共通 支援者", "subject": supporter},
            {"name": "近所 の方", "phone": "0242-22-2222"},
        ],
        "shelters": [{"hazardType": "FLOOD", "shelterId": shelter_id}],
        "transport": "WHEELCHAIR",
        "informedBy": ["SUPPORTER_VISIT"],
        "triggerLevel": 3,
    }


async def save_all(
    api: Api, subjects: list[str], shelter_id: str, supporter: str = "bench-supporter"
) -> tuple[list[float], list[str]]:
    times, ids = [], []
    for subject in subjects:
        data, ms = await api.call(
            subject, DOC, {"input": {"plan": plan(shelter_id, supporter)}}, "SaveEvacuationPlan"
        )
        payload = data["saveEvacuationPlan"]
        assert payload["errors"] == [], payload
        times.append(ms)
        ids.append(payload["plan"]["id"])
    return times, ids


async def read_routes(api: Api, subjects: list[str]) -> list[float]:
    times = []
    for subject in subjects:
        data, ms = await api.call(subject, DOC, {}, "MyEvacuationPlan")
        assert data["myEvacuationPlan"]["content"]["route"]["problem"] is None
        times.append(ms)
    return times


async def current_routes(api: Api, plan_ids: list[str]) -> list[float]:
    """The supporter's view of each plan with its route recomputed now (an active plan)."""
    times = []
    for plan_id in plan_ids:
        data, ms = await api.call("bench-supporter", DOC, {"id": plan_id}, "EvacuationPlan")
        assert data["evacuationPlan"]["currentRoute"]["problem"] is None, data
        times.append(ms)
    return times


async def supporter_screens(api: Api, supporter: str, expected: int) -> list[float]:
    times = []
    for _ in range(20):
        data, ms = await api.call(supporter, DOC, {}, "MySupportedPeople")
        assert len(data["mySupportedPeople"]) == expected
        times.append(ms)
    return times


async def main(count: int, spots: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings, database = await demo_world(tmp)
        settings = settings.model_copy(update={"danger_spot_posts_per_hour": spots + 1})
        async with database.session() as session:
            await sync_catalog(session)
            gym = (await shelters_service.shelter_by_common_id(session, "DEMO-07202-003")).id
        shelter_id = encode_id("Shelter", gym)
        app = create_app(settings, database=database)
        signer = DevSigner(
            settings.dev_signing_key_path,
            issuer=settings.dev_token_issuer,
            audience=settings.dev_token_audience,
        )
        subjects = await people(settings, database, count)
        persons, lone = subjects[:count], subjects[count]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            api = Api(client, signer)
            await api.call("bench-supporter", "{ me { id } }", {})
            await api.call("bench-staff", "{ me { id } }", {})
            for subject in [*persons, lone]:
                _, _ = await api.call(
                    subject,
                    GRANT,
                    {"input": {"purpose": "plan_support", "textVersion": TEXT,
                               "recipient": {"kind": "ROLE", "role": "supporter"},
                               "items": ["name", "address", "phone", "support_needed",
                                         "evacuation_plan"]}},
                )  # fmt: skip
            print(
                f"{count} people with homes on random demo-network nodes; in process, SQLite;"
                " sequential requests\n"
            )
            save0, ids = await save_all(api, persons, shelter_id)
            route0 = await read_routes(api, persons)
            await api.call("bench-supporter-one", "{ me { id } }", {})
            _, lone_ids = await save_all(api, [lone], shelter_id, "bench-supporter-one")
            for plan_id, subject in zip([*ids, *lone_ids], [*persons, lone], strict=True):
                await api.call(subject, DOC, {"planId": plan_id}, "SubmitEvacuationPlan")
            approve_ms = []
            for plan_id in [*ids, *lone_ids]:
                data, ms = await api.call(
                    "bench-staff", DOC, {"planId": plan_id}, "ApproveEvacuationPlan", STAFF
                )
                assert data["approveEvacuationPlan"]["errors"] == [], data
                approve_ms.append(ms)
            supported = await supporter_screens(api, "bench-supporter", count)
            supported_one = await supporter_screens(api, "bench-supporter-one", 1)
            current0 = await current_routes(api, ids)
            seconds = await report_spots(settings, database, spots)
            save1, _ = await save_all(api, persons, shelter_id)
            route1 = await read_routes(api, persons)
            for plan_id, subject in zip(ids, persons, strict=True):
                await api.call(subject, DOC, {"planId": plan_id}, "SubmitEvacuationPlan")
                await api.call(
                    "bench-staff", DOC, {"planId": plan_id}, "ApproveEvacuationPlan", STAFF
                )
            current1 = await current_routes(api, ids)

        print(f"{'what':<46}{'spots':>6}{'p50 ms':>9}{'p95 ms':>9}")
        rows = [
            ("saveEvacuationPlan (route + hazard check)", 0, save0),
            ("saveEvacuationPlan (route + hazard check)", spots, save1),
            ("myEvacuationPlan (stored route)", 0, route0),
            ("myEvacuationPlan (stored route)", spots, route1),
            ("supporter's evacuationPlan + currentRoute", 0, current0),
            ("supporter's evacuationPlan + currentRoute", spots, current1),
            ("approveEvacuationPlan", 0, approve_ms),
            ("mySupportedPeople (1 person, logged)", 0, supported_one),
            (f"mySupportedPeople ({count} people, logged)", 0, supported),
        ]
        for what, n, times in rows:
            print(f"{what:<46}{n:>6}{pct(times, 50):9.2f}{pct(times, 95):9.2f}")
        print(
            f"\nwith {spots} spots, p50 of a save is x{pct(save1, 50) / pct(save0, 50):.2f} and "
            f"of a recomputed route x{pct(current1, 50) / pct(current0, 50):.2f} the 0-spot "
            f"baseline; reporting and approving {spots} spots took {seconds:.1f} s"
        )
        await database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--spots", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.people, args.spots))
