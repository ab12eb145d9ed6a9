"""Custom scalars: GeoJSON geometry (RFC 7946, lon/lat order)."""

from __future__ import annotations

from typing import Any, NewType

from strawberry.types.scalar import ScalarDefinition, scalar

GeoJSON = NewType("GeoJSON", object)
JSONValue = NewType("JSONValue", object)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    GeoJSON: scalar(
        name="GeoJSON",
        description=(
            "A GeoJSON geometry object (RFC 7946): coordinates in [longitude, latitude] order."
        ),
        serialize=lambda value: value,
        parse_value=lambda value: value,
    ),
    JSONValue: scalar(
        name="JSON",
        description="Any JSON value (a data item's value: text, number, object or list).",
        serialize=lambda value: value,
        parse_value=lambda value: value,
    ),
}


def point_geojson(lat: float, lon: float) -> Any:
    """A GeoJSON Point for a lat/lon pair."""
    return {"type": "Point", "coordinates": [lon, lat]}
