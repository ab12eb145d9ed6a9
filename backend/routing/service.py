"""Evacuation routes: from a point or a saved place to a shelter, a point, or the nearest
suitable shelter by walking distance, around the hazard's zones and the caller's avoid areas.

The database is only read for the shelters and the (cached) hazard index; every graph search
runs in a worker thread so a request never blocks the event loop. A route to a shelter is
then counted against its capacity by a short separate write (assignments.py).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..errors import Checker, NotFound
from ..geo import check_point, haversine_m_array, padded_box
from ..hazards import service as hazards_service
from ..hazards.service import ZoneInfo, ZoneLookup
from ..hazards.sources import parse_client_polygons
from ..hazards.types import HazardType
from ..municipalities import service as municipalities_service
from ..observability.metrics import route_search
from ..residents import service as residents_service
from ..shelters import service as shelters_service
from . import gates, load
from .avoid_sources import AvoidSpot, avoid_sources
from .engine import LOCAL_TIME, Profile, Route, RoutingEngine, SearchOptions, Snap, WalkCost
from .errors import NoRoute, NoShelter
from .network import Region, RoadNetworks, road_networks
from .policy import ELEVATOR, ESCALATOR, STEPS
from .support_sources import support_sources

T = TypeVar("T")
MIN_WALKING_SPEED_MPS = 0.1
MAX_WALKING_SPEED_MPS = 3.0
# Routes are planned for walks about to start, or rehearsed for a date this near.
MAX_DEPARTURE_OFFSET = timedelta(days=366)
# Hazard zones are gathered in a box around origin and destinations that holds every walk
# the engine's bounded search can find; a route that still meets a zone outside the box is
# re-planned with it (at most this often).
_MAX_REPLANS = 3
# Rounds of re-planning around the danger spots a walk meets before all of them join.
_MAX_SPOT_ROUNDS = 3


# When no walk keeps clear, metres inside an area count by its severity: a zone's rank (MLIT
# depth rank 1-6 for flood types, 1-2 for landslide areas; 1 when unranked), and a danger spot
# (the caller's avoid areas, and approved reports) as much as the deepest water.
AVOID_AREA_SEVERITY = 6.0


def zone_severity(zone: ZoneInfo) -> float:
    """How much a metre inside this zone counts against a least-exposed route."""
    return float(zone.rank) if zone.rank and zone.rank > 0 else 1.0


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What the caller asked for; coordinates are (lat, lon) as the API takes them."""

    origin: tuple[float, float]
    hazard_type: HazardType | None = None
    shelter_id: uuid.UUID | None = None
    destination: tuple[float, float] | None = None
    avoid_geojson: Sequence[Any] = ()
    walking_speed_mps: float | None = None
    needs_support: bool = False
    open_only: bool | None = None
    # None: STEP_FREE for people who need support (needs_support, or the signed-in
    # resident's own support record), WALK otherwise.
    profile: Profile | None = None
    # When the walk starts (time-conditional access); None: now. Naive means Japan time.
    depart_at: datetime | None = None
    # The signed-in resident asking for their own route (their support record sets defaults).
    resident_id: uuid.UUID | None = None
    # Who the route sends (evacuationRoute): counted against shelters' capacity. None (a
    # plan's route) neither reads nor records shelter load.
    party: load.Party | None = None


@dataclass(frozen=True, slots=True)
class Crossing:
    """Metres of the route inside one hazard zone, one of the request's avoid areas or one
    registered avoid spot (an approved danger spot)."""

    length_m: float
    zone: ZoneInfo | None = None
    avoid_index: int | None = None
    spot: AvoidSpot | None = None


