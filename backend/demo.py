"""Synthetic Aizu-Wakamatsu demo data, loaded into an empty database (never real people)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .alerts import service as alerts_service
from .alerts.sources.edxl import parse_alert_document
from .applications.demo import seed_demo_applications
from .auth import service as auth_service
from .communities import service as communities_service
from .communities.models import CommunityKind
from .config import Settings
from .consent import service as consent_service
from .consent.catalog import PURPOSES, RecipientKind, RecipientRole
from .consent.service import Recipient
from .dangerspots.demo import seed_demo_spots
from .family import service as family_service
from .hazards import service as hazards_service
from .hazards.types import HazardType
from .lifeevents.demo import seed_demo_life_events
from .plans.demo import seed_demo_plan
from .plans.register_demo import seed_register
from .portal.demo import seed_demo_portal
from .principal import Principal, PrincipalKind, RequestMeta, Role, RoleGrant, Viewer
from .push import service as push_service
from .residents import service as residents_service
from .residents.models import PlaceKind, Resident
from .safety import service as safety_service
from .safety.models import SafetyStatus
from .shelters import service as shelters_service
from .supplies.demo import seed_demo_supplies

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
DEMO_COMMUNITY_ITEMS = ("name", "age", "address", "phone", "safety_status")
DEMO_COMMUNITY_CONSENTING = ("demo-hanako", "demo-taro")
# Neighbours on the same (fictional) street, so the leader's tally has a town to count:
# (family name, given name, birth year, shares with the community?, answer or None).
DEMO_NEIGHBOURS = (
    ("佐藤", "健一", 1948, True, "safe"),
    ("鈴木", "和子", 1941, True, "needs_help"),
    ("高橋", "誠", 1976, False, "safe"),
    ("田中", "美代子", 1939, True, None),
    ("渡辺", "翔", 1999, False, "evacuated_to_shelter"),
    ("伊藤", "久美子", 1968, True, "safe"),
    ("山本", "勇", 1952, True, "injured"),
    ("中村", "さくら", 1990, False, None),
    ("小林", "正雄", 1944, True, "evacuated_to_shelter"),
    ("加藤", "由美", 1985, True, "safe"),
    ("吉田", "茂", 1950, False, "needs_help"),
    ("山田", "恵子", 1963, True, None),
    ("佐々木", "大輔", 1981, False, "safe"),
    ("山口", "トシ", 1936, True, "needs_help"),
    ("松本", "浩二", 1972, True, "safe"),
    ("井上", "陽子", 1958, False, None),
    ("木村", "隆", 1947, True, "evacuated_to_shelter"),
    ("林", "美咲", 2001, False, "safe"),
    ("斎藤", "清", 1943, True, None),
    ("清水", "直子", 1979, True, "safe"),
    ("山崎", "実", 1955, False, "safe"),
    ("森", "千代", 1938, True, None),
    ("池田", "拓也", 1994, False, None),
    ("橋本", "節子", 1946, True, "safe"),
    ("阿部", "修", 1966, True, "evacuated_to_shelter"),
    ("石川", "文子", 1951, False, "safe"),
)
DEMO_EVENT = "令和8年11月 会津豪雨（デモ・架空）"
DEMO_STAFF = (
    ("demo-staff", "city_staff"),
    ("demo-admin", "city_admin"),
    ("demo-reception", "shelter_manager"),
    ("demo-care", "care_manager"),
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
    # The family share names and safety answers with the family; Hanako also her home and
    # her position while she shares it.
    to_family = Recipient(RecipientKind.ROLE, role=RecipientRole.FAMILY.value)
    shares = [(residents[s], "family_safety", ["name", "safety_status"]) for s in DEMO_FAMILY]
    shares.append((residents["demo-hanako"], "family_location", ["home_place", "current_location"]))
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
    await seed_demo_supplies(session, residents, DEMO_META)
    await seed_demo_life_events(session)
    await seed_demo_applications(session, residents, DEMO_META)
    neighbours = await _seed_neighbours(session, settings)
    await _seed_community(session, residents, neighbours)
    register = await seed_register(session)
    # Synthetic hazard zones and shelters, so the map has something to show.
    await hazards_service.load_demo_zones(session)
    await shelters_service.load_demo_shelters(session)
    await _seed_alert(session, residents)
    await _seed_event(session, residents, neighbours)
    # 山口トシ (neighbour 14) needs support: her approved plan names the leader and 佐藤健一.
    await seed_demo_plan(
        session,
        settings,
        person=neighbours[13],
        supporters=[
            (r.display_name or r.subject, r.subject)
            for r in (residents["demo-leader"], neighbours[0])
        ],
        entries=register,
        meta=DEMO_META,
    )
    await seed_demo_spots(session, settings)
    await seed_demo_portal(session, settings, DEMO_META)
    return [r[0] for r in DEMO_RESIDENTS] + [s for s, _ in DEMO_STAFF]


def _demo_staff() -> Principal:
    return Principal(
        kind=PrincipalKind.RESIDENT,
        subject="demo-staff",
        issuer="demo",
        roles=frozenset({RoleGrant(Role.CITY_STAFF, DEMO_MUNICIPALITY)}),
    )


def neighbour_subject(index: int) -> str:
    return f"demo-neighbour-{index + 1:02d}"


async def _seed_neighbours(session: AsyncSession, settings: Settings) -> list[Resident]:
    """The fictional neighbours of the demo street, each with a home a few houses apart."""
    found = []
    for i, (family, given, year, _shares, _answer) in enumerate(DEMO_NEIGHBOURS):
        principal = Principal(
            kind=PrincipalKind.RESIDENT, subject=neighbour_subject(i), issuer="demo"
        )
        resident = await residents_service.get_or_create_resident(session, principal)
        await residents_service.update_profile(
            session,
            resident,
            changes=residents_service.ProfileChanges(
                display_name=f"{family} {given}",
                family_name=family,
                given_name=given,
                birth_date=date(year, 1 + i % 12, 1 + i % 28),
                address=DEMO_HOME_ADDRESS,
                municipality_code=DEMO_MUNICIPALITY,
            ),
        )
        await residents_service.add_place(
            session,
            settings,
            resident,
            kind=PlaceKind.HOME,
            label="自宅",
            latitude=37.4840 + (i // 6) * 0.0006,
            longitude=139.9165 + (i % 6) * 0.0007,
            address=DEMO_HOME_ADDRESS,
        )
        found.append(resident)
    return found


async def _seed_event(
    session: AsyncSession, residents: dict[str, Resident], neighbours: list[Resident]
) -> None:
    """An open disaster event over Aizu-Wakamatsu with some neighbours' answers in, so the
    leader's tally, the family view and the staff dashboard show something."""
    event, _asked = await safety_service.open_event(
        session,
        _demo_staff(),
        safety_service.EventRequest(
            name=DEMO_EVENT,
            municipality_codes=[DEMO_MUNICIPALITY],
            hazard_type=HazardType.FLOOD,
        ),
    )
    answers = [(residents["demo-taro"], "safe")]
    answers += [
        (resident, answer)
        for resident, (*_, answer) in zip(neighbours, DEMO_NEIGHBOURS, strict=True)
        if answer is not None
    ]
    for resident, answer in answers:
        viewer = Viewer(
            principal=Principal(
                kind=PrincipalKind.RESIDENT, subject=resident.subject, issuer="demo"
            ),
            resident_id=resident.id,
        )
        await safety_service.report_safety(
            session,
            viewer,
            safety_service.Report(event_id=event.id, status=SafetyStatus(answer)),
        )


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


