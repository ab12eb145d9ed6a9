"""Typed routing errors, each with a stable machine-readable ``code``."""

from __future__ import annotations


class RoutingError(Exception):
    """Base class of every routing failure; ``code`` is stable, ``message`` is for humans."""

    code: str = "routing_error"
    # The request field at fault ("from", "toPoint", ...), set by the service when known.
    field: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidCoordinate(RoutingError):
    """A coordinate is NaN, infinite or outside the valid lon/lat ranges."""

    code = "invalid_coordinate"

    def __init__(self, lon: float, lat: float) -> None:
        super().__init__(f"invalid coordinate (lon={lon!r}, lat={lat!r})")
        self.lon = lon
        self.lat = lat


class OutsideGraphArea(RoutingError):
    """A point lies outside the area covered by the walk graph."""

    code = "outside_graph_area"

    def __init__(self, lon: float, lat: float) -> None:
        super().__init__(f"point (lon={lon:.6f}, lat={lat:.6f}) is outside the routing area")
        self.lon = lon
        self.lat = lat


class PointOffNetwork(RoutingError):
    """The nearest walkable node is farther than the allowed snapping distance."""

    code = "point_off_network"

    def __init__(self, distance_m: float, max_snap_m: float | None = None) -> None:
        limit = f" (limit {max_snap_m:.0f} m)" if max_snap_m is not None else ""
        super().__init__(f"nearest walkable path is {distance_m:.0f} m away{limit}")
        self.distance_m = distance_m
        self.max_snap_m = max_snap_m


class NoRoute(RoutingError):
    """Origin and destination are not connected by any walkable path."""

    code = "no_route"

    def __init__(self, message: str = "no walkable route connects origin and destination") -> None:
        super().__init__(message)