@dataclass(frozen=True, slots=True)
class EvacuationRoute:
    """A planned walk; ``safe`` is False when it had to cross an area (see ``crossings``)."""

    route: Route
    walking_speed_mps: float
    hazard_type: HazardType | None
    shelter: shelters_service.Shelter | None
    crossings: list[Crossing]
    zones_avoided: int
    candidates_compared: int = 0
    # Registered spots the shortest walk would have crossed and this route goes around.
    spots_avoided: tuple[AvoidSpot, ...] = ()
    depart_at: datetime = field(default_factory=lambda: datetime.now(LOCAL_TIME))
    # Ways of each kind the walk uses (steps, escalator, elevator): how the app warns.
    uses: dict[str, int] = field(default_factory=dict)
    # The destination shelter's load before this route's party (when the request has one).
    shelter_load: load.ShelterLoad | None = None


@dataclass
class _AvoidSet:
    """Polygons the engine avoids, remembering which zone or request area each one is."""

    polygons: list[Polygon | MultiPolygon] = field(default_factory=list)
    severities: list[float] = field(default_factory=list)
    zones: list[ZoneInfo | None] = field(default_factory=list)
    request_index: list[int | None] = field(default_factory=list)
    zone_ids: set[uuid.UUID] = field(default_factory=set)
    spots: list[AvoidSpot | None] = field(default_factory=list)

    def add_request_area(self, index: int, polygon: Polygon | MultiPolygon) -> None:
        self.polygons.append(polygon)
        self.severities.append(AVOID_AREA_SEVERITY)
        self.zones.append(None)
        self.request_index.append(index)
        self.spots.append(None)

    def add_spots(self, spots: Sequence[AvoidSpot]) -> None:
        for spot in spots:
            self.polygons.append(spot.polygon)
            self.severities.append(AVOID_AREA_SEVERITY)
            self.zones.append(None)
            self.request_index.append(None)
            self.spots.append(spot)

    def add_zones(self, zones: Sequence[tuple[ZoneInfo, Polygon | MultiPolygon]]) -> int:
        added = 0
        for info, polygon in zones:
            if info.id in self.zone_ids:
                continue
            self.zone_ids.add(info.id)
            self.polygons.append(polygon)
            self.severities.append(zone_severity(info))
            self.zones.append(info)
            self.request_index.append(None)
            self.spots.append(None)
            added += 1
        return added


def walking_speed(settings: Settings, request: RouteRequest) -> float:
    """The requested speed, else the support speed for people needing support, else default."""
    if request.walking_speed_mps is not None:
        return request.walking_speed_mps
    return (
        settings.support_walking_speed_mps if request.needs_support else settings.walking_speed_mps
    )


def departure(request: RouteRequest) -> datetime:
    """When the walk starts, as an aware time (naive input is Japan time; default now)."""
    if request.depart_at is None:
        return datetime.now(LOCAL_TIME)
    if request.depart_at.tzinfo is None:
        return request.depart_at.replace(tzinfo=LOCAL_TIME)
    return request.depart_at


def _check_request(settings: Settings, request: RouteRequest) -> list[Polygon | MultiPolygon]:
    """Every problem of the request at once; returns the parsed avoid areas."""
    checker = Checker()
    check_point(checker, "from", *request.origin)
    if request.destination is not None:
        check_point(checker, "toPoint", *request.destination)
    if request.shelter_id is not None and request.destination is not None:
        checker.add(
            "toPoint",
            "give toShelterId or toPoint, not both",
            "目的地は避難所か地点のどちらか一方を指定してください",
        )
    if (
        request.depart_at is not None
        and abs(departure(request) - datetime.now(LOCAL_TIME)) > MAX_DEPARTURE_OFFSET
    ):
        # Also keeps Japan time of the moment representable (year 1 or 9999 overflow).
        checker.add(
            "departAt",
            "departAt must lie within a year of now",
            "出発時刻は現在から1年以内で指定してください",
        )
    if request.shelter_id is None and request.destination is None and request.hazard_type is None:
        checker.add(
            "hazardType",
            "hazardType is needed to choose the nearest suitable shelter",
            "最寄りの避難場所を選ぶには災害種別を指定してください",
        )
    speed = request.walking_speed_mps
    if speed is not None and not (
        math.isfinite(speed) and MIN_WALKING_SPEED_MPS <= speed <= MAX_WALKING_SPEED_MPS
    ):
        checker.add(
            "walkingSpeedMetersPerSecond",
            f"walking speed must be between {MIN_WALKING_SPEED_MPS} and "
            f"{MAX_WALKING_SPEED_MPS} m/s",
            f"歩行速度は{MIN_WALKING_SPEED_MPS}〜{MAX_WALKING_SPEED_MPS} m/sで指定してください",
        )
    load.check_party(checker, request.party)
    areas = parse_client_polygons(
        checker,
        "avoid",
        request.avoid_geojson,
        max_count=settings.route_max_avoid_areas,
        max_vertices=settings.route_max_avoid_vertices,
        label_en="avoid areas",
        label_ja="回避エリア",
    )
    checker.raise_if_any()
    return areas


