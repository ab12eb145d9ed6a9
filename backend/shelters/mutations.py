"""Shelter mutations: status and needs by the municipality's managers; check-in and out by
residents (or their family), arrivals and departures recorded by the reception."""

from __future__ import annotations

import uuid

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.context import KInfo
from ..api.errors import UserError
from ..api.ids import decode_id
from ..api.mutations import as_principal, in_transaction, sent
from ..errors import Checker
from ..principal import Principal, Viewer
from . import checkin, needs, service
from .checkin import Stay
from .codes import shelter_id_of
from .models import StayMethod
from .types import (
    NeedKindEnum,
    NeedStateEnum,
    ShelterNeedType,
    ShelterStatusEnum,
    ShelterStayType,
    ShelterType,
)

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


@strawberry.input(
    description="Check in at a shelter: the scanned QR `code` or the picked `shelterId` (one of "
    "them); with `memberId`, a family member is checked in for them."
)
class CheckInToShelterInput:
    code: str | None = strawberry.field(default=None, description="The scanned checkInCode")
    shelter_id: strawberry.ID | None = None
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A FamilyMember of your group who shares their name with the family "
        "(family_safety)",
    )


@strawberry.input(description="Check out of the current shelter (yours, or a family member's).")
class CheckOutOfShelterInput:
    member_id: strawberry.ID | None = None


@strawberry.input(
    description="The reception records an arrival: a resident by regional-ID `subject`, or a "
    "party without the app by `label` and `partySize`."
)
class RecordShelterArrivalInput:
    shelter_id: strawberry.ID
    subject: str | None = None
    label: str | None = strawberry.field(default=None, description="e.g. 山田さん一家")
    party_size: int = strawberry.field(
        default=1, description=f"People arriving together (1-{checkin.MAX_PARTY_SIZE})"
    )


@strawberry.input(description="The reception records that someone left (a ShelterEvacuee id).")
class RecordShelterDepartureInput:
    stay_id: strawberry.ID


@strawberry.type
class ShelterStayPayload:
    stay: ShelterStayType | None = None
    left_shelter: ShelterType | None = strawberry.field(
        default=None, description="The shelter a check-in moved the stay away from"
    )
    errors: list[UserError] = strawberry.field(default_factory=list)

    @classmethod
    def of(cls, stay: Stay) -> ShelterStayPayload:
        return cls(
            stay=ShelterStayType.from_stay(stay),
            left_shelter=ShelterType.from_model(stay.left) if stay.left else None,
        )


@strawberry.input
class PostShelterNeedInput:
    shelter_id: strawberry.ID
    kind: NeedKindEnum
    text_ja: str = strawberry.field(description=f"At most {needs.MAX_TEXT_LENGTH} characters")
    text_en: str | None = None
    quantity: int | None = None


@strawberry.input(description="Fields to change; omitted fields stay, null quantity clears it.")
class UpdateShelterNeedInput:
    need_id: strawberry.ID
    state: NeedStateEnum | None = UNSET
    quantity: int | None = UNSET


@strawberry.type
class ShelterNeedPayload:
    need: ShelterNeedType | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _shelter_of(input: CheckInToShelterInput) -> tuple[uuid.UUID, str]:
    """The shelter id the input names, and the field it came from."""
    if (input.code is None) == (input.shelter_id is None):
        checker = Checker()
        checker.add(
            "shelterId",
            "give either the scanned code or shelterId",
            "QRコードか避難所のどちらか一方を指定してください",
        )
        checker.raise_if_any()
    if input.code is not None:
        return shelter_id_of(input.code, field="code"), "code"
    assert input.shelter_id is not None
    return decode_id("Shelter", input.shelter_id, field="shelterId"), "shelterId"


