"""Demo portal: a catalog for the prefecture, 07202, 07203, 07208, and three residents.

- demo-portal-aizu lives in 会津若松市;
- demo-portal-commuter lives in 会津若松市 and works in 郡山市;
- demo-portal-koriyama lives in 郡山市 with a child under 6 (who shares her age with the
  family) and consents to portal personalization.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..consent import service as consent_service
from ..consent.catalog import RecipientKind
from ..family import service as family_service
from ..principal import Principal, PrincipalKind, RequestMeta
from ..residents import service as residents_service
from . import service

DEMO_CATALOG = Path(__file__).with_name("demo_catalog.yaml")
# (subject, name, birth date, home municipality, places: (kind, label, lat, lon, address))
DEMO_PORTAL_RESIDENTS = (
    (
        "demo-portal-aizu",
        "会津 一郎",
        date(1980, 5, 1),
        "07202",
        [("home", "自宅", 37.4947, 139.9298, "福島県会津若松市東栄町3-46")],
    ),
    (
        "demo-portal-commuter",
        "会津 二郎",
        date(1990, 8, 10),
        "07202",
        [
            ("home", "自宅", 37.4900, 139.9300, "福島県会津若松市栄町1-1"),
            ("workplace", "職場", 37.3983, 140.3880, "福島県郡山市朝日1丁目23-7"),
        ],
    ),
    (
        "demo-portal-koriyama",
        "郡山 花",
        date(1992, 3, 3),
        "07203",
        [("home", "自宅", 37.4005, 140.3597, "福島県郡山市桑野1丁目1-1")],
    ),
)
DEMO_CHILD = ("demo-portal-koriyama-child", "郡山 さくら", 3)


async def seed_demo_portal(session: AsyncSession, settings: Settings, meta: RequestMeta) -> None:
    """The demo catalog and the three demo portal residents."""
    await service.ensure_portal_client(session)
    await service.import_services(
        session, data=DEMO_CATALOG.read_bytes(), source_name=DEMO_CATALOG.name
    )
    residents = {}
    for subject, name, birth, home, places in DEMO_PORTAL_RESIDENTS:
        principal = Principal(kind=PrincipalKind.RESIDENT, subject=subject, issuer="demo")
        resident = await residents_service.get_or_create_resident(session, principal)
        await residents_service.update_profile(
            session,
            resident,
            changes=residents_service.ProfileChanges(
                display_name=name, birth_date=birth, municipality_code=home
            ),
        )
        for kind, label, lat, lon, address in places:
            await residents_service.add_place(
                session, settings, resident, kind=residents_service.PlaceKind(kind), label=label,
                latitude=lat, longitude=lon, address=address,
            )  # fmt: skip
        residents[subject] = resident
    parent = residents["demo-portal-koriyama"]
    subject, name, age = DEMO_CHILD
    child = await residents_service.get_or_create_resident(
        session, Principal(kind=PrincipalKind.RESIDENT, subject=subject, issuer="demo")
    )
    today = date.today()
    await residents_service.update_profile(
        session,
        child,
        changes=residents_service.ProfileChanges(
            display_name=name, birth_date=date(today.year - age, 1, 1), municipality_code="07203"
        ),
    )
    group = await family_service.create_group(session, settings, parent, name="郡山家")
    invitation = await family_service.create_invitation(
        session, settings, parent, group_id=group.id
    )
    await family_service.accept_invitation(session, settings, child, code=invitation.code)
    await consent_service.grant_bundle(
        session, child, bundle_code="household_supplies_basic", meta=meta
    )
    await consent_service.grant_consent(
        session,
        parent,
        purpose_code=service.PORTAL_PURPOSE,
        recipient=consent_service.Recipient(
            RecipientKind.SYSTEM_CLIENT, client_id=service.PORTAL_CLIENT_ID
        ),
        items=["age", "household", "home_place"],
        meta=meta,
        text_version="2026-11-ja-1",
    )
