"""Opaque global ids: base64url of "<Type>:<uuid>"; foreign or malformed ids are NotFound."""

from __future__ import annotations

import base64
import binascii
import uuid

from ..errors import NotFound


def encode_id(type_name: str, value: uuid.UUID) -> str:
    """The global id of an object of ``type_name``."""
    raw = f"{type_name}:{value.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_id(type_name: str, global_id: str, *, field: str = "id") -> uuid.UUID:
    """The uuid inside a global id of ``type_name``; anything else is NotFound on ``field``."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        kind, _, value = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        if kind != type_name:
            raise ValueError(kind)
        return uuid.UUID(hex=value)
    except (ValueError, binascii.Error, UnicodeError) as exc:
        # The same answer for a malformed id, an id of another type and an unknown id.
        raise NotFound(type_name, "指定されたIDのデータ", field=field) from exc
