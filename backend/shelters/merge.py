"""Merging shelter records: the two designations of one place (指定緊急避難場所 and 指定避難所,
one row each in GSI's data) become one record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..geo import haversine_m
from .gsi_rows import COL_ID
from .records import ShelterKind, ShelterRecord, fold, parse_common_id

# Merging an emergency site with the evacuation shelter of the same facility is refused when
# their points are farther apart than this: the real data has pairs whose points were swapped.
DEFAULT_MERGE_MAX_DISTANCE_M = 500.0


@dataclass(frozen=True, slots=True)
class MergeConflict:
    """Two rows that look like one place but whose points are too far apart to merge blindly."""

    common_ids: tuple[str, str]
    distance_m: float
    merged: bool  # rows with the same 共通ID are merged anyway; facility matches are not
    message: str


@dataclass(frozen=True, slots=True)
class MergeResult:
    """Merged records (sorted by 共通ID) and the conflicts an administrator should review."""

    records: tuple[ShelterRecord, ...]
    conflicts: tuple[MergeConflict, ...]


def merge_shelter_records(
    records: Iterable[ShelterRecord], *, max_distance_m: float = DEFAULT_MERGE_MAX_DISTANCE_M
) -> list[ShelterRecord]:
    """One record per place: emergency site + evacuation shelter of one place become one."""
    return list(merge_shelter_records_detailed(records, max_distance_m=max_distance_m).records)


def merge_shelter_records_detailed(
    records: Iterable[ShelterRecord], *, max_distance_m: float = DEFAULT_MERGE_MAX_DISTANCE_M
) -> MergeResult:
    """Merge as ``merge_shelter_records`` and also report distance conflicts.

    Two rules decide that rows are one place:

    1. the same 共通ID (any kinds; e.g. the same file imported twice);
    2. an emergency site and an evacuation shelter whose GSI-form 共通IDs share the facility key
       (first 11 characters) and whose names and addresses are equal after NFKC and whitespace
       folding, paired one to one in 共通ID order (so a general shelter 1x1 pairs before a welfare
       shelter 12x at the same facility), provided their points are within ``max_distance_m``.

    Rule 2 exists because GSI gives the two designations of one place different 共通IDs (201 vs
    111); facilities with several buildings (e.g. 小学校 and 中学校 on one lot) share the key, so
    names must match too. The emergency row wins for name, address and point; target group and
    other matters come from the evacuation row; hazard types and kinds are united.
    """
    conflicts: list[MergeConflict] = []
    by_id: dict[str, list[ShelterRecord]] = defaultdict(list)
    for record in records:
        by_id[record.common_id].append(record)

    merged: list[ShelterRecord] = []
    for common_id, group in by_id.items():
        result = group[0]
        for other in group[1:]:
            distance = _distance_m(result, other)
            if distance > max_distance_m:
                conflicts.append(
                    MergeConflict(
                        (common_id, common_id),
                        distance,
                        True,
                        f"rows of {COL_ID} {common_id} ({other.source}, {result.source}) are "
                        f"{distance:.0f} m apart; merged anyway",
                    )
                )
            result = _combine(result, other)
        merged.append(result)

    emergency: dict[tuple[str, str, str], list[ShelterRecord]] = defaultdict(list)
    evacuation: dict[tuple[str, str, str], list[ShelterRecord]] = defaultdict(list)
    for record in merged:
        parts = parse_common_id(record.common_id)
        if parts is None:
            continue
        key = (parts.facility_key, fold(record.name), fold(record.address))
        if ShelterKind.EMERGENCY_SITE in record.kinds:
            if ShelterKind.EVACUATION_SHELTER not in record.kinds:
                emergency[key].append(record)
        elif ShelterKind.EVACUATION_SHELTER in record.kinds:
            evacuation[key].append(record)

    replaced: dict[str, ShelterRecord | None] = {}
    for key, sites in emergency.items():
        shelters = evacuation.get(key)
        if not shelters:
            continue
        pairs = zip(
            sorted(sites, key=lambda r: r.common_id),
            sorted(shelters, key=lambda r: r.common_id),
            strict=False,
        )
        for site, shelter in pairs:
            distance = _distance_m(site, shelter)
            if distance > max_distance_m:
                conflicts.append(
                    MergeConflict(
                        (site.common_id, shelter.common_id),
                        distance,
                        False,
                        f"{site.name}: emergency site {site.common_id} ({site.source}) and "
                        f"evacuation shelter {shelter.common_id} ({shelter.source}) share name "
                        f"and address but are {distance:.0f} m apart; kept separate",
                    )
                )
                continue
            replaced[site.common_id] = _combine(site, shelter)
            replaced[shelter.common_id] = None

    result_records = [replaced.get(r.common_id, r) for r in merged]
    final = sorted((r for r in result_records if r is not None), key=lambda r: r.common_id)
    return MergeResult(tuple(final), tuple(conflicts))


def _combine(a: ShelterRecord, b: ShelterRecord) -> ShelterRecord:
    """Merge two rows of one place, the emergency-site row (else ``a``) being primary."""
    if ShelterKind.EMERGENCY_SITE in b.kinds and ShelterKind.EMERGENCY_SITE not in a.kinds:
        a, b = b, a
    evac = [r for r in (a, b) if ShelterKind.EVACUATION_SHELTER in r.kinds] or [a, b]
    notes = list(dict.fromkeys(n for n in (a.note, b.note) if n))
    return ShelterRecord(
        common_id=a.common_id,
        common_ids=tuple(sorted(set(a.common_ids) | set(b.common_ids))),
        name=a.name,
        address=a.address or b.address,
        lon=a.lon,
        lat=a.lat,
        municipality_code=a.municipality_code,
        municipality_name=a.municipality_name or b.municipality_name,
        kinds=a.kinds | b.kinds,
        hazard_types=a.hazard_types | b.hazard_types,
        target_group=next((r.target_group for r in evac if r.target_group), None),
        other_matters=next((r.other_matters for r in evac if r.other_matters), None),
        note=" / ".join(notes) or None,
        gsi_same_address=a.gsi_same_address or b.gsi_same_address,
        sources=a.sources + b.sources,
    )


def _distance_m(a: ShelterRecord, b: ShelterRecord) -> float:
    # The spherical distance is ample for a 500 m threshold.
    return haversine_m(a.lat, a.lon, b.lat, b.lon)