async def _whom(
    session: AsyncSession, viewer: Viewer, resident_id: uuid.UUID, member_id: str | None
) -> uuid.UUID:
    """The resident a check-in or check-out is for: the caller, or the family member named."""
    if member_id is None:
        return resident_id
    membership_id = decode_id("FamilyMember", member_id, field="memberId")
    return await checkin.family_member(session, viewer, membership_id=membership_id)


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

    @strawberry.mutation(
        description="Check in at an open shelter that is not full (yourself, or a family "
        "member); checking in elsewhere moves the stay. Typed errors: SHELTER_CLOSED, "
        "SHELTER_FULL (choose another shelter, or ask its reception), NOT_PERMITTED."
    )
    async def check_in_to_shelter(
        self, info: KInfo, input: CheckInToShelterInput
    ) -> ShelterStayPayload:
        resident = await info.context.resident()
        viewer = await info.context.viewer()

        async def work(session: AsyncSession) -> ShelterStayPayload:
            shelter_id, field = _shelter_of(input)
            stay = await checkin.check_in(
                session,
                viewer,
                shelter_id=shelter_id,
                resident_id=await _whom(session, viewer, resident.id, input.member_id),
                how=StayMethod.QR if field == "code" else StayMethod.SELF,
                meta=info.context.request_meta(),
                shelter_field=field,
            )
            return ShelterStayPayload.of(stay)

        return await in_transaction(info, ShelterStayPayload, work)

    @strawberry.mutation(description="Check out of the current shelter (yourself, or family).")
    async def check_out_of_shelter(
        self, info: KInfo, input: CheckOutOfShelterInput
    ) -> ShelterStayPayload:
        resident = await info.context.resident()
        viewer = await info.context.viewer()

        async def work(session: AsyncSession) -> ShelterStayPayload:
            stay = await checkin.check_out(
                session,
                viewer,
                resident_id=await _whom(session, viewer, resident.id, input.member_id),
                meta=info.context.request_meta(),
            )
            return ShelterStayPayload.of(stay)

        return await in_transaction(info, ShelterStayPayload, work)

    @strawberry.mutation(
        description="Record an arrival at the reception (shelter managers and staff of the "
        "shelter's municipality); a full shelter still counts the people at its door."
    )
    async def record_shelter_arrival(
        self, info: KInfo, input: RecordShelterArrivalInput
    ) -> ShelterStayPayload:
        async def work(session: AsyncSession, principal: Principal) -> ShelterStayPayload:
            stay = await checkin.record_arrival(
                session,
                principal,
                shelter_id=decode_id("Shelter", input.shelter_id, field="shelterId"),
                subject=input.subject,
                label=input.label,
                party_size=input.party_size,
            )
            return ShelterStayPayload.of(stay)

        return await as_principal(info, ShelterStayPayload, work)

    @strawberry.mutation(description="Record a departure at the reception (managers and staff).")
    async def record_shelter_departure(
        self, info: KInfo, input: RecordShelterDepartureInput
    ) -> ShelterStayPayload:
        async def work(session: AsyncSession, principal: Principal) -> ShelterStayPayload:
            stay = await checkin.record_departure(
                session, principal, stay_id=decode_id("ShelterStay", input.stay_id, field="stayId")
            )
            return ShelterStayPayload.of(stay)

        return await as_principal(info, ShelterStayPayload, work)

    @strawberry.mutation(
        description="Post what a shelter needs (managers and staff of its municipality); "
        "everyone sees it on the shelter."
    )
    async def post_shelter_need(
        self, info: KInfo, input: PostShelterNeedInput
    ) -> ShelterNeedPayload:
        async def work(session: AsyncSession, principal: Principal) -> ShelterNeedPayload:
            need = await needs.post_need(
                session,
                principal,
                shelter_id=decode_id("Shelter", input.shelter_id, field="shelterId"),
                kind=input.kind,
                text_ja=input.text_ja,
                text_en=input.text_en,
                quantity=input.quantity,
            )
            return ShelterNeedPayload(need=ShelterNeedType.from_model(need))

        return await as_principal(info, ShelterNeedPayload, work)

    @strawberry.mutation(description="Mark a need fulfilled, withdrawn or open, or recount it.")
    async def update_shelter_need(
        self, info: KInfo, input: UpdateShelterNeedInput
    ) -> ShelterNeedPayload:
        async def work(session: AsyncSession, principal: Principal) -> ShelterNeedPayload:
            need = await needs.update_need(
                session,
                principal,
                need_id=decode_id("ShelterNeed", input.need_id, field="needId"),
                state=sent(input.state, service.UNSET),
                quantity=sent(input.quantity, service.UNSET),
            )
            return ShelterNeedPayload(need=ShelterNeedType.from_model(need))

        return await as_principal(info, ShelterNeedPayload, work)