@dataclass(frozen=True, slots=True)
class RouteInputs:
    """Everything a route needs from the database, read before any graph search begins."""

    request: RouteRequest
    areas: list[Polygon | MultiPolygon]
    zones: ZoneLookup | None
    # The regions whose graphs reach the origin, with the snap there.
    near_origin: tuple[tuple[Region, Snap], ...]
    # A fixed destination (toShelterId / toPoint) and the region reaching both ends ...
    destination: tuple[float, float] | None = None
    region: Region | None = None
    shelter: shelters_service.Shelter | None = None
    # ... or the nearest suitable shelter's candidates, compared on foot by plan_route.
    candidates: tuple[shelters_service.NearbyShelter, ...] = ()
    # Registered avoid spots (approved danger spots) near origin and destination(s).
    spots: tuple[AvoidSpot, ...] = ()
    # Load of the destination shelter or of each candidate, when the request has a party.
    loads: Mapping[uuid.UUID, load.ShelterLoad] = field(default_factory=dict)
    # Areas where ticket gates stand open (open events), meeting the search box.
    open_gate_areas: tuple[Polygon | MultiPolygon, ...] = ()

    @property
    def options(self) -> SearchOptions:
        """What the engine needs besides the avoid areas: profile, time, opened gates."""
        request = self.request
        return SearchOptions(
            profile=request.profile or Profile.WALK,
            at=departure(request),
            open_gate_areas=self.open_gate_areas,
        )


async def route_inputs(
    session: AsyncSession,
    settings: Settings,
    networks: RoadNetworks,
    request: RouteRequest,
) -> RouteInputs:
    """Check the request and read what its route needs (raises a DomainError)."""
    request = await _with_support_defaults(session, request)
    inputs = await _destination_inputs(session, settings, networks, request)
    ends = [_lonlat(request.origin)]
    if inputs.destination is not None:
        ends.append(inputs.destination)
    ends += [(n.shelter.longitude, n.shelter.latitude) for n in inputs.candidates]
    shelters = [inputs.shelter] if inputs.shelter else [n.shelter for n in inputs.candidates]
    loads = (
        await load.loads_of(session, settings, shelters, request.party)
        if request.party is not None and shelters
        else {}
    )
    gate_areas = await gates.open_areas_in(session, _search_area(ends).bounds)
    return replace(inputs, loads=loads, open_gate_areas=gate_areas)


