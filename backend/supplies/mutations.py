"""Supplies mutations: my supply profile, and ticking items off a checklist."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.mutations import as_resident, as_viewer, sent
from ..principal import ResidentRef, Viewer
from . import service
from .types import DietaryNeedType, PetKindType, SupplyChecklistType, SupplyProfileType


@strawberry.input
class PetInput:
    kind: PetKindType
    count: int = strawberry.field(default=1, description="How many, 1-20")


@strawberry.input
class UpdateSupplyProfileInput:
    pets: list[PetInput] | None = strawberry.field(
        default=strawberry.UNSET, description="All my pets (replaces the list); omit to keep"
    )
    regular_medication: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Whether I take medication regularly"
    )
    dietary_needs: list[DietaryNeedType] | None = strawberry.field(
        default=strawberry.UNSET, description="My dietary needs (replaces the list)"
    )


@strawberry.type
class SupplyProfilePayload:
    profile: SupplyProfileType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class TickSupplyItemInput:
    item: str = strawberry.field(description="The item's code, as in SupplyLine.item")
    ticked: bool = True
    household: bool = strawberry.field(
        default=False, description="Tick it on my household's list instead of my own"
    )
    days: int = strawberry.field(
        default=service.DEFAULT_DAYS, description="Days of the checklist returned, 1-14"
    )


@strawberry.type
class TickSupplyItemPayload:
    checklist: SupplyChecklistType | None = strawberry.field(
        default=None, description="The list after the change, with its progress"
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SupplyMutations:
    @strawberry.mutation(
        description="Save my pets, regular medication and dietary needs for my supplies list."
    )
    async def update_supply_profile(
        self, info: KInfo, input: UpdateSupplyProfileInput
    ) -> SupplyProfilePayload:
        async def work(session: AsyncSession, resident: ResidentRef) -> SupplyProfilePayload:
            pets = sent(input.pets, None)
            needs = sent(input.dietary_needs, None)
            changes = service.ProfileChanges(
                pets=None
                if pets is None
                else [service.PetChange(kind=p.kind.value, count=p.count) for p in pets],
                regular_medication=sent(input.regular_medication, None),
                dietary_needs=None if needs is None else [n.value for n in needs],
            )
            profile = await service.update_profile(session, resident, changes)
            return SupplyProfilePayload(profile=SupplyProfileType.from_model(profile))

        return await as_resident(info, SupplyProfilePayload, work)

    @strawberry.mutation(description="Tick an item off my (or my household's) supplies list.")
    async def tick_supply_item(
        self, info: KInfo, input: TickSupplyItemInput
    ) -> TickSupplyItemPayload:
        async def work(session: AsyncSession, viewer: Viewer) -> TickSupplyItemPayload:
            found = await service.tick(
                session,
                viewer,
                item_code=input.item,
                ticked=input.ticked,
                household=input.household,
                days=input.days,
                meta=info.context.request_meta(),
            )
            return TickSupplyItemPayload(checklist=SupplyChecklistType.from_checklist(found))

        return await as_viewer(info, TickSupplyItemPayload, work)
