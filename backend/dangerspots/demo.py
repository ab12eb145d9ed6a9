"""Demo danger spots in Aizu-Wakamatsu (fictional): two approved, one waiting for staff.

The blocked road lies on the walk from Aizu-Wakamatsu station to Tsuruga castle, so the
demo's evacuation route between them goes around it and names it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..db.base import utcnow
from ..principal import Principal, PrincipalKind, Role, RoleGrant, Viewer
from ..residents import service as residents_service
from . import service
from .models import SpotKind, SpotScope

DEMO_MUNICIPALITY = "07202"
# (reporter, kind, GeoJSON geometry, note, scope, approved by demo-staff?)
DEMO_SPOTS = (
    (
        "demo-hanako",
        SpotKind.BLOCKED_ROAD,
        {"type": "Point", "coordinates": [139.932368, 37.497616]},
        "倒木で道がふさがっています（デモ）",
        SpotScope.EVERYONE,
        True,
    ),
    (
        "demo-leader",
        SpotKind.FLOODED_ROAD,
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [139.9168, 37.4880],
                    [139.9176, 37.4880],
                    [139.9176, 37.4885],
                    [139.9168, 37.4885],
                    [139.9168, 37.4880],
                ]
            ],
        },
        "道路が冠水しています。膝の高さまで水があります（デモ）",
        SpotScope.EVERYONE,
        True,
    ),
    (
        "demo-taro",
        SpotKind.COLLAPSED_BUILDING,
        {"type": "Point", "coordinates": [139.9241, 37.4990]},
        "古い倉庫の壁が崩れそうです（デモ・確認待ち）",
        SpotScope.EVERYONE,
        False,
    ),
)


def _viewer(subject: str, resident_id: object, *, staff: bool = False) -> Viewer:
    roles = frozenset({RoleGrant(Role.CITY_STAFF, DEMO_MUNICIPALITY)}) if staff else frozenset()
    principal = Principal(kind=PrincipalKind.RESIDENT, subject=subject, issuer="demo", roles=roles)
    return Viewer(principal=principal, resident_id=resident_id)  # type: ignore[arg-type]


async def seed_demo_spots(session: AsyncSession, settings: Settings) -> int:
    """Report the demo spots as their residents and approve two as demo-staff."""
    staff_id = await residents_service.resident_id_by_subject(session, "demo-staff")
    staff = _viewer("demo-staff", staff_id, staff=True)
    for subject, kind, geometry, note, scope, approve in DEMO_SPOTS:
        resident_id = await residents_service.resident_id_by_subject(session, subject)
        view = await service.report_spot(
            session,
            settings,
            _viewer(subject, resident_id),
            service.SpotReport(kind=kind, geometry=geometry, scope=scope, note=note),
        )
        # A demo database lives longer than a real report: its spots stay a year.
        view.spot.expires_at = utcnow() + timedelta(days=365)
        if approve:
            await service.moderate(
                session,
                settings,
                staff,
                spot_id=view.spot.id,
                action=service.ModerationAction.APPROVE,
            )
    return len(DEMO_SPOTS)
