"""The evacuationRoute query."""

from __future__ import annotations

import uuid

import strawberry

from ..api.context import KInfo
from ..api.ids import decode_id
from ..errors import DomainError, NotFound, ValidationFailed
from ..residents import service as residents_service
from . import assignments, load, service
from .network import road_networks
from .types import EvacuationRouteInput, EvacuationRouteResult, EvacuationRouteType, RouteErrorType


@strawberry.type
class RoutingQueries:
    @strawberry.field(
        description=(
            "A walking route to a shelter, a point or the nearest suitable shelter that keeps "
            "out of the hazard's zones and the given avoid areas; when none does, the least "
            "exposed route with `safe: false` and its crossings. Public, except `fromPlaceId`."
        )
    )
    async def evacuation_route(
        self, info: KInfo, input: EvacuationRouteInput
    ) -> EvacuationRouteResult:
        context = info.context
        try:
            origin = await _origin(info, input)
            shelter_id = (
                decode_id("Shelter", input.to_shelter_id, field="toShelterId")
                if input.to_shelter_id is not None
                else None
            )
            request = service.RouteRequest(
                origin=origin,
                hazard_type=input.hazard_type,
                shelter_id=shelter_id,
                destination=(
                    (input.to_point.latitude, input.to_point.longitude) if input.to_point else None
                ),
                avoid_geojson=input.avoid or (),
                walking_speed_mps=input.walking_speed_meters_per_second,
                needs_support=input.needs_support,
                open_only=input.open_only,
                profile=input.profile,
                depart_at=input.depart_at,
                # Only needed when the caller leaves the profile to their support record.
                resident_id=(
                    await _signed_in_resident_id(info)
                    if input.profile is None and not input.needs_support
                    else None
                ),
                party=load.party_of(context.settings, input.party_size, context.principal),
            )
            networks = await road_networks.get(context.settings)
            # Read, give the connection back, then search: a burst of route requests never
            # waits for the pool while the graph searches run.
            async with context.db.session() as session:
                inputs = await service.route_inputs(session, context.settings, networks, request)
            result = await assignments.plan_and_record(
                context.settings, inputs, context.db.transaction
            )
        except DomainError as exc:
            return RouteErrorType.from_domain(exc)
        return EvacuationRouteType.from_result(result)


async def _signed_in_resident_id(info: KInfo) -> uuid.UUID | None:
    """The caller's resident id when a resident is signed in (routing is public)."""
    if not info.context.principal.is_resident:
        return None
    resident = await info.context.resident()
    return resident.id


async def _origin(info: KInfo, input: EvacuationRouteInput) -> tuple[float, float]:
    """(lat, lon) of `from` or of the caller's own place `fromPlaceId` (exactly one)."""
    if (input.from_ is None) == (input.from_place_id is None):
        raise ValidationFailed(
            "give exactly one of from and fromPlaceId",
            "出発地は地点か登録した場所のどちらか一方を指定してください",
            field="from",
        )
    if input.from_ is not None:
        return input.from_.latitude, input.from_.longitude
    assert input.from_place_id is not None
    place_id: uuid.UUID = decode_id("Place", input.from_place_id, field="fromPlaceId")
    resident = await info.context.resident()
    try:
        async with info.context.db.session() as session:
            place = await residents_service.get_place(session, resident, place_id)
    except NotFound:
        raise NotFound("place", "場所", field="fromPlaceId") from None
    return place.latitude, place.longitude
