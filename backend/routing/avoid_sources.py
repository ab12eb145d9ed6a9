"""Areas other domains ask every route to keep out of (e.g. approved danger spots).

Routing depends on none of them: a domain registers a source at app assembly
(``backend.assembly``), and every route request asks each source for its areas in the
route's search box. A source answers quickly (an indexed box query) and caps what it returns.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy.ext.asyncio import AsyncSession

# (min_lon, min_lat, max_lon, max_lat), GeoJSON's bbox order.
Box = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class AvoidSpot:
    """One area a source asks routes to avoid; ``kind`` names its GraphQL type (``DangerSpot``)
    so the route can say which it went around."""

    kind: str
    id: uuid.UUID
    polygon: Polygon | MultiPolygon


AvoidSource = Callable[[AsyncSession, Box], Awaitable[list[AvoidSpot]]]
S = TypeVar("S")


class Sources(Generic[S]):
    """A registry of other domains' sources by name; one per process, filled at assembly
    (routing's avoid areas, support records, arrivals at shelters)."""

    def __init__(self) -> None:
        self._sources: dict[str, S] = {}

    def add(self, name: str, source: S) -> None:
        """Register ``source`` under ``name`` (registering a name again replaces it)."""
        self._sources[name] = source

    def clear(self) -> None:
        """Forget every source (tests that assemble a different world)."""
        self._sources.clear()


class AvoidSources(Sources[AvoidSource]):
    """The areas every route avoids."""

    async def spots_in(self, session: AsyncSession, box: Box) -> list[AvoidSpot]:
        """Every source's areas meeting the box, in registration order."""
        found: list[AvoidSpot] = []
        for source in self._sources.values():
            found.extend(await source(session, box))
        return found


avoid_sources = AvoidSources()
