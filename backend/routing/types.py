"""GraphQL types of evacuation routing."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ..api.errors import ErrorInterface, union_error_fields
from ..api.ids import encode_id
from ..api.inputs import CoordinatesInput
from ..api.scalars import GeoJSON
from ..errors import DomainError
from ..hazards.api_types import HazardTypeEnum, HazardZoneType
from ..shelters.types import ShelterType
from .engine import Profile
from .load import MAX_PARTY_SIZE, ShelterLoad
from .service import EvacuationRoute

if TYPE_CHECKING:
    RouteProfileEnum = Profile
else:
    RouteProfileEnum = strawberry.enum(
        Profile,
        name="RouteProfile",
        description="Who walks. WALK: anyone on foot (steps and escalators in their direction "
        "allowed). STEP_FREE: wheelchairs, strollers, many elderly: no steps, escalators, "
        "raised kerbs or ways tagged wheelchair=no, no incline beyond the limit where tagged; "
        "elevators are used.",
    )


@strawberry.input(
    description=(
        "Where to walk from and to. Origin: `from` or `fromPlaceId` (one of my places). "
        "Destination: `toShelterId`, `toPoint`, or neither for the nearest suitable shelter "
        "(designated for `hazardType`, not full, compared by walking distance; open ones only "
        "once the city has opened shelters nearby, or always with `openOnly: true`)."
    )
)
class EvacuationRouteInput:
    from_: CoordinatesInput | None = strawberry.field(default=None, name="from")
    from_place_id: strawberry.ID | None = None
    to_shelter_id: strawberry.ID | None = None
    to_point: CoordinatesInput | None = None
    hazard_type: HazardTypeEnum | None = strawberry.field(
        default=None,
        description="the hazard evacuated from: its zones are avoided, shelters must suit it",
    )
    avoid: list[GeoJSON] | None = strawberry.field(
        default=None,
        description="extra areas to keep out of (GeoJSON Polygon/MultiPolygon, e.g. danger spots)",
    )
    walking_speed_meters_per_second: float | None = strawberry.field(
        default=None, description="default 1.0, or 0.5 with needsSupport"
    )
    needs_support: bool = strawberry.field(
        default=False, description="plan at the slower walking speed of people needing support"
    )
    open_only: bool | None = strawberry.field(
        default=None, description="nearest shelter: only shelters the city has opened"
    )
    profile: RouteProfileEnum | None = strawberry.field(
        default=None,
        description="default STEP_FREE with needsSupport or when the signed-in resident is on "
        "the support-needed register or has an evacuation plan, else WALK",
    )
    depart_at: datetime | None = strawberry.field(
        default=None,
        description="when the walk starts (default now; without an offset, Japan time; "
        "within a year of now): ways closed at some hours (access:conditional) are used only "
        "when open",
    )
    party_size: int = strawberry.field(
        default=1,
        description=f"people walking together (1-{MAX_PARTY_SIZE}): counted against the "
        "shelter's capacity, so nearest-shelter routes spread over shelters with room",
    )


@strawberry.type(name="RouteError", description="Why no route was planned (nothing else failed).")
class RouteErrorType(ErrorInterface):
    fields: list[str] = strawberry.field(description="every offending input field")

    @classmethod
    def from_domain(cls, exc: DomainError) -> RouteErrorType:
        """A domain error (routing's own included) as a RouteError; sign-in stays top-level."""
        return cls(**union_error_fields(exc))


@strawberry.type(
    name="RouteCrossing",
    description=(
        "A part of a least-exposed route inside a hazard zone, an avoid area or a reported "
        "danger spot."
    ),
)
class RouteCrossingType:
    length_meters: float
    hazard_zone: HazardZoneType | None = strawberry.field(description="null for an avoid area")
    avoid_index: int | None = strawberry.field(description="index into input.avoid, if one")
    danger_spot_id: strawberry.ID | None = strawberry.field(
        default=None, description="the approved danger spot crossed, if one"
    )


@strawberry.type(
    name="RouteShelterLoad",
    description="How full the route's shelter is expected to be: counts only, no one's data.",
)
class RouteShelterLoadType:
    capacity: int | None = strawberry.field(description="null when the city has not set one")
    planned: int = strawberry.field(
        description="people routes sent there lately (before this one; your own earlier "
        "route not counted)"
    )
    checked_in: int = strawberry.field(description="people checked in there now")
    expected: int = strawberry.field(description="planned + checkedIn + this party")
    over_capacity: bool = strawberry.field(
        description="expected exceeds capacity (a nearest-shelter route ends at such a "
        "shelter only when every candidate is full)"
    )

    @classmethod
    def from_load(cls, load: ShelterLoad) -> RouteShelterLoadType:
        return cls(
            capacity=load.capacity,
            planned=load.planned,
            checked_in=load.checked_in,
            expected=load.expected,
            over_capacity=load.over_capacity,
        )


@strawberry.type(name="EvacuationRoute", description="A walking route to safety.")
class EvacuationRouteType:
    path: GeoJSON = strawberry.field(
        description="GeoJSON LineString from the exact origin to the exact destination"
    )
    distance_meters: float
    duration_seconds: float
    walking_speed_meters_per_second: float
    safe: bool = strawberry.field(
        description="false when no route keeps out of every hazard zone and avoid area; the "
        "route is then the least exposed one (metres inside weighted by the zone's rank, so "
        "shallow water is preferred to deep; avoid areas count as the deepest) and "
        "`crossings` says where it crosses"
    )
    crossings: list[RouteCrossingType]
    exposure_meters: float = strawberry.field(description="total metres inside crossed areas")
    hazard_type: HazardTypeEnum | None
    shelter: ShelterType | None = strawberry.field(description="the destination shelter, if any")
    hazard_zones_avoided: int = strawberry.field(
        description="zones of the hazard the route was planned around: those the walk "
        "between its origin and destination could reach; the same for the same route, "
        "whichever shelters were compared"
    )
    candidates_compared: int = strawberry.field(
        description="nearest-shelter search: shelters compared by walking distance"
    )
    danger_spots_avoided: list[strawberry.ID] = strawberry.field(
        description="approved danger spots (of open events, unexpired) the shortest walk "
        "would have crossed and this route goes around; ids of the spots, which open only "
        "to viewers their scope lets see them"
    )
    origin_snap_meters: float = strawberry.field(
        description="origin to the point of the nearest usable way the walk starts from"
    )
    destination_snap_meters: float
    origin_street_level: bool = strawberry.field(
        description="the walk starts on an outdoor street-level way (false: indoors, "
        "underground or on a bridge, which snapping chose only because it was much nearer)"
    )
    destination_street_level: bool
    profile: RouteProfileEnum
    depart_at: datetime = strawberry.field(description="the time the route was planned for")
    steps_used: int = strawberry.field(description="stairways walked (never with STEP_FREE)")
    escalators_used: int = strawberry.field(description="escalators (never with STEP_FREE)")
    elevators_used: int
    ticket_gates_passed: int = strawberry.field(
        description="station ticket gates walked through: only where the city opened them"
    )
    shelter_load: RouteShelterLoadType | None = strawberry.field(
        default=None,
        description="the shelter's expected load with this party (null without a shelter): "
        "about `expected` people are heading there or already in",
    )

    @classmethod
    def from_result(cls, result: EvacuationRoute) -> EvacuationRouteType:
        route = result.route
        return cls(
            path=GeoJSON(
                {"type": "LineString", "coordinates": [list(c) for c in route.coordinates]}
            ),
            distance_meters=route.distance_m,
            duration_seconds=route.duration_s,
            walking_speed_meters_per_second=result.walking_speed_mps,
            safe=route.safe,
            crossings=[
                RouteCrossingType(
                    length_meters=c.length_m,
                    hazard_zone=HazardZoneType.from_info(c.zone) if c.zone else None,
                    avoid_index=c.avoid_index,
                    danger_spot_id=(
                        strawberry.ID(encode_id(c.spot.kind, c.spot.id)) if c.spot else None
                    ),
                )
                for c in result.crossings
            ],
            exposure_meters=route.exposure_m,
            hazard_type=result.hazard_type,
            shelter=ShelterType.from_model(result.shelter) if result.shelter else None,
            hazard_zones_avoided=result.zones_avoided,
            candidates_compared=result.candidates_compared,
            danger_spots_avoided=[
                strawberry.ID(encode_id(s.kind, s.id)) for s in result.spots_avoided
            ],
            origin_snap_meters=route.origin_snap_m,
            destination_snap_meters=route.destination_snap_m,
            origin_street_level=route.origin_street_level,
            destination_street_level=route.destination_street_level,
            profile=route.profile,
            depart_at=result.depart_at,
            steps_used=result.uses.get("steps", 0),
            escalators_used=result.uses.get("escalators", 0),
            elevators_used=result.uses.get("elevators", 0),
            ticket_gates_passed=result.uses.get("ticket_gates", 0),
            shelter_load=(
                RouteShelterLoadType.from_load(result.shelter_load) if result.shelter_load else None
            ),
        )


EvacuationRouteResult = Annotated[
    EvacuationRouteType | RouteErrorType, strawberry.union("EvacuationRouteResult")
]
