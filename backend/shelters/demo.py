"""Synthetic demo shelters in central Aizu-Wakamatsu (架空のデモデータ, not the GSI list).

Real shelters come from ``kizuna import shelters``; these few let ``kizuna serve`` show the
feature on a fresh database. Their ids are not GSI 共通IDs, so a real import never pairs with
them: it replaces them, because real shelters of a municipality replace its demo shelters.
"""

from __future__ import annotations

from ..hazards.types import HazardType
from ..ingest.problems import SourceRef
from .records import ShelterKind, ShelterRecord

H = HazardType
DEMO_MUNICIPALITY = "07202"
# Every demo shelter's id starts with this; no GSI 共通ID does (they start with "E" + digits).
DEMO_ID_PREFIX = "DEMO-"
_EMERGENCY = frozenset({ShelterKind.EMERGENCY_SITE})
_BOTH = frozenset({ShelterKind.EMERGENCY_SITE, ShelterKind.EVACUATION_SHELTER})
_SHELTER = frozenset({ShelterKind.EVACUATION_SHELTER})

# (id, name, address, lat, lon, kinds, hazards)
DEMO_SHELTERS: tuple[
    tuple[str, str, str, float, float, frozenset[ShelterKind], set[HazardType]], ...
] = (
    (
        "DEMO-07202-001",
        "デモ第一小学校（架空）",
        "会津若松市追手町（架空）",
        37.4921,
        139.9305,
        _BOTH,
        {H.FLOOD, H.LANDSLIDE, H.EARTHQUAKE, H.LARGE_FIRE, H.INLAND_FLOOD},
    ),
    (
        "DEMO-07202-002",
        "デモ中央公園（架空）",
        "会津若松市栄町（架空）",
        37.4968,
        139.9262,
        _EMERGENCY,
        {H.EARTHQUAKE, H.LARGE_FIRE},
    ),
    (
        "DEMO-07202-003",
        "デモ市民体育館（架空）",
        "会津若松市城東町（架空）",
        37.4885,
        139.9402,
        _BOTH,
        {H.FLOOD, H.EARTHQUAKE, H.LARGE_FIRE},
    ),
    (
        "DEMO-07202-004",
        "デモ北公民館（架空）",
        "会津若松市駅前町（架空）",
        37.5052,
        139.9301,
        _SHELTER,
        set(),
    ),
    (
        "DEMO-07202-005",
        "デモ西中学校（架空）",
        "会津若松市西七日町（架空）",
        37.4952,
        139.9150,
        _BOTH,
        {H.LANDSLIDE, H.EARTHQUAKE, H.LARGE_FIRE},
    ),
)

# 収容人数 of the demo evacuation shelters, so check-ins can fill one (set where unknown: a
# manager's figure is kept). The park is an emergency site only: nobody stays there.
DEMO_CAPACITIES: dict[str, int] = {
    "DEMO-07202-001": 250,
    "DEMO-07202-003": 400,
    "DEMO-07202-005": 200,
}


def is_demo(common_id: str) -> bool:
    """Whether a 共通ID is one of the synthetic demo shelters'."""
    return common_id.startswith(DEMO_ID_PREFIX)


def demo_shelter_records() -> list[ShelterRecord]:
    """The demo shelters as merged records (what ``service.store_records`` takes)."""
    return [
        ShelterRecord(
            common_id=common_id,
            common_ids=(common_id,),
            name=name,
            address=address,
            lon=lon,
            lat=lat,
            municipality_code=DEMO_MUNICIPALITY,
            municipality_name="福島県会津若松市",
            kinds=kinds,
            hazard_types=frozenset(hazards),
            target_group=None,
            other_matters=None,
            note="デモ用の架空データ",
            gsi_same_address=len(kinds) == 2,
            sources=(SourceRef("demo", None),),
        )
        for common_id, name, address, lat, lon, kinds, hazards in DEMO_SHELTERS
    ]
