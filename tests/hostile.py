"""Inputs an attacker sends, shared by the tests that show the server copes with them."""

from __future__ import annotations

import math
from typing import Any


def doubling_fragments(count: int) -> str:
    """query{...F0} where each fragment spreads the next one twice: 2^count if walked naively."""
    fragments = " ".join(
        f"fragment F{i} on Query {{ __typename ...F{i + 1} ...F{i + 1} }}" for i in range(count)
    )
    return f"query {{ ...F0 }} {fragments} fragment F{count} on Query {{ __typename }}"


def star(points: int, lon: float = 139.93, lat: float = 37.49) -> dict[str, Any]:
    """A self-intersecting star polygon (each vertex joined to the one `points // 2` on)."""
    step = points // 2
    ring = [
        [
            lon + 0.01 * math.cos(2 * math.pi * (i * step % points) / points),
            lat + 0.01 * math.sin(2 * math.pi * (i * step % points) / points),
        ]
        for i in range(points)
    ]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