async def _destination_inputs(
    session: AsyncSession,
    settings: Settings,
    networks: RoadNetworks,
    request: RouteRequest,
) -> RouteInputs:
    # Avoid areas are geometry work (validity checks): off the event loop.
    if request.avoid_geojson:
        areas = await asyncio.to_thread(_check_request, settings, request)
    else:
        areas = _check_request(settings, request)
    origin = _lonlat(request.origin)
    # Fail fast (and typed) on an origin no network serves, before any database work.
    near_origin = tuple(networks.covering(origin, "from"))
    zones = await hazards_service.zone_lookup(session) if request.hazard_type else None
    inputs = RouteInputs(request, areas, zones, near_origin)
    if request.shelter_id is not None:
        try:
            shelter = await shelters_service.get_shelter(session, request.shelter_id)
        except NotFound:
            raise NotFound("shelter", "避難所", field="toShelterId") from None
        destination = (shelter.longitude, shelter.latitude)
        region = _region_for(networks, near_origin, destination, "toShelterId")
        spots = await _spots_near(session, [origin, destination])
        return replace(inputs, destination=destination, region=region, shelter=shelter, spots=spots)
    if request.destination is not None:
        destination = _lonlat(request.destination)
        region = _region_for(networks, near_origin, destination, "toPoint")
        spots = await _spots_near(session, [origin, destination])
        return replace(inputs, destination=destination, region=region, spots=spots)
    assert request.hazard_type is not None  # checked above
    candidates = await _nearest_candidates(session, settings, request)
    points = [(n.shelter.longitude, n.shelter.latitude) for n in candidates]
    spots = await _spots_near(session, [origin, *points])
    return replace(inputs, candidates=tuple(candidates), spots=spots)


async def _with_support_defaults(session: AsyncSession, request: RouteRequest) -> RouteRequest:
    """The request with the profile and speed of the person walking filled in: STEP_FREE (and
    the support speed) for people who need support — said by the request, or by the signed-in
    resident's own support record when the request does not choose a profile."""
    needs_support = request.needs_support
    if not needs_support and request.profile is None and request.resident_id is not None:
        needs_support = await support_sources.needs_support(session, request.resident_id)
    profile = request.profile or (Profile.STEP_FREE if needs_support else Profile.WALK)
    # One moment for every search of the request.
    return replace(
        request, profile=profile, needs_support=needs_support, depart_at=departure(request)
    )


async def _spots_near(
    session: AsyncSession, points: Sequence[tuple[float, float]]
) -> tuple[AvoidSpot, ...]:
    """The registered avoid spots in the box every walk between the points stays in."""
    box = _search_area(points).bounds
    return tuple(await avoid_sources.spots_in(session, box))


async def plan_route(settings: Settings, inputs: RouteInputs) -> EvacuationRoute:
    """The evacuation route (raises a RoutingError). Needs no database: a request holds no
    pooled connection while its graph searches run in worker threads."""
    request = inputs.request
    speed = walking_speed(settings, request)
    origin = _lonlat(request.origin)
    zones = inputs.zones
    shelter, region, destination = inputs.shelter, inputs.region, inputs.destination
    if inputs.candidates:
        shelter, region = await _nearest_by_walking(inputs, origin)
        destination = (shelter.longitude, shelter.latitude)
    assert region is not None and destination is not None  # route_inputs gave one of them

    # The route and the zones it is planned around depend only on its two ends (never on
    # which candidates were compared), so the same route always reports the same zones.
    avoid = _request_areas(inputs.areas)
    _add_zones(zones, avoid, request.hazard_type, [origin, destination])
    engine = region.engine
    options = inputs.options

    async def planned() -> Route:
        route = await _search(
            engine.route, origin, destination, avoid.polygons, speed, avoid.severities, options
        )
        for _ in range(_MAX_REPLANS):
            # Zones the search box did not hold but the route reaches: avoid them too.
            if zones is None or request.hazard_type is None:
                break
            found = zones.zones_meeting(route.as_linestring(), [request.hazard_type])
            if not avoid.add_zones(found):
                break
            route = await _search(
                engine.route, origin, destination, avoid.polygons, speed, avoid.severities, options
            )
        return route

    route = await planned()
    # Danger spots join as the walk meets them: most routes meet none and pay one
    # intersection test; a route that meets some is re-planned around those (and again around
    # any its detour meets), so it can name every spot it went around. Past a few rounds
    # (a street full of reports) every remaining spot joins at once.
    waiting = _spots_between(inputs.spots, [origin, destination])
    met_any: list[AvoidSpot] = []
    for round_ in range(_MAX_SPOT_ROUNDS + 1):
        met = await asyncio.to_thread(_spots_meeting, waiting, route.coordinates) if waiting else []
        if not met:
            break
        met_any += met
        joining = waiting if round_ == _MAX_SPOT_ROUNDS else met
        avoid.add_spots(joining)
        joined = {spot.id for spot in joining}
        waiting = [spot for spot in waiting if spot.id not in joined]
        route = await planned()

    crossings = [
        Crossing(
            length_m=e.length_m,
            zone=avoid.zones[e.avoid_index],
            avoid_index=avoid.request_index[e.avoid_index],
            spot=avoid.spots[e.avoid_index],
        )
        for e in route.exposures
    ]
    crossed = {c.spot.id for c in crossings if c.spot is not None}
    return EvacuationRoute(
        route=route,
        walking_speed_mps=speed,
        hazard_type=request.hazard_type,
        shelter=shelter,
        crossings=crossings,
        zones_avoided=len(avoid.zone_ids),
        candidates_compared=len(inputs.candidates),
        spots_avoided=tuple(spot for spot in met_any if spot.id not in crossed),
        depart_at=departure(request),
        uses=route_uses(engine, route),
        shelter_load=inputs.loads.get(shelter.id) if shelter is not None else None,
    )


