"""Synthetic Aizu-Wakamatsu demo data, loaded into an empty database (never real people)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .auth import service as auth_service
from .config import Settings
from .consent import service as consent_service
from .consent.catalog import PURPOSES, RecipientKind, RecipientRole
from .consent.service import Recipient
from .family import service as family_service
from .hazards import service as hazards_service
from .principal import Principal, PrincipalKind, RequestMeta
from .residents import service as residents_service
from .residents.models import PlaceKind, Resident
from .shelters import service as shelters_service

DEMO_MUNICIPALITY = "07202"
DEMO_META = RequestMeta(via_client="kizuna seed-demo")

# (subject, display name, family/given name, kana, places[(kind, label, lat, lon, address)])
DEMO_RESIDENTS = (
    (
        "demo-hanako",
        "会津 花子",
        ("会津", "花子"),
        ("アイヅ", "ハナコ"),
        [
            (PlaceKind.HOME, "自宅", 37.4850, 139.9180, "会津若松市門田町（架空）"),
            (PlaceKind.WORKPLACE, "職場", 37.4947, 139.9297, "会津若松市東栄町（架空）"),
        ],
    ),
    (
        "demo-taro",
        "会津 太郎",
        ("会津", "太郎"),
        ("アイヅ", "タロウ"),
        [(PlaceKind.HOME, "自宅", 37.4850, 139.9180, "会津若松市門田町（架空）")],
    ),
    (
        "demo-yuki",
        "会津 ゆき",
        ("会津", "ゆき"),
        ("アイヅ", "ユキ"),
        [(PlaceKind.CHILD_SCHOOL, "小学校", 37.4998, 139.9241, "会津若松市（架空）")],
    ),
)
DEMO_STAFF = (("demo-staff", "city_staff"), ("demo-admin", "city_admin"))


async def is_empty(session: AsyncSession) -> bool:
    """True when no resident exists yet (a fresh database)."""
    return not await session.scalar(select(func.count()).select_from(Resident))


async def seed_demo(session: AsyncSession, settings: Settings) -> list[str]:
    """Create demo residents, a family and staff roles; returns the demo subjects."""
    residents: dict[str, Resident] = {}
    for subject, display, (family, given), (family_kana, given_kana), places in DEMO_RESIDENTS:
        principal = Principal(kind=PrincipalKind.RESIDENT, subject=subject, issuer="demo")
        resident = await residents_service.get_or_create_resident(session, principal)
        await residents_service.update_profile(
            session,
            resident,
            changes=residents_service.ProfileChanges(
                display_name=display,
                family_name=family,
                given_name=given,
                family_name_kana=family_kana,
                given_name_kana=given_kana,
                municipality_code=DEMO_MUNICIPALITY,
            ),
        )
        for kind, label, lat, lon, address in places:
            await residents_service.add_place(
                session,
                settings,
                resident,
                kind=kind,
                label=label,
                latitude=lat,
                longitude=lon,
                address=address,
            )
        residents[subject] = resident
    group = await family_service.create_group(
        session, settings, residents["demo-hanako"], name="会津家"
    )
    for subject in ("demo-taro", "demo-yuki"):
        invitation = await family_service.create_invitation(
            session, settings, residents["demo-hanako"], group_id=group.id
        )
        await family_service.accept_invitation(
            session, settings, residents[subject], code=invitation.code
        )
    # Everyone in the family shares their name with the family; Hanako also her home.
    # (Safety answers and current location can be shared once check-ins exist.)
    family = Recipient(RecipientKind.ROLE, role=RecipientRole.FAMILY.value)
    text_versions = {p.code: p.text_version for p in PURPOSES}
    shares = [(r, "family_safety", ["name"]) for r in residents.values()]
    shares.append((residents["demo-hanako"], "family_location", ["home_place"]))
    for resident, purpose, items in shares:
        await consent_service.grant_consent(
            session,
            resident,
            purpose_code=purpose,
            recipient=family,
            items=items,
            meta=DEMO_META,
            text_version=text_versions[purpose],
        )
    for subject, role in DEMO_STAFF:
        await auth_service.grant_role(
            session, None, subject=subject, role=role, municipality_code=DEMO_MUNICIPALITY
        )
    # Synthetic hazard zones and shelters, so the map has something to show.
    await hazards_service.load_demo_zones(session)
    await shelters_service.load_demo_shelters(session)
    return [r[0] for r in DEMO_RESIDENTS] + [s for s, _ in DEMO_STAFF]
