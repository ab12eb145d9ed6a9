"""GraphQL types of supplies: the supply profile and the checklists."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from .catalog import Category, DietaryNeed, PetKind
from .checklist import Line
from .models import SupplyProfile
from .service import RECOMMENDED_DAYS, Checklist

if TYPE_CHECKING:
    SupplyCategoryType = Category
    PetKindType = PetKind
    DietaryNeedType = DietaryNeed
else:
    SupplyCategoryType = strawberry.enum(Category, name="SupplyCategory")
    PetKindType = strawberry.enum(PetKind, name="PetKind")
    DietaryNeedType = strawberry.enum(
        DietaryNeed,
        name="DietaryNeed",
        description="Dietary needs the supply rules know (SOFT_FOOD: 嚥下・咀嚼の配慮).",
    )


@strawberry.type(name="Pet")
class PetType:
    kind: PetKindType
    count: int


@strawberry.type(name="SupplyProfile", description="My facts the supply rules need.")
class SupplyProfileType:
    pets: list[PetType]
    regular_medication: bool = strawberry.field(description="I take medication regularly")
    dietary_needs: list[DietaryNeedType]
    updated_at: datetime | None = strawberry.field(description="Null until first saved")

    @classmethod
    def from_model(cls, profile: SupplyProfile) -> SupplyProfileType:
        return cls(
            pets=[PetType(kind=PetKind(p["kind"]), count=p["count"]) for p in profile.pets],
            regular_medication=profile.regular_medication,
            dietary_needs=[DietaryNeed(n) for n in profile.dietary_needs],
            updated_at=profile.updated_at,
        )


@strawberry.type(name="SupplyReason")
class SupplyReasonType:
    ja: str
    en: str


@strawberry.type(name="SupplyLine", description="One item to keep, how many, and why.")
class SupplyLineType:
    item: str = strawberry.field(description="The item's code in the catalog (tick with it)")
    name_ja: str
    name_en: str
    category: SupplyCategoryType
    quantity: int = strawberry.field(description="How many units for the list's days")
    unit_ja: str
    unit_en: str
    reasons: list[SupplyReasonType] = strawberry.field(
        description="Why: one per rule that applied (e.g. 水：1人1日3リットル×日数)"
    )
    persons: int = strawberry.field(description="People it is for (0: for the household)")
    pets: int = strawberry.field(description="Animals it is for")
    ticked: bool

    @classmethod
    def from_line(cls, line: Line, ticked: bool) -> SupplyLineType:
        item = line.item
        return cls(
            item=item.code,
            name_ja=item.name_ja,
            name_en=item.name_en,
            category=item.category,
            quantity=line.quantity,
            unit_ja=item.unit_ja,
            unit_en=item.unit_en,
            reasons=[SupplyReasonType(ja=ja, en=en) for ja, en in line.reasons],
            persons=line.persons,
            pets=line.pets,
            ticked=ticked,
        )


@strawberry.type(name="SupplyProgress")
class SupplyProgressType:
    ticked: int
    total: int
    percent: int


@strawberry.type(name="SupplyChecklist")
class SupplyChecklistType:
    days: int
    recommended_days: int = strawberry.field(description="What the guidance recommends (7)")
    catalog: str = strawberry.field(
        description="Whose catalog: `default`, or the municipality code of your city's own"
    )
    people: int = strawberry.field(description="People counted, you included")
    members_sharing: int = strawberry.field(
        description="Family members whose age and needs are counted (they consented)"
    )
    members_not_sharing: int = strawberry.field(
        description="Family members counted as one more adult, without their details"
    )
    items: list[SupplyLineType]
    progress: SupplyProgressType

    @classmethod
    def from_checklist(cls, checklist: Checklist) -> SupplyChecklistType:
        total = len(checklist.lines)
        ticked = checklist.ticked_count
        return cls(
            days=checklist.days,
            recommended_days=RECOMMENDED_DAYS,
            catalog=checklist.source,
            people=checklist.people,
            members_sharing=checklist.members_sharing,
            members_not_sharing=checklist.members_not_sharing,
            items=[
                SupplyLineType.from_line(line, line.item.code in checklist.ticked)
                for line in checklist.lines
            ],
            progress=SupplyProgressType(
                ticked=ticked, total=total, percent=(100 * ticked // total) if total else 0
            ),
        )