def route_uses(engine: RoutingEngine, route: Route) -> dict[str, int]:
    """How many ways of each kind (steps, escalator, elevator) a route walks along, and the
    ticket gates it passes (only ever open ones)."""
    graph = engine.graph
    edges = np.asarray(route.edges, dtype=np.intp)
    uses = {"ticket_gates": route.gates_passed}
    for name, bit in (("steps", STEPS), ("escalators", ESCALATOR), ("elevators", ELEVATOR)):
        ways = graph.way_id[edges[(graph.flags[edges] & bit) > 0]]
        uses[name] = len(np.unique(ways))
    return uses


async def request_inputs(
    session: AsyncSession, settings: Settings, request: RouteRequest
) -> RouteInputs:
    """``route_inputs`` on this process's networks, for a request another capability makes
    (a plan's route from home); then ``plan_route`` with no connection held."""
    networks = await road_networks.get(settings)
    return await route_inputs(session, settings, networks, request)


def _spots_between(
    spots: Sequence[AvoidSpot], points: Sequence[tuple[float, float]]
) -> list[AvoidSpot]:
    """The spots in the search box of these points (a route depends only on its two ends)."""
    if not spots:
        return []
    # Bounds only: reading them never prepares the (shared) polygons.
    bounds = shapely.bounds(np.asarray([spot.polygon for spot in spots]))
    min_lon, min_lat, max_lon, max_lat = _search_area(points).bounds
    inside = (
        (bounds[:, 0] <= max_lon)
        & (bounds[:, 2] >= min_lon)
        & (bounds[:, 1] <= max_lat)
        & (bounds[:, 3] >= min_lat)
    )
    return [spots[int(i)] for i in np.flatnonzero(inside)]


def _spots_meeting(
    spots: Sequence[AvoidSpot], coordinates: Sequence[tuple[float, float]]
) -> list[AvoidSpot]:
    """The spots a walk's line meets (worker thread: geometry)."""
    line = shapely.linestrings(coordinates)
    shared = np.asarray([spot.polygon for spot in spots])
    near = np.flatnonzero(shapely.intersects(shapely.envelope(shared), line))
    if not len(near):
        return []
    # Copies: the spots' polygons are shared, and predicates must never prepare them.
    polygons = shapely.from_wkb(shapely.to_wkb(shared[near]))
    meets = shapely.intersects(polygons, line)
    return [spots[int(i)] for i, hit in zip(near, meets, strict=True) if hit]


def _request_areas(areas: Sequence[Polygon | MultiPolygon]) -> _AvoidSet:
    avoid = _AvoidSet()
    for i, polygon in enumerate(areas):
        avoid.add_request_area(i, polygon)
    return avoid


