"""The hazard types of Japan's disaster law, shared by shelters, hazard zones and alerts."""

from __future__ import annotations

from enum import StrEnum


class HazardType(StrEnum):
    """The eight hazards 災害対策基本法 designates emergency sites for (GSI column order)."""

    FLOOD = "flood"
    LANDSLIDE = "landslide"
    STORM_SURGE = "storm_surge"
    EARTHQUAKE = "earthquake"
    TSUNAMI = "tsunami"
    LARGE_FIRE = "large_fire"
    INLAND_FLOOD = "inland_flood"
    VOLCANO = "volcano"

    @property
    def label_ja(self) -> str:
        """Japanese label as residents see it."""
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        """English label."""
        return _LABELS[self][1]

    @property
    def gsi_column(self) -> str:
        """Column/property name of this hazard's flag in GSI 指定緊急避難場所 data."""
        return _LABELS[self][2]

    @classmethod
    def from_gsi_column(cls, column: str) -> HazardType:
        """The hazard type whose GSI flag column is ``column`` (KeyError when unknown)."""
        return _BY_GSI_COLUMN[column]


# (label_ja, label_en, GSI column); the labels are the legal wording of 災害対策基本法施行令.
_LABELS: dict[HazardType, tuple[str, str, str]] = {
    HazardType.FLOOD: ("洪水", "Flood", "洪水"),
    HazardType.LANDSLIDE: ("崖崩れ、土石流及び地滑り", "Landslide", "崖崩れ、土石流及び地滑り"),
    HazardType.STORM_SURGE: ("高潮", "Storm surge", "高潮"),
    HazardType.EARTHQUAKE: ("地震", "Earthquake", "地震"),
    HazardType.TSUNAMI: ("津波", "Tsunami", "津波"),
    HazardType.LARGE_FIRE: ("大規模な火事", "Large-scale fire", "大規模な火事"),
    HazardType.INLAND_FLOOD: ("内水氾濫", "Inland flooding", "内水氾濫"),
    HazardType.VOLCANO: ("火山現象", "Volcanic phenomena", "火山現象"),
}

_BY_GSI_COLUMN: dict[str, HazardType] = {cols[2]: t for t, cols in _LABELS.items()}

# GSI column order, as in the CSV header and GeoJSON properties.
GSI_HAZARD_COLUMNS: tuple[str, ...] = tuple(t.gsi_column for t in HazardType)
