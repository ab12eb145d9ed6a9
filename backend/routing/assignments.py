"""Where routes send people: plan a route, then count its party as sent to its shelter.

The graph search runs with no connection held; the count is a short transaction of its own
after it. In that transaction a nearest-shelter route re-reads the planned counts while the
routes to its shelter are serialised (see ``load.recounted``): when routes recorded during
its search filled the shelter and another candidate still has room, nothing is recorded and
the route is planned again with the fresh counts, so a burst never overfills a shelter while
another has room (the last attempt records whatever it found).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from . import load, service

# Re-plans of a nearest-shelter route whose shelter other routes filled during its search.
MAX_LOAD_REPLANS = 2


async def plan_and_record(
    settings: Settings,
    inputs: service.RouteInputs,
    transaction: Callable[[], AbstractAsyncContextManager[AsyncSession]],
) -> service.EvacuationRoute:
    """``plan_route``, then count the request's party as sent to the route's shelter in a
    short ``transaction`` of its own; a nearest shelter that routes recorded during the
    search have filled is exchanged for one with room by planning again with the fresh
    counts. No connection is held during any search."""
    result = await service.plan_route(settings, inputs)
    for attempt in range(MAX_LOAD_REPLANS + 1):
        async with transaction() as session:
            settled = await _record(
                session, settings, inputs, result, may_replan=attempt < MAX_LOAD_REPLANS
            )
        if isinstance(settled, service.EvacuationRoute):
            return settled
        inputs = settled
        result = await service.plan_route(settings, inputs)
    raise AssertionError("the last attempt always records")  # pragma: no cover


async def _record(
    session: AsyncSession,
    settings: Settings,
    inputs: service.RouteInputs,
    result: service.EvacuationRoute,
    *,
    may_replan: bool,
) -> service.EvacuationRoute | service.RouteInputs:
    """The route as recorded, or the inputs to plan it again with (nothing recorded)."""
    party, shelter = inputs.request.party, result.shelter
    if party is None or shelter is None:
        return result
    seen = inputs.loads.get(shelter.id)
    # Only a nearest shelter chosen for its room can have been filled by others meanwhile.
    if len(inputs.loads) > 1 and seen and seen.capacity is not None and not seen.over_capacity:
        fresh = await load.recounted(session, settings, shelter.id, inputs.loads, party)
        others_have_room = any(not other.over_capacity for other in fresh.values())
        if may_replan and fresh[shelter.id].over_capacity and others_have_room:
            return replace(inputs, loads=fresh)
        result = replace(result, shelter_load=fresh[shelter.id])
    await load.record(session, settings, shelter_id=shelter.id, party=party)
    return result
