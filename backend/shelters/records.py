"""Shelter records as the importers hand them over, and the structure of GSI 共通IDs.

The 共通ID (全国共通避難所・避難場所ID, 14 characters) as observed in the GSI data of 2025-10-27:
``E`` + 5-digit municipality code + 5-digit facility number + 3-digit designation code whose first
digit is 2 for an emergency site and 1 for an evacuation shelter (second digit 2 = a shelter
with designated 受入対象者, i.e. a welfare shelter). An emergency site and an evacuation shelter at
the same place therefore never share a 共通ID; they share the first 11 characters (see
``merge.merge_shelter_records``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from ..hazards.types import HazardType
from ..ingest.problems import SourceRef

_COMMON_ID = re.compile(r"^E(?P<municipality>\d{5})(?P<facility>\d{5})(?P<designation>\d{3})$")


class ShelterKind(StrEnum):
    """Designation of a place under 災害対策基本法."""

    EMERGENCY_SITE = "emergency_site"  # 指定緊急避難場所 (GSI "emergency" files)
    EVACUATION_SHELTER = "evacuation_shelter"  # 指定避難所 (GSI "evacuation" files)
    WELFARE_SHELTER = "welfare_shelter"  # 福祉避難所: set by city staff, never by this parser

    @property
    def label_ja(self) -> str:
        """Japanese legal name of the designation."""
        return _KIND_LABELS_JA[self]


_KIND_LABELS_JA = {
    ShelterKind.EMERGENCY_SITE: "指定緊急避難場所",
    ShelterKind.EVACUATION_SHELTER: "指定避難所",
    ShelterKind.WELFARE_SHELTER: "福祉避難所",
}


@dataclass(frozen=True, slots=True)
class ShelterRecord:
    """One designated place; after merging it may stand for several GSI rows.

    ``municipality_code`` is the 5-digit JIS X 0402 code (``07202``): taken from characters 2-6 of
    a GSI-form 共通ID, else from the file (the ``municipality_code`` argument, the
    FeatureCollection ``name`` or the file name, each a 5-digit code or a 6-digit one whose check
    digit is valid). A 共通ID naming another municipality than its file is an error.
    """

    common_id: str  # primary 共通ID (the emergency site's when merged)
    common_ids: tuple[str, ...]  # every 共通ID this record stands for, sorted
    name: str
    address: str | None
    lon: float
    lat: float
    municipality_code: str
    municipality_name: str | None  # 都道府県名及び市町村名, e.g. 福島県会津若松市
    kinds: frozenset[ShelterKind]
    hazard_types: frozenset[HazardType]  # only emergency sites carry hazard flags
    target_group: str | None  # 受入対象者 (evacuation shelters)
    other_matters: str | None  # その他市町村長が必要と認める事項 (evacuation shelters)
    note: str | None  # 備考
    gsi_same_address: bool  # GSI 住所同一 flag: the other designation exists at the same address
    sources: tuple[SourceRef, ...]

    @property
    def source(self) -> SourceRef:
        """The source of the primary row."""
        return self.sources[0]


@dataclass(frozen=True, slots=True)
class ParsedShelterFile:
    """The records of one valid file plus notices (e.g. the unavailable stub) for the admin."""

    path: str
    format: Literal["geojson", "csv"]
    kind: ShelterKind | None  # None only for an empty file whose kind cannot be told
    municipality_code: str | None  # file-level code, when the file names one
    encoding: str
    records: tuple[ShelterRecord, ...]
    notices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommonIdParts:
    """The parts of a GSI-form 共通ID (structure as observed in the data, see module doc)."""

    municipality_code: str
    facility_key: str  # the first 11 characters, shared by designations of one facility
    designation: str  # last 3 digits, e.g. 201 (emergency site), 111 / 121 (evacuation shelter)

    @property
    def kind(self) -> ShelterKind | None:
        """The designation the code stands for, when recognised."""
        return {"2": ShelterKind.EMERGENCY_SITE, "1": ShelterKind.EVACUATION_SHELTER}.get(
            self.designation[0]
        )


def parse_common_id(common_id: str) -> CommonIdParts | None:
    """Split a GSI-form 共通ID (``E`` + 13 digits); None for other identifiers."""
    m = _COMMON_ID.match(common_id)
    if m is None:
        return None
    return CommonIdParts(m["municipality"], common_id[:-3], m["designation"])


def facility_key(common_id: str) -> str:
    """What designations of one facility share: a GSI 共通ID's first 11 characters, else itself."""
    parts = parse_common_id(common_id)
    return parts.facility_key if parts else common_id


def fold(text: str | None) -> str:
    """Text compared for pairing designations: NFKC, without any whitespace.

    Full-width spaces and digits vary between the two GSI tables for one place.
    """
    return "".join(unicodedata.normalize("NFKC", text or "").split())
