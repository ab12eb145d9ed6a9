"""Read GSI 指定緊急避難場所 / 指定避難所 files (GeoJSON or CSV) into plain shelter records.

Two published forms are accepted (``gsi_geojson`` and ``gsi_csv``); whether a file lists
emergency sites or evacuation shelters is told from its columns/properties (hazard flag columns
vs 受入対象者), not from the folder name. Records are checked row by row (``gsi_rows``),
then merged into places (``merge``).

Validation is all-or-nothing (``backend.ingest``): every problem found in a file (up to
``MAX_PROBLEMS``) is reported in one ``ShelterFileError`` with the physical line it occurs on,
and a bad file yields no records, so an administrator can fix the whole file in one go.
"""

from __future__ import annotations

from pathlib import Path

from ..ingest.files import check_size, read_capped
from ..ingest.problems import Problems
from ..municipalities.reference import normalize_code
from .gsi_csv import parse_csv
from .gsi_geojson import parse_geojson
from .gsi_rows import ShelterFileError
from .records import ParsedShelterFile

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def parse_shelter_file(
    path: str | Path,
    *,
    municipality_code: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedShelterFile:
    """Parse and validate one GSI shelter file (GeoJSON or CSV); raise ShelterFileError."""
    path = Path(path)
    data = read_capped(path, max_bytes, Problems(str(path), ShelterFileError))
    return parse_shelter_bytes(
        data, path=str(path), municipality_code=municipality_code, max_bytes=max_bytes
    )


def parse_shelter_bytes(
    data: bytes,
    *,
    path: str,
    municipality_code: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParsedShelterFile:
    """Parse an uploaded shelter file; ``path`` is its name (for messages and format/code)."""
    problems = Problems(path, ShelterFileError)
    check_size(data, max_bytes, problems)
    file_code: str | None = None
    if municipality_code is not None:
        file_code = normalize_code(municipality_code)
        if file_code is None:
            raise ValueError(f"not a municipality code: {municipality_code!r}")
    if _looks_like_json(path, data):
        return parse_geojson(data, path, file_code, problems)
    return parse_csv(data, path, file_code, problems)


def _looks_like_json(path: str, data: bytes) -> bool:
    suffix = Path(path).suffix.lower()
    if suffix in (".json", ".geojson"):
        return True
    if suffix in (".csv", ".txt"):
        return False
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    return head in (b"{", b"[")
