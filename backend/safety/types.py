"""GraphQL types of disaster events, safety answers and the views over them."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import h3
import strawberry

from ..api.ids import encode_id
from ..api.scalars import GeoJSON, JSONValue
from ..hazards.api_types import HazardTypeEnum
from ..hazards.types import HazardType
from ..shelters.types import ShelterType
from .models import AnsweredBy, AnswerSource, DisasterEvent, EventState, SafetyAnswer, SafetyStatus
from .service import (
    AreaTally,
    CommunityTallyView,
    Dashboard,
    FamilyMemberSafety,
    FamilySafetyView,
    OpenEvent,
    PersonSafety,
    Tally,
)

if TYPE_CHECKING:
    SafetyStatusEnum = SafetyStatus
    AnsweredByEnum = AnsweredBy
    EventStateEnum = EventState
    AnswerSourceEnum = AnswerSource
else:
    SafetyStatusEnum = strawberry.enum(
        SafetyStatus, name="SafetyStatus", description="A safety answer (安否)."
    )
    AnsweredByEnum = strawberry.enum(
        AnsweredBy, name="AnsweredBy", description="Who gave an answer: the person or a proxy."
    )
    EventStateEnum = strawberry.enum(EventState, name="DisasterEventState")
    AnswerSourceEnum = strawberry.enum(AnswerSource, name="SafetyAnswerSource")


def event_id(event_uuid: Any) -> strawberry.ID:
    return strawberry.ID(encode_id("DisasterEvent", event_uuid))


@strawberry.type(
    name="DisasterEvent", description="A disaster event (発災) safety answers belong to."
)
class DisasterEventType:
    id: strawberry.ID
    name: str
    hazard_type: HazardTypeEnum | None
    state: EventStateEnum
    started_at: datetime
    closed_at: datetime | None
    municipality_codes: list[str]
    area: GeoJSON | None = strawberry.field(
        description="Where residents are asked to answer, within the municipalities (null: all)"
    )
    opened_by_alert: bool

    @classmethod
    def from_model(cls, event: DisasterEvent, codes: list[str]) -> DisasterEventType:
        return cls(
            id=event_id(event.id),
            name=event.name,
            hazard_type=HazardType(event.hazard_type) if event.hazard_type else None,
            state=EventState(event.state),
            started_at=event.started_at,
            closed_at=event.closed_at,
            municipality_codes=codes,
            area=GeoJSON(json.loads(event.area_geojson)) if event.area_geojson else None,
            opened_by_alert=event.source_alert_id is not None,
        )


@strawberry.type(name="Position", description="A WGS 84 position.")
class PositionType:
    latitude: float
    longitude: float


@strawberry.type(name="SafetyAnswer", description="One safety answer as given (history).")
class SafetyAnswerType:
    id: strawberry.ID
    status: SafetyStatusEnum
    note: str | None
    position: PositionType | None
    shelter_id: strawberry.ID | None
    answered_by: AnsweredByEnum
    source: AnswerSourceEnum
    answered_at: datetime
    recorded_at: datetime

    @classmethod
    def from_model(cls, answer: SafetyAnswer) -> SafetyAnswerType:
        position = None
        if answer.latitude is not None and answer.longitude is not None:
            position = PositionType(latitude=answer.latitude, longitude=answer.longitude)
        return cls(
            id=strawberry.ID(encode_id("SafetyAnswer", answer.id)),
            status=SafetyStatus(answer.status),
            note=answer.note,
            position=position,
            shelter_id=(
                strawberry.ID(encode_id("Shelter", answer.shelter_id))
                if answer.shelter_id
                else None
            ),
            answered_by=AnsweredBy(answer.answered_by),
            source=AnswerSource(answer.source),
            answered_at=answer.answered_at,
            recorded_at=answer.recorded_at,
        )


@strawberry.type(name="OpenEvent", description="An open event concerning me, and my answer.")
class OpenEventType:
    event: DisasterEventType
    my_status: SafetyStatusEnum | None
    my_answered_at: datetime | None

    @classmethod
    def from_open(cls, item: OpenEvent, codes: list[str]) -> OpenEventType:
        latest = item.latest
        return cls(
            event=DisasterEventType.from_model(item.event, codes),
            my_status=SafetyStatus(latest.status) if latest else None,
            my_answered_at=latest.answered_at if latest else None,
        )


@strawberry.type(name="SharedLocation", description="A position shared until it expires.")
class SharedLocationType:
    latitude: float
    longitude: float
    accuracy_meters: float | None
    shared_at: datetime
    expires_at: datetime

    @classmethod
    def from_value(cls, value: dict[str, Any] | None) -> SharedLocationType | None:
        if not value:
            return None
        return cls(
            latitude=value["latitude"],
            longitude=value["longitude"],
            accuracy_meters=value.get("accuracyMeters"),
            shared_at=datetime.fromisoformat(value["sharedAt"]),
            expires_at=datetime.fromisoformat(value["expiresAt"]),
        )


@strawberry.type(
    name="PersonSafety",
    description="One person in a safety view: only what their consent shows you (null elsewhere).",
)
class PersonSafetyType:
    person_id: strawberry.ID | None = strawberry.field(
        description="The person's id (for answering on their behalf); only when named"
    )
    name: str | None
    shares_status: bool = strawberry.field(
        description="Whether this person's answers are shown to you"
    )
    status: SafetyStatusEnum | None
    answered_at: datetime | None
    answered_by: AnsweredByEnum | None
    note: str | None
    shelter_id: strawberry.ID | None
    location: SharedLocationType | None
    details: JSONValue | None = strawberry.field(
        description="Other items this person shares with you (address, phone, ...)"
    )

    @classmethod
    def from_person(cls, person: PersonSafety) -> PersonSafetyType:
        named = person.name is not None or person.shares_status
        return cls(
            person_id=strawberry.ID(encode_id("Resident", person.resident_id)) if named else None,
            name=person.name,
            shares_status=person.shares_status,
            status=SafetyStatus(person.status) if person.status else None,
            answered_at=person.answered_at,
            answered_by=AnsweredBy(person.answered_by) if person.answered_by else None,
            note=person.note,
            shelter_id=strawberry.ID(person.shelter_id) if person.shelter_id else None,
            location=SharedLocationType.from_value(person.location),
            details=JSONValue(person.details) if person.details else None,
        )


@strawberry.type(name="FamilyMemberSafety")
class FamilyMemberSafetyType:
    member_id: strawberry.ID
    person: PersonSafetyType

    @classmethod
    def from_member(cls, member: FamilyMemberSafety) -> FamilyMemberSafetyType:
        return cls(
            member_id=strawberry.ID(encode_id("FamilyMember", member.membership_id)),
            person=PersonSafetyType.from_person(member.person),
        )


@strawberry.type(
    name="FamilySafety",
    description="A family group's answers in an event, as each member's consent allows.",
)
class FamilySafetyType:
    group_id: strawberry.ID
    event: DisasterEventType
    members: list[FamilyMemberSafetyType]
    unanswered: list[FamilyMemberSafetyType] = strawberry.field(
        description="Members who share their answers with you and have not answered"
    )

    @classmethod
    def from_view(cls, view: FamilySafetyView, codes: list[str]) -> FamilySafetyType:
        return cls(
            group_id=strawberry.ID(encode_id("FamilyGroup", view.group_id)),
            event=DisasterEventType.from_model(view.event, codes),
            members=[FamilyMemberSafetyType.from_member(m) for m in view.members],
            unanswered=[FamilyMemberSafetyType.from_member(m) for m in view.unanswered],
        )


@strawberry.type(name="SafetyTally", description="Counts over everyone: named or not.")
class SafetyTallyType:
    safe: int
    injured: int
    needs_help: int
    evacuated: int
    unanswered: int
    total: int

    @classmethod
    def from_tally(cls, tally: Tally) -> SafetyTallyType:
        return cls(
            safe=tally.safe,
            injured=tally.injured,
            needs_help=tally.needs_help,
            evacuated=tally.evacuated,
            unanswered=tally.unanswered,
            total=tally.total,
        )


@strawberry.type(
    name="CommunityTally",
    description="A leader's tally: counts over all members; names only of those who consented.",
)
class CommunityTallyType:
    community_id: strawberry.ID
    community_name: str
    event: DisasterEventType
    tally: SafetyTallyType
    members: list[PersonSafetyType] = strawberry.field(
        description="Members who consented to community_safety, NEEDS_HELP first"
    )
    unanswered: list[PersonSafetyType] = strawberry.field(
        description="Consenting members who share their answers and have not answered"
    )

    @classmethod
    def from_view(cls, view: CommunityTallyView, codes: list[str]) -> CommunityTallyType:
        return cls(
            community_id=strawberry.ID(encode_id("Community", view.community_id)),
            community_name=view.community_name,
            event=DisasterEventType.from_model(view.event, codes),
            tally=SafetyTallyType.from_tally(view.tally),
            members=[PersonSafetyType.from_person(p) for p in view.consenting],
            unanswered=[PersonSafetyType.from_person(p) for p in view.unanswered],
        )


@strawberry.type(name="AreaSafetyTally", description="Counts of one municipality or community.")
class AreaSafetyTallyType:
    key: str = strawberry.field(description="Municipality code or Community id")
    label: str
    tally: SafetyTallyType

    @classmethod
    def from_area(cls, area: AreaTally, *, community: bool) -> AreaSafetyTallyType:
        key = encode_id("Community", uuid.UUID(area.key)) if community else area.key
        return cls(key=key, label=area.label, tally=SafetyTallyType.from_tally(area.tally))


@strawberry.type(name="ShelterLoad", description="A shelter's occupancy in the dashboard.")
class ShelterLoadType:
    shelter: ShelterType
    evacuated_answers: int = strawberry.field(
        description="Counting EVACUATED_TO_SHELTER answers naming this shelter"
    )


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def _tally_properties(tally: Tally) -> dict[str, int]:
    return {
        "safe": tally.safe,
        "injured": tally.injured,
        "needsHelp": tally.needs_help,
        "evacuated": tally.evacuated,
        "total": tally.total,
    }


@strawberry.type(
    name="SafetyDashboard",
    description="City staff: an event's counts in your municipalities; no names.",
)
class SafetyDashboardType:
    event: DisasterEventType
    municipality_codes: list[str]
    total: SafetyTallyType
    by_municipality: list[AreaSafetyTallyType]
    by_community: list[AreaSafetyTallyType]
    cell_resolution: int
    cells: GeoJSON = strawberry.field(
        description="FeatureCollection of H3 cells with answer counts (properties) for a map"
    )
    outside_shelters: GeoJSON = strawberry.field(
        description="FeatureCollection of positions of evacuees far from every open shelter"
    )
    shelters: list[ShelterLoadType]

    @classmethod
    def from_dashboard(cls, board: Dashboard, codes: list[str]) -> SafetyDashboardType:
        cells = [
            _feature(
                {
                    "type": "Polygon",
                    "coordinates": [[[lng, lat] for lat, lng in _closed(c.cell)]],
                },
                {"cell": c.cell, **_tally_properties(c.tally)},
            )
            for c in board.by_cell
        ]
        outside = [
            _feature(
                {"type": "Point", "coordinates": [p.longitude, p.latitude]},
                {
                    "answeredAt": p.answered_at.isoformat(),
                    "nearestShelterMeters": p.nearest_shelter_m,
                },
            )
            for p in board.outside_shelters
        ]
        return cls(
            event=DisasterEventType.from_model(board.event, codes),
            municipality_codes=board.municipality_codes,
            total=SafetyTallyType.from_tally(board.total),
            by_municipality=[
                AreaSafetyTallyType.from_area(a, community=False) for a in board.by_municipality
            ],
            by_community=[
                AreaSafetyTallyType.from_area(a, community=True) for a in board.by_community
            ],
            cell_resolution=board.cell_resolution,
            cells=GeoJSON({"type": "FeatureCollection", "features": cells}),
            outside_shelters=GeoJSON({"type": "FeatureCollection", "features": outside}),
            shelters=[
                ShelterLoadType(
                    shelter=ShelterType.from_model(s.shelter), evacuated_answers=s.evacuated_answers
                )
                for s in board.shelters
            ],
        )


def _closed(cell: str) -> list[tuple[float, float]]:
    """The cell's boundary as a closed ring (GeoJSON repeats the first position)."""
    ring = list(h3.cell_to_boundary(cell))
    return [*ring, ring[0]]


def _shelter_id(answer: SafetyAnswer) -> strawberry.ID | None:
    return strawberry.ID(encode_id("Shelter", answer.shelter_id)) if answer.shelter_id else None
