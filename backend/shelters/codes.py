"""The check-in QR code a shelter posts at its entrance: kizuna://shelter/checkin?id=<id>."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

from ..api.ids import decode_id, encode_id
from ..errors import NotFound, ValidationFailed

SCHEME, HOST, PATH = "kizuna", "shelter", "/checkin"
# Ours are about 90 characters; anything much longer is not a shelter's code.
MAX_CODE_LENGTH = 300


def check_in_code(shelter_id: uuid.UUID) -> str:
    """The text of a shelter's check-in QR code."""
    return f"{SCHEME}://{HOST}{PATH}?id={encode_id('Shelter', shelter_id)}"


def shelter_id_of(code: str, *, field: str = "code") -> uuid.UUID:
    """The shelter a scanned check-in code names; anything else is a validation error."""
    invalid = ValidationFailed(
        "this is not a Kizuna shelter check-in code",
        "避難所の受付用QRコードではありません",
        field=field,
    )
    if len(code) > MAX_CODE_LENGTH:
        raise invalid
    try:
        parts = urlsplit(code.strip())
        query = parse_qs(parts.query, strict_parsing=True, max_num_fields=2)
    except ValueError as exc:
        raise invalid from exc
    ids = query.get("id", [])
    if (parts.scheme, parts.netloc, parts.path) != (SCHEME, HOST, PATH) or set(query) != {"id"}:
        raise invalid
    if len(ids) != 1:
        raise invalid
    try:
        return decode_id("Shelter", ids[0], field=field)
    except NotFound as exc:  # another object's id, or no id at all: not a shelter's code
        raise invalid from exc
