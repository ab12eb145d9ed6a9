"""GraphQL inputs shared by every domain: a WGS 84 position and a bounding box."""

from __future__ import annotations

import strawberry


@strawberry.input(description="A WGS 84 position.")
class CoordinatesInput:
    latitude: float = strawberry.field(description="-90 to 90")
    longitude: float = strawberry.field(description="-180 to 180")


@strawberry.input(description="A WGS 84 bounding box (at most 2 degrees on each side).")
class BoundingBoxInput:
    min_longitude: float
    min_latitude: float
    max_longitude: float
    max_latitude: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat), GeoJSON's bbox order."""
        return (self.min_longitude, self.min_latitude, self.max_longitude, self.max_latitude)