def _region_for(
    networks: RoadNetworks,
    near_origin: Sequence[tuple[Region, Snap]],
    destination: tuple[float, float],
    field: str,
) -> Region:
    """The region reaching the origin and the destination nearest to both (the graph with
    paths closest to the two points), or a typed error for the destination's field."""
    origin_snap = {id(region): snap.distance_m for region, snap in near_origin}
    both = networks.covering(destination, field, among=[region for region, _ in near_origin])
    region, _ = min(both, key=lambda pair: origin_snap[id(pair[0])] + pair[1].distance_m)
    return region


async def _search(search: Callable[..., T], *args: Any) -> T:
    """An engine search in a worker thread, timed (and traced when configured)."""
    with route_search(search.__name__):
        return await asyncio.to_thread(search, *args)


async def _nearest_candidates(
    session: AsyncSession, settings: Settings, request: RouteRequest
) -> list[shelters_service.NearbyShelter]:
    """The nearest designated shelters (straight line) to compare on foot; NoShelter if none."""
    lat, lon = request.origin
    open_only = request.open_only

    async def candidates(only_open: bool) -> list[shelters_service.NearbyShelter]:
        return await shelters_service.nearest_shelters(
            session,
            lat=lat,
            lon=lon,
            hazard_type=request.hazard_type,
            open_only=only_open,
            exclude_full=True,
            limit=settings.route_shelter_candidates,
            max_distance_m=settings.route_shelter_radius_m,
            cache_size=settings.nearest_shelter_cache_size,
        )

    # Default: once the city has opened shelters nearby (a disaster), only open ones count;
    # in peacetime (none open) every designated shelter that is not full does. One cheap
    # existence query decides, so peacetime never pays for a growing search for open ones.
    opened = open_only is True or await shelters_service.any_open_within(
        session,
        lat=lat,
        lon=lon,
        radius_m=settings.route_shelter_radius_m,
        hazard_type=request.hazard_type,
        cache_size=settings.nearest_shelter_cache_size,
    )
    found = await candidates(True) if opened else []
    if not found and open_only is not True:
        found = await candidates(False)
    if not found:
        hazard = request.hazard_type.label_en if request.hazard_type else ""
        within = f"within {settings.route_shelter_radius_m / 1000:g} km"
        which = "open shelter" if open_only else "shelter that is not full"
        which_ja = "開設中の" if open_only else "満員でない"
        hazard_ja = request.hazard_type.label_ja if request.hazard_type else ""
        radius_km = f"{settings.route_shelter_radius_m / 1000:g}"
        raise NoShelter(
            f"no {which} designated for {hazard.lower()} {within}",
            f"{radius_km}キロメートル以内に{hazard_ja}に対応する{which_ja}避難場所がありません",
        )
    return found


async def _nearest_by_walking(
    inputs: RouteInputs, origin: tuple[float, float]
) -> tuple[shelters_service.Shelter, Region]:
    """Among the candidates, the nearest on foot, and the region it is reached in."""
    found = inputs.candidates
    points = [(n.shelter.longitude, n.shelter.latitude) for n in found]
    avoid = _request_areas(inputs.areas)
    _add_zones(inputs.zones, avoid, inputs.request.hazard_type, [origin, *points])
    # A blocked road may make another shelter the nearest: candidates are compared around
    # the reported danger spots too.
    avoid.add_spots(inputs.spots)
    regions = [region for region, _ in inputs.near_origin]

    options = inputs.options

    def walk_costs_from() -> list[list[WalkCost | None]]:
        return [
            region.engine.walk_costs_from(origin, points, avoid.polygons, avoid.severities, options)
            for region in regions
        ]

    # Each region reaching the origin is tried (usually one); the best walk over all wins,
    # among the shelters with room for the party when any has.
    reachable = [
        ((load.full_rank(inputs.loads.get(found[i].shelter.id)), rank_key(cost)), r, i)
        for r, costs in enumerate(await _search(walk_costs_from))
        for i, cost in enumerate(costs)
        if cost is not None
    ]
    if not reachable:
        raise NoRoute(
            "none of the nearest suitable shelters can be reached on foot",
            "近くの避難場所のいずれにも歩いて行ける経路がありません",
        )
    _, best_region, best = min(reachable)
    return found[best].shelter, regions[best_region]


