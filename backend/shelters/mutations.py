"""Shelter mutations: status, occupancy and capacity, by the municipality's managers."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_principal, sent
from ..principal import Principal
from . import service
from .types import ShelterStatusEnum, ShelterType

UNSET = strawberry.UNSET


def _sent(value: object) -> object:
    return sent(value, service.UNSET)


@strawberry.input(description="Fields to change; omitted fields stay, null makes a count unknown.")
class UpdateShelterStatusInput:
    id: strawberry.ID
    status: ShelterStatusEnum | None = UNSET
    occupancy: int | None = strawberry.field(
        default=UNSET, description="people in the shelter now (0..capacity)"
    )
    capacity: int | None = UNSET


@strawberry.type
class UpdateShelterStatusPayload:
    shelter: ShelterType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ShelterMutations:
    @strawberry.mutation(
        description=(
            "Open, close or mark full a shelter and report occupancy/capacity: shelter managers, "
            "city staff and city admins of the shelter's municipality only."
        )
    )
    async def update_shelter_status(
        self, info: KInfo, input: UpdateShelterStatusInput
    ) -> UpdateShelterStatusPayload:
        async def work(session: AsyncSession, principal: Principal) -> UpdateShelterStatusPayload:
            shelter = await service.update_status(
                session,
                principal,
                decode_id("Shelter", input.id),
                status=_sent(input.status),
                occupancy=_sent(input.occupancy),
                capacity=_sent(input.capacity),
            )
            return UpdateShelterStatusPayload(shelter=ShelterType.from_model(shelter))

        return await as_principal(info, UpdateShelterStatusPayload, work)
