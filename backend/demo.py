"""Synthetic Aizu-Wakamatsu demo data, loaded into an empty database (never real people)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .alerts import service as alerts_service
from .alerts.sources.edxl import parse_alert_document
from .auth import service as auth_service
from .communities import service as communities_service
from .communities.models import CommunityKind
from .config import Settings
from .consent import service as consent_service
from .consent.catalog import PURPOSES, RecipientKind, RecipientRole
from .consent.service import Recipient
from .family import service as family_service
from .hazards import service as hazards_service
from .principal import Principal, PrincipalKind, RequestMeta, Role, RoleGrant
from .push import service as push_service
from .residents import service as residents_service
from .residents.models import PlaceKind, Resident
from .shelters import service as shelters_service

DEMO_MUNICIPALITY = "07202"
DEMO_META = RequestMeta(via_client="kizuna seed-demo")
DEMO_FAMILY = ("demo-hanako", "demo-taro", "demo-yuki")
TEXT_VERSIONS = {p.code: p.text_version for p in PURPOSES}

# (subject, display name, family/given name, kana, birth date, phone,
#  places[(kind, label, lat, lon, address)]); the phone numbers are not assignable in Japan.
DEMO_RESIDENTS = (
    (
        "demo-hanako",
        "会津 花子",
        ("会津", "花子"),
        ("アイヅ", "ハナコ"),
        date(1982, 4, 10),
        "000-0000-0001",
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
        date(1980, 9, 1),
        "000-0000-0002",
        [(PlaceKind.HOME, "自宅", 37.4850, 139.9180, "会津若松市門田町（架空）")],
    ),
    (
        "demo-yuki",
        "会津 ゆき",
        ("会津", "ゆき"),
        ("アイヅ", "ユキ"),
        date(2015, 6, 20),
        None,
        [(PlaceKind.CHILD_SCHOOL, "小学校", 37.4998, 139.9241, "会津若松市（架空）")],
    ),
    (
        "demo-leader",
        "門田 一郎",
        ("門田", "一郎"),
        ("カドタ", "イチロウ"),
        date(1955, 11, 3),
        "000-0000-0003",
        [(PlaceKind.HOME, "自宅", 37.4862, 139.9195, "会津若松市門田町（架空）")],
    ),
)
DEMO_HOME_ADDRESS = "会津若松市門田町（架空）"
# A fictional FCM registration token of Hanako's phone (never accepted by FCM).
DEMO_DEVICE_TOKEN = "demo-device-hanako-0000000000000000000000000000"
DEMO_ALERT = Path(__file__).with_name("alerts") / "examples" / "aizu-demo-evacuation.cap.xml"
# The town association (町内会) of the demo family's street, led by demo-leader. Members who
# consented share these items with its leaders for the community_safety purpose.
DEMO_COMMUNITY = "門田町デモ町内会（架空）"
DEMO_COMMUNITY_ITEMS = ("name", "age", "address", "phone")
DEMO_COMMUNITY_CONSENTING = ("demo-hanako", "demo-taro")
DEMO_STAFF = (
    ("demo-staff", "city_staff"),
    ("demo-admin", "city_admin"),
    ("demo-reception", "shelter_manager"),
)
# Hanako lets the reception of the shelter she stays at see her evacuee-register items
# (the shelter_registration_basic bundle); Taro and Yuki do not.
DEMO_SHELTER_REGISTERED = ("demo-hanako",)


async def is_empty(session: AsyncSession) -> bool:
    """True when no resident exists yet (a fresh database)."""
    return not await session.scalar(select(func.count()).select_from(Resident))


async def seed_demo(session: AsyncSession, settings: Settings) -> list[str]:
    """Create demo residents, a family, a town association and staff roles; returns the demo
    subjects."""
    residents: dict[str, Resident] = {}
    for (
        subject,
        display,
        (family, given),
        (family_kana, given_kana),
        birth_date,
        phone,
        places,
    ) in DEMO_RESIDENTS:
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
                birth_date=birth_date,
                phone=phone,
                address=DEMO_HOME_ADDRESS,
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
    # The family shares names with the family; Hanako also her home. (Safety answers and
    # current location can be shared once check-ins exist.)
    to_family = Recipient(RecipientKind.ROLE, role=RecipientRole.FAMILY.value)
    shares = [(residents[s], "family_safety", ["name"]) for s in DEMO_FAMILY]
    shares.append((residents["demo-hanako"], "family_location", ["home_place"]))
    for resident, purpose, items in shares:
        await consent_service.grant_consent(
            session,
            resident,
            purpose_code=purpose,
            recipient=to_family,
            items=items,
            meta=DEMO_META,
            text_version=TEXT_VERSIONS[purpose],
        )
    for subject in DEMO_SHELTER_REGISTERED:
        await consent_service.grant_bundle(
            session, residents[subject], bundle_code="shelter_registration_basic", meta=DEMO_META
        )
    for subject, role in DEMO_STAFF:
        await auth_service.grant_role(
            session, None, subject=subject, role=role, municipality_code=DEMO_MUNICIPALITY
        )
    await _seed_community(session, residents)
    # Synthetic hazard zones and shelters, so the map has something to show.
    await hazards_service.load_demo_zones(session)
    await shelters_service.load_demo_shelters(session)
    await _seed_alert(session, residents)
    return [r[0] for r in DEMO_RESIDENTS] + [s for s, _ in DEMO_STAFF]


async def _seed_alert(session: AsyncSession, residents: dict[str, Resident]) -> None:
    """Hanako's phone, and a fictional evacuation order (CAP) over the family's street,
    ingested like any alert: it lands in the inbox of Hanako, Taro and the leader, and the
    development server's in-process worker "pushes" it to Hanako's phone through the log."""
    await push_service.register_device(
        session,
        residents["demo-hanako"].id,
        DEMO_DEVICE_TOKEN,
        "android",
        "ja-JP",
        "1.0.0-demo",
    )
    data = DEMO_ALERT.read_bytes()
    prepared = alerts_service.prepare(parse_alert_document(data, DEMO_ALERT.name))
    for item in prepared:
        await alerts_service.store(session, item, via="demo")


async def _seed_community(session: AsyncSession, residents: dict[str, Resident]) -> None:
    """The demo town association: every demo resident a member, demo-leader its leader, and
    Hanako and Taro sharing name, age, address and phone with its leaders (Yuki does not)."""
    staff = Principal(
        kind=PrincipalKind.RESIDENT,
        subject="demo-staff",
        issuer="demo",
        roles=frozenset({RoleGrant(Role.CITY_STAFF, DEMO_MUNICIPALITY)}),
    )
    community = await communities_service.create_community(
        session,
        staff,
        municipality_code=DEMO_MUNICIPALITY,
        name=DEMO_COMMUNITY,
        kind=CommunityKind.TOWN_ASSOCIATION,
    )
    for resident in residents.values():
        await communities_service.join(session, resident, community_id=community.id)
    await communities_service.set_leader(
        session, staff, community_id=community.id, subject="demo-leader"
    )
    for subject in DEMO_COMMUNITY_CONSENTING:
        await consent_service.grant_consent(
            session,
            residents[subject],
            purpose_code="community_safety",
            recipient=Recipient(RecipientKind.ROLE, role=RecipientRole.COMMUNITY.value),
            items=DEMO_COMMUNITY_ITEMS,
            meta=DEMO_META,
            text_version=TEXT_VERSIONS["community_safety"],
        )