def rank_key(cost: WalkCost) -> tuple[int, float]:
    """Least exposed first (to the metre, so float noise never beats a shorter walk; it only
    matters when every walk crosses a zone), then shortest."""
    return round(cost.exposure_m), cost.distance_m


def _add_zones(
    zones: ZoneLookup | None,
    avoid: _AvoidSet,
    hazard_type: HazardType | None,
    points: Sequence[tuple[float, float]],
) -> None:
    if zones is not None and hazard_type is not None:
        avoid.add_zones(zones.zones_meeting(_search_area(points), [hazard_type]))


def _search_area(points: Sequence[tuple[float, float]]) -> Polygon:
    """A lon/lat box around the points holding every walk the engine's bounded search finds."""
    lons = np.array([p[0] for p in points])
    lats = np.array([p[1] for p in points])
    # The farthest point from the origin bounds the first (bounded) search.
    crow = float(haversine_m_array(lats[0], lons[0], lats, lons).max())
    min_lat, min_lon, max_lat, max_lon = padded_box(
        float(lats.min()),
        float(lons.min()),
        float(lats.max()),
        float(lons.max()),
        RoutingEngine.detour_limit_m(crow),
    )
    return shapely.box(min_lon, min_lat, max_lon, max_lat)


def _lonlat(lat_lon: tuple[float, float]) -> tuple[float, float]:
    return lat_lon[1], lat_lon[0]


@dataclass(frozen=True, slots=True)
class StoredPoints:
    """Where routes start and end: the stored shelters and saved places of the served
    municipalities (places not located in any municipality yet included)."""

    kinds: NDArray[np.str_]  # "shelter" or "place"
    municipality_codes: list[str | None]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    municipality_names: dict[str, str]

    def count(self, kind: str, mask: NDArray[np.bool_] | None = None) -> int:
        """How many points of this kind (among ``mask``, default all)."""
        of_kind = self.kinds == kind
        return int((of_kind if mask is None else of_kind & mask).sum())

    def by_municipality(self, mask: NDArray[np.bool_]) -> list[tuple[str | None, int, int]]:
        """(municipality code, shelters, places) among ``mask``, most points first, points
        not located in a municipality last."""
        counts: dict[str | None, list[int]] = {}
        for index in np.flatnonzero(mask):
            per_kind = counts.setdefault(self.municipality_codes[index], [0, 0])
            per_kind[0 if self.kinds[index] == "shelter" else 1] += 1
        rows = [(code, shelters, places) for code, (shelters, places) in counts.items()]
        return sorted(rows, key=lambda row: (row[0] is None, -row[1] - row[2], row[0] or ""))


async def stored_points(session: AsyncSession) -> StoredPoints:
    """The stored points routes are planned from and to, for checking a graph's coverage."""
    served = {m.code: m.name_ja for m in await municipalities_service.list_municipalities(session)}
    rows = [
        ("shelter", *row)
        for row in await shelters_service.shelter_locations(session)
        if row[0] in served
    ] + [
        ("place", *row)
        for row in await residents_service.place_locations(session)
        if row[0] is None or row[0] in served
    ]
    return StoredPoints(
        kinds=np.array([row[0] for row in rows], dtype=np.str_),
        municipality_codes=[row[1] for row in rows],
        lon=np.array([row[3] for row in rows], dtype=np.float64),
        lat=np.array([row[2] for row in rows], dtype=np.float64),
        municipality_names=served,
    )
