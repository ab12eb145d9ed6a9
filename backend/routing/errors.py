"""Typed routing errors: members of the one DomainError hierarchy, each with its own code."""

from __future__ import annotations

from ..errors import DomainError, ErrorCode


class RoutingError(DomainError):
    """Base class of every routing failure; the service sets ``field`` when it knows it."""

    code = ErrorCode.NO_ROUTE

    def __init__(self, message: str, message_ja: str, *, field: str | None = None) -> None:
        super().__init__(message, message_ja, field=field)


class InvalidCoordinate(RoutingError):
    """A coordinate is NaN, infinite or outside the valid lon/lat ranges."""

    code = ErrorCode.INVALID_COORDINATE

    def __init__(self, lon: float, lat: float) -> None:
        super().__init__(f"invalid coordinate (lon={lon!r}, lat={lat!r})", "座標が不正です")
        self.lon = lon
        self.lat = lat


class OutsideGraphArea(RoutingError):
    """A point lies outside the area covered by the walk graph."""

    code = ErrorCode.OUTSIDE_ROUTING_AREA

    def __init__(self, lon: float, lat: float) -> None:
        super().__init__(
            f"point (lon={lon:.6f}, lat={lat:.6f}) is outside the routing area",
            "経路案内の対象区域外の地点です",
        )
        self.lon = lon
        self.lat = lat


class PointOffNetwork(RoutingError):
    """The nearest walkable node is farther than the allowed snapping distance."""

    code = ErrorCode.POINT_OFF_NETWORK

    def __init__(
        self, distance_m: float, max_snap_m: float | None = None, *, closed_near: bool = False
    ) -> None:
        limit = f" (limit {max_snap_m:.0f} m)" if max_snap_m is not None else ""
        limit_ja = f"（上限{max_snap_m:.0f}メートル）" if max_snap_m is not None else ""
        if closed_near and max_snap_m is not None:
            # Ways are near, but none this profile may use at this time (stairs, closed gates).
            super().__init__(
                f"no way within {max_snap_m:.0f} m can be used with this profile at this time "
                f"(the nearest way is {distance_m:.0f} m away)",
                f"{max_snap_m:.0f}メートル以内に、この歩き方・時刻で通れる道がありません"
                f"（最寄りの道まで{distance_m:.0f}メートル）",
            )
        else:
            super().__init__(
                f"nearest walkable path is {distance_m:.0f} m away{limit}",
                f"歩行できる道まで{distance_m:.0f}メートル離れています{limit_ja}",
            )
        self.distance_m = distance_m
        self.max_snap_m = max_snap_m


class NoRoute(RoutingError):
    """Origin and destination are not connected by any walkable path."""

    code = ErrorCode.NO_ROUTE

    def __init__(
        self,
        message: str = "no walkable route connects origin and destination",
        message_ja: str = "出発地から目的地まで歩いて行ける経路が見つかりません",
    ) -> None:
        super().__init__(message, message_ja)


class NoShelter(RoutingError):
    """No shelter fits the request (designation, status, distance)."""

    code = ErrorCode.NO_SHELTER


class RoutingUnavailable(RoutingError):
    """No walk graph is installed (production without `kizuna import roads`)."""

    code = ErrorCode.ROUTING_UNAVAILABLE

    def __init__(
        self,
        message: str = "evacuation routing is not set up on this server",
        message_ja: str = "このサーバーでは経路案内を利用できません",
    ) -> None:
        super().__init__(message, message_ja)


class AreaNotRouted(RoutingError):
    """A municipality whose area no walk graph covers, or whose area is unknown (no boundary
    and no shelters or hazard zones to tell where it is): no offline pack for it."""

    code = ErrorCode.OUTSIDE_ROUTING_AREA

    def __init__(self, message: str, message_ja: str, *, municipality_code: str) -> None:
        super().__init__(message, message_ja, field="municipality")
        self.municipality_code = municipality_code

    def again(self) -> AreaNotRouted:
        """A new exception saying the same (one remembered is never raised twice)."""
        return AreaNotRouted(
            self.message, self.message_ja, municipality_code=self.municipality_code
        )
