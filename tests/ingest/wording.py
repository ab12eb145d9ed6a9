"""Checks that a Japanese message is wholly Japanese (no English words)."""

from __future__ import annotations

import re

# Names of formats and GeoJSON types, written the same way in Japanese text.
FORMAT_NAMES = frozenset(
    {
        "GeoJSON",
        "JSON",
        "CSV",
        "XML",
        "DTD",
        "UTF-8",
        "Shift_JIS",
        "CP932",
        "FeatureCollection",
        "Feature",
        "Point",
        "Polygon",
        "MultiPolygon",
        "MB",
        "null",
    }
)


def english_words(text_ja: str, *paths: object) -> list[str]:
    """English words left in a Japanese message once file names, quoted values, identifiers
    from the data (such as a 共通ID value) and GSI's column 共通ID are gone."""
    for path in paths:
        text_ja = text_ja.replace(str(path), "")
    text_ja = re.sub(r"'[^']*'|\"[^\"]*\"", "", text_ja)
    text_ja = re.sub(r"共通ID|(?<![A-Za-z0-9_-])[A-Za-z]*\d[A-Za-z0-9]*", "", text_ja)
    words = re.findall(r"[A-Za-z][A-Za-z_0-9]*(?:-[0-9]+)?", text_ja)
    return [word for word in words if word not in FORMAT_NAMES]