async def _seed_community(
    session: AsyncSession, residents: dict[str, Resident], neighbours: list[Resident]
) -> None:
    """The demo town association: every demo resident and neighbour a member, demo-leader
    its leader; Hanako, Taro and about half the neighbours share name, age, address, phone
    and safety answers with its leaders (Yuki and the others do not: they are only counted)."""
    staff = _demo_staff()
    community = await communities_service.create_community(
        session,
        staff,
        municipality_code=DEMO_MUNICIPALITY,
        name=DEMO_COMMUNITY,
        kind=CommunityKind.TOWN_ASSOCIATION,
    )
    for resident in [*residents.values(), *neighbours]:
        await communities_service.join(session, resident, community_id=community.id)
    await communities_service.set_leader(
        session, staff, community_id=community.id, subject="demo-leader"
    )
    consenting = [residents[s] for s in DEMO_COMMUNITY_CONSENTING] + [
        resident
        for resident, (*_, shares, _answer) in zip(neighbours, DEMO_NEIGHBOURS, strict=True)
        if shares
    ]
    for resident in consenting:
        await consent_service.grant_consent(
            session,
            resident,
            purpose_code="community_safety",
            recipient=Recipient(RecipientKind.ROLE, role=RecipientRole.COMMUNITY.value),
            items=DEMO_COMMUNITY_ITEMS,
            meta=DEMO_META,
            text_version=TEXT_VERSIONS["community_safety"],
        )
