"""What an individual evacuation plan says, checked field by field, and how two versions
differ. Pure: no database (the service resolves supporters and shelters)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..errors import Checker
from ..hazards.types import HazardType
from ..text import clean_phone, clean_text

MIN_SUPPORTERS = 2
MAX_SUPPORTERS = 10
MAX_SHELTERS = len(HazardType)
MAX_NOTE = 2000
# Levels of the five-level alert scale at which a plan can say "leave now".
TRIGGER_LEVELS = (3, 4, 5)


class Transport(StrEnum):
    WALK = "walk"
    WHEELCHAIR = "wheelchair"
    CAR = "car"
    SUPPORTER_CAR = "supporter_car"
    WELFARE_VEHICLE = "welfare_vehicle"
    OTHER = "other"


class InformedBy(StrEnum):
    """How the person learns that it is time to leave."""

    APP_PUSH = "app_push"
    PHONE = "phone"
    SUPPORTER_VISIT = "supporter_visit"
    DISASTER_RADIO = "disaster_radio"  # 防災行政無線
    EMAIL = "email"
    FAX = "fax"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class SupporterDraft:
    name: str | None
    phone: str | None = None
    relation: str | None = None
    # The supporter's regional-ID subject, when they have one (they then see the plan).
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class ShelterChoice:
    hazard_type: HazardType
    shelter_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class PlanDraft:
    """A plan as its author sends it."""

    support_needs: str | None
    supporters: list[SupporterDraft]
    shelters: list[ShelterChoice]
    transport: Transport
    informed_by: list[InformedBy]
    trigger_level: int = 3
    medical_notes: str | None = None
    transport_note: str | None = None
    leave_note: str | None = None


@dataclass(slots=True)
class CheckedPlan:
    """A plan's content, cleaned; supporters' subjects still to resolve."""

    content: dict[str, Any]
    supporter_subjects: list[str | None] = field(default_factory=list)


def check_draft(checker: Checker, draft: PlanDraft, prefix: str = "plan.") -> CheckedPlan:
    """Every problem of the draft at once (field paths as the client wrote them)."""
    needs = clean_text(
        checker,
        f"{prefix}supportNeeds",
        draft.support_needs,
        label_ja="必要な支援",
        max_length=MAX_NOTE,
        required=True,
        multiline=True,
    )
    medical = clean_text(
        checker,
        f"{prefix}medicalNotes",
        draft.medical_notes,
        label_ja="医療・服薬のメモ",
        max_length=MAX_NOTE,
        multiline=True,
    )
    if not MIN_SUPPORTERS <= len(draft.supporters) <= MAX_SUPPORTERS:
        checker.add(
            f"{prefix}supporters",
            f"name {MIN_SUPPORTERS}-{MAX_SUPPORTERS} supporters",
            f"支援者は{MIN_SUPPORTERS}〜{MAX_SUPPORTERS}人を指定してください",
        )
    supporters = []
    subjects: list[str | None] = []
    for n, supporter in enumerate(draft.supporters[:MAX_SUPPORTERS]):
        where = f"{prefix}supporters[{n}]."
        name = clean_text(
            checker, f"{where}name", supporter.name, label_ja="支援者の氏名", max_length=100,
            required=True,
        )  # fmt: skip
        phone = clean_phone(checker, f"{where}phone", supporter.phone)
        subject = clean_text(
            checker, f"{where}subject", supporter.subject, label_ja="地域ID", max_length=255
        )
        if phone is None and subject is None:
            checker.add(
                f"{where}phone",
                "give a phone number or the supporter's regional ID",
                "支援者の電話番号か地域IDを指定してください",
            )
        relation = clean_text(
            checker, f"{where}relation", supporter.relation, label_ja="続柄・関係", max_length=50
        )
        supporters.append({"name": name, "phone": phone, "relation": relation})
        subjects.append(subject)
    named = [s for s in subjects if s]
    if len(set(named)) < len(named):
        checker.add(
            f"{prefix}supporters", "a supporter is named twice", "同じ支援者が重複しています"
        )
    if not 1 <= len(draft.shelters) <= MAX_SHELTERS:
        checker.add(
            f"{prefix}shelters",
            "choose a shelter for at least one hazard type",
            "少なくとも1つの災害種別について避難先を指定してください",
        )
    seen: set[HazardType] = set()
    for n, choice in enumerate(draft.shelters[:MAX_SHELTERS]):
        if choice.hazard_type in seen:
            checker.add(
                f"{prefix}shelters[{n}].hazardType",
                "one shelter per hazard type",
                "災害種別ごとに避難先は1か所です",
            )
        seen.add(choice.hazard_type)
    if not draft.informed_by:
        checker.add(
            f"{prefix}informedBy",
            "say how the person is informed",
            "避難情報の伝達方法を指定してください",
        )
    if draft.trigger_level not in TRIGGER_LEVELS:
        checker.add(
            f"{prefix}triggerLevel",
            "the level to leave at is 3, 4 or 5",
            "避難開始の警戒レベルは3・4・5のいずれかです",
        )
    transport_note = clean_text(
        checker, f"{prefix}transportNote", draft.transport_note, label_ja="移動手段のメモ",
        max_length=500,
    )  # fmt: skip
    leave_note = clean_text(
        checker, f"{prefix}leaveNote", draft.leave_note, label_ja="避難開始のメモ", max_length=500
    )
    content = {
        "supportNeeds": needs,
        "medicalNotes": medical,
        "supporters": supporters,
        "shelters": [
            {"hazardType": c.hazard_type.value, "shelterId": str(c.shelter_id)}
            for c in draft.shelters[:MAX_SHELTERS]
        ],
        "transport": draft.transport.value,
        "transportNote": transport_note,
        "informedBy": list(dict.fromkeys(i.value for i in draft.informed_by)),
        "triggerLevel": draft.trigger_level,
        "leaveNote": leave_note,
        "route": None,
    }
    return CheckedPlan(content, subjects)


# The content keys each consent item covers (what a reader sees of a version).
ITEM_KEYS = {
    "support_needed": ("supportNeeds",),
    "health_notes": ("medicalNotes",),
    "supporters": ("supporters",),
    "evacuation_plan": (
        "shelters",
        "transport",
        "transportNote",
        "informedBy",
        "triggerLevel",
        "leaveNote",
        "route",
    ),
}


def readable_part(content: dict[str, Any], items: set[str]) -> dict[str, Any]:
    """The keys of the content the consent items cover; the rest is left out."""
    keys = {key for item in items for key in ITEM_KEYS.get(item, ())}
    return {k: v for k, v in content.items() if k in keys}


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list) and not all(isinstance(v, str) for v in value):
        for n, inner in enumerate(value):
            _flatten(inner, f"{path}[{n}]", out)
    else:
        out[path] = value


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    before: Any
    after: Any


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """Field-by-field differences between two versions' (readable) content."""
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    # The computed route changes with every save; its summary is compared, not its line.
    _flatten({k: v for k, v in before.items() if k != "route"}, "", old)
    _flatten({k: v for k, v in after.items() if k != "route"}, "", new)
    for side, content in ((old, before), (new, after)):
        route = content.get("route")
        if isinstance(route, dict):
            side["route.distanceMeters"] = route.get("distanceMeters")
            side["route.safe"] = route.get("safe")
    paths = list(dict.fromkeys([*old, *new]))
    return [Change(p, old.get(p), new.get(p)) for p in paths if old.get(p) != new.get(p)]
