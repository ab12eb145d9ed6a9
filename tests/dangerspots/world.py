"""A town for danger-spot tests: the safety tests' town (family, two town associations,
staff of two cities), an API whose danger-spot knobs are small enough to test, and helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.auth.tokens import TokenVerifier
from backend.config import Settings
from tests.conftest import GraphQLClient, RollbackDatabase
from tests.safety.test_api import Town, build_town

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
DOCUMENT = (OPERATIONS / "DangerSpots.graphql").read_text()
ROUTE = (OPERATIONS / "EvacuationRoute.graphql").read_text()
PHOTO_CAP = 4096
POSTS_PER_HOUR = 4
# The demo network's centre (Aizu-Wakamatsu), where the town lives.
NEAR = {"latitude": 37.4950, "longitude": 139.9290}
AIZU_BOX = {
    "minLongitude": 139.85,
    "minLatitude": 37.45,
    "maxLongitude": 140.0,
    "maxLatitude": 37.55,
}


def point(latitude: float, longitude: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [longitude, latitude]}


class Api:
    """The GraphQL client and the raw HTTP client of one test app."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.gql = GraphQLClient(http)

    async def op(
        self, name: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """Run one operation of the app's DangerSpots.graphql document."""
        body = await self.gql(DOCUMENT, variables, token=token, operation_name=name)
        return dict(body["data"])

    async def report(self, token: str, **input: Any) -> dict[str, Any]:
        """reportDangerSpot's payload (a BLOCKED_ROAD point near the centre by default)."""
        data = await self.op(
            "ReportDangerSpot",
            {"input": {"kind": "BLOCKED_ROAD", "geometry": point(**NEAR)} | input},
            token=token,
        )
        return dict(data["reportDangerSpot"])

    async def posted(self, token: str, **input: Any) -> str:
        payload = await self.report(token, **input)
        assert payload["errors"] == [], payload
        return str(payload["dangerSpot"]["id"])

    async def moderate(self, token: str, spot_id: str, action: str, **extra: Any) -> dict[str, Any]:
        data = await self.op(
            "ModerateDangerSpot",
            {"input": {"id": spot_id, "action": action} | extra},
            token=token,
        )
        return dict(data["moderateDangerSpot"])

    async def spot(self, token: str | None, spot_id: str) -> dict[str, Any] | None:
        data = await self.op("DangerSpot", {"id": spot_id}, token=token)
        return data["dangerSpot"]  # type: ignore[no-any-return]

    async def map_ids(self, token: str | None, bbox: dict[str, float] = AIZU_BOX) -> set[str]:
        data = await self.op("DangerSpotMap", {"bbox": bbox}, token=token)
        return {f["id"] for f in data["dangerSpots"]["features"]}

    async def route(self, **input: Any) -> dict[str, Any]:
        body = await self.gql(ROUTE, {"input": input})
        return dict(body["data"]["evacuationRoute"])


@pytest.fixture
def spot_settings(settings: Settings, tmp_path: Path) -> Settings:
    return settings.model_copy(
        update={
            "danger_spot_photo_max_bytes": PHOTO_CAP,
            "danger_spot_posts_per_hour": POSTS_PER_HOUR,
            "danger_spot_photo_dir": tmp_path / "photos",
        }
    )


@pytest.fixture
async def api(
    spot_settings: Settings, db: RollbackDatabase, verifier: TokenVerifier
) -> AsyncIterator[Api]:
    app = create_app(spot_settings, database=db, verifier=verifier)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://kizuna.test"
    ) as http:
        yield Api(http)


@pytest.fixture
async def town(api: Api, token: Any) -> Town:
    return await build_town(api.gql, token)
