"""The seeded consent catalog: data items, purposes, bundles (extensible by admins)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class RecipientKind(StrEnum):
    ROLE = "role"
    SYSTEM_CLIENT = "system_client"
    PERSON = "person"


class RecipientRole(StrEnum):
    """Relationships the seeded catalog names; others come with their providers."""

    FAMILY = "family"
    COMMUNITY = "community"
    SUPPORTER = "supporter"
    CITY_STAFF = "city_staff"
    SHELTER_MANAGER = "shelter_manager"


class LegalBasis(StrEnum):
    CONSENT = "consent"
    LAW = "law"
    SOCIAL_NORM = "social_norm"
    TERMS_OF_SERVICE = "terms_of_service"


@dataclass(frozen=True, slots=True)
class DataItemDef:
    code: str
    label_ja: str
    label_en: str
    sensitive: bool = False


@dataclass(frozen=True, slots=True)
class PurposeDef:
    code: str
    label_ja: str
    label_en: str
    description_ja: str
    description_en: str
    items: tuple[str, ...]
    recipients: tuple[str, ...]  # relationship codes and/or "system_client" / "person"
    # The version of the consent text shown for this purpose; grants must name it.
    text_version: str = "2026-11-ja-1"


@dataclass(frozen=True, slots=True)
class FlowDef:
    recipient_role: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BundleDef:
    code: str
    purpose: str
    label_ja: str
    label_en: str
    description_ja: str
    description_en: str
    flows: tuple[FlowDef, ...]
    text_version: str


DATA_ITEMS: tuple[DataItemDef, ...] = (
    DataItemDef("name", "氏名", "Name"),
    DataItemDef("kana", "ふりがな", "Name in kana"),
    DataItemDef("birth_date", "生年月日", "Birth date"),
    DataItemDef("age", "年齢", "Age"),
    DataItemDef("gender", "性別", "Gender"),
    DataItemDef("address", "住所", "Address"),
    DataItemDef("phone", "電話番号", "Phone"),
    DataItemDef("household", "世帯構成", "Household composition"),
    DataItemDef("home_place", "自宅の位置", "Home location"),
    DataItemDef("current_location", "現在地", "Current location", sensitive=True),
    DataItemDef("safety_status", "安否情報", "Safety answers"),
    DataItemDef("support_needed", "要支援者であること", "Needs support in evacuation", True),
    DataItemDef("health_notes", "健康・服薬情報", "Health and medication notes", True),
    DataItemDef("supporters", "支援者", "Supporters"),
    DataItemDef("evacuation_plan", "個別避難計画", "Individual evacuation plan", True),
    DataItemDef("supply_needs", "備蓄に関わる事情", "Supply needs (pets, medication, diet)", True),
)
ITEM_CODES = tuple(item.code for item in DATA_ITEMS)

PURPOSES: tuple[PurposeDef, ...] = (
    PurposeDef(
        "family_safety",
        "家族の安否共有",
        "Family safety sharing",
        "災害時に家族へ自分の安否を知らせます。",
        "Let your family see whether you are safe in a disaster.",
        ("name", "safety_status"),
        ("family", "person"),
    ),
    PurposeDef(
        "family_location",
        "家族への位置共有",
        "Family location sharing",
        "災害時に家族へ現在地と自宅の位置を知らせます。",
        "Let your family see where you are and where you live.",
        ("current_location", "home_place"),
        ("family", "person"),
    ),
    PurposeDef(
        "community_safety",
        "町内会・自主防災組織の安否確認",
        "Town-association safety check",
        "町内会・自主防災組織の役員が安否確認と避難の声かけに使います。",
        "Your town association's leaders use this to check on you and help you evacuate.",
        ("name", "age", "address", "phone", "household", "safety_status"),
        ("community",),
    ),
    PurposeDef(
        "plan_support",
        "個別避難計画による避難支援",
        "Evacuation support under an individual plan",
        "支援者・市職員・ケアマネジャーが個別避難計画の作成と避難支援に使います。",
        "Supporters, city staff and your care manager use this to plan and help your evacuation.",
        (
            "name",
            "kana",
            "birth_date",
            "age",
            "gender",
            "address",
            "phone",
            "household",
            "home_place",
            "support_needed",
            "health_notes",
            "supporters",
            "evacuation_plan",
        ),
        ("supporter", "city_staff", "system_client", "person"),
    ),
    PurposeDef(
        "care_linkage",
        "介護・福祉サービスとの連携",
        "Care-service linkage",
        "登録された介護・福祉サービスがあなたの情報を受け取り、サービスに使います。",
        "A registered care or welfare service receives your data to serve you.",
        (
            "name",
            "kana",
            "birth_date",
            "age",
            "gender",
            "address",
            "phone",
            "support_needed",
            "health_notes",
            "evacuation_plan",
        ),
        ("system_client",),
    ),
    PurposeDef(
        "shelter_registration",
        "避難所の避難者名簿",
        "Shelter registration",
        "避難所に受付したとき、その避難所の管理者と市職員が避難者名簿（安否の問い合わせ、"
        "物資の配布、居室の割り当て）に使います。退所すると見られなくなります。",
        "While you are checked in at a shelter, its managers and city staff use this for the "
        "evacuee register (enquiries about you, supplies, rooms); it ends when you leave.",
        ("name", "kana", "age", "gender", "address", "phone", "household"),
        ("shelter_manager",),
    ),
    PurposeDef(
        "portal_personalization",
        "ポータルのパーソナライズ",
        "Personalized portal",
        "年齢・世帯・居住地・避難支援の必要に合ったサービスやお知らせを表示します。",
        "Show the services and notices that fit your age, household, area and support needs.",
        ("age", "household", "home_place", "support_needed"),
        ("system_client",),
    ),
    PurposeDef(
        "household_supplies",
        "家庭の備蓄",
        "Household supplies",
        "家族が家庭の備蓄品リストを作るときに、あなたの年齢・性別と備蓄に関わる事情（ペット・"
        "服薬・食事の配慮）を数量の計算に使います。",
        "Your family's household supplies list uses your age, gender and supply needs (pets, "
        "regular medication, dietary needs) to work out what to keep and how much.",
        ("age", "gender", "supply_needs"),
        ("family", "person"),
    ),
    PurposeDef(
        "application_prefill",
        "申請書の自動入力",
        "Filling in applications",
        "市役所への申請書（転入届・児童手当など）を作るときに、あなたの氏名・住所などを入力欄に"
        "自動で入れます。送信前に内容を確認でき、送信した申請は市職員が審査に使います。",
        "Your name, address and other details fill in the forms you send to the city (moving "
        "in, child allowance, ...); you check them before sending, and city staff review them.",
        ("name", "kana", "birth_date", "address", "phone", "household"),
        # city_staff: the resident's own items, which go to the city in the form they send.
        # family: a parent prefilling a child's details (child allowance, school transfer)
        # reads the child's name, kana and birth date as a family member; without this
        # recipient the child's consent could not name the parent, and those fields would
        # stay empty.
        ("city_staff", "family"),
    ),
)

BUNDLES: tuple[BundleDef, ...] = (
    BundleDef(
        "family_safety_basic",
        "family_safety",
        "家族の安否確認",
        "Family safety check",
        "災害時に家族グループのメンバーへ氏名と安否を知らせます。",
        "Your family group sees your name and your safety answers in a disaster.",
        (FlowDef(RecipientRole.FAMILY.value, ("name", "safety_status")),),
        "2026-11-ja-1",
    ),
    BundleDef(
        "plan_support_basic",
        "plan_support",
        "避難支援（個別避難計画）",
        "Evacuation support (individual plan)",
        "支援者は連絡と避難の手助けに必要な情報を、市職員は計画の作成・確認に必要な情報を受け取ります。",
        "Your supporters get what they need to reach and help you; city staff get what they "
        "need to draft and review your plan.",
        (
            FlowDef(
                RecipientRole.SUPPORTER.value,
                ("name", "address", "phone", "support_needed", "evacuation_plan"),
            ),
            FlowDef(
                RecipientRole.CITY_STAFF.value,
                (
                    "name",
                    "kana",
                    "birth_date",
                    "age",
                    "address",
                    "phone",
                    "household",
                    "home_place",
                    "support_needed",
                    "health_notes",
                    "supporters",
                    "evacuation_plan",
                ),
            ),
        ),
        "2026-11-ja-1",
    ),
    BundleDef(
        "shelter_registration_basic",
        "shelter_registration",
        "避難所での受付（避難者名簿）",
        "Shelter reception (evacuee register)",
        "避難所に受付している間、その避難所の管理者が氏名・ふりがな・年齢・性別・住所・電話番号・"
        "世帯構成を避難者名簿として見られます。",
        "While you are checked in at a shelter, its managers see your name, kana, age, gender, "
        "address, phone and household in the evacuee register.",
        (
            FlowDef(
                RecipientRole.SHELTER_MANAGER.value,
                ("name", "kana", "age", "gender", "address", "phone", "household"),
            ),
        ),
        "2026-11-ja-1",
    ),
    BundleDef(
        "household_supplies_basic",
        "household_supplies",
        "家庭の備蓄リスト",
        "Household supplies list",
        "家族グループのメンバーの備蓄品リストに、あなたの年齢・性別と備蓄に関わる事情（ペット・"
        "服薬・食事の配慮）が反映されます。",
        "Your family group's supplies list counts your age, gender and supply needs (pets, "
        "medication, diet).",
        (FlowDef(RecipientRole.FAMILY.value, ("age", "gender", "supply_needs")),),
        "2026-11-ja-1",
    ),
    BundleDef(
        "application_prefill_basic",
        "application_prefill",
        "申請書の自動入力",
        "Filling in applications",
        "市への申請書にあなたの氏名・ふりがな・生年月日・住所・電話番号・世帯構成が入ります。"
        "家族が申請するとき（お子さんの児童手当など）は、あなたの氏名・ふりがな・生年月日が入ります。",
        "Your name, kana, birth date, address, phone and household fill in your applications to "
        "the city; when family apply for you (a child allowance), your name, kana and birth date.",
        (
            FlowDef(
                RecipientRole.CITY_STAFF.value,
                ("name", "kana", "birth_date", "address", "phone", "household"),
            ),
            FlowDef(RecipientRole.FAMILY.value, ("name", "kana", "birth_date")),
        ),
        "2026-11-ja-1",
    ),
)


CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
SYSTEM_CLIENT = "system_client"
PERSON = "person"
DIRECT_RECIPIENTS = frozenset({SYSTEM_CLIENT, PERSON})
SEEDED_CODES = {i.code for i in DATA_ITEMS} | {p.code for p in PURPOSES} | {b.code for b in BUNDLES}


class CatalogError(ValueError):
    """An admin catalog document with problems; ``problems`` lists all of them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _text(entry: dict[str, Any], key: str, where: str, problems: list[str], limit: int) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
        problems.append(f"{where}.{key}: text of 1-{limit} characters required")
        return ""
    return value.strip()


def _code(entry: dict[str, Any], where: str, problems: list[str]) -> str:
    code = entry.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        problems.append(f"{where}.code: lower-case letters, digits and _ (max 64)")
        return ""
    if code in SEEDED_CODES:
        problems.append(f"{where}.code: {code!r} is seeded and maintained in code")
    return code


def _entries(document: dict[str, Any], key: str, problems: list[str]) -> list[dict[str, Any]]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        problems.append(f"{key}: a list of objects required")
        return []
    return value


def parse_catalog_document(
    document: Any,
    *,
    known_items: set[str],
    known_purposes: dict[str, tuple[tuple[str, ...], tuple[str, ...]]],
) -> tuple[list[DataItemDef], list[PurposeDef], list[BundleDef]]:
    """Admin additions to the catalog, checked against what exists; CatalogError lists all."""
    problems: list[str] = []
    if not isinstance(document, dict):
        raise CatalogError(["the document must be a JSON object with items/purposes/bundles"])
    items = []
    for n, entry in enumerate(_entries(document, "items", problems)):
        where = f"items[{n}]"
        items.append(
            DataItemDef(
                _code(entry, where, problems),
                _text(entry, "label_ja", where, problems, 100),
                _text(entry, "label_en", where, problems, 100),
                bool(entry.get("sensitive", False)),
            )
        )
    all_items = known_items | {i.code for i in items}
    purposes = []
    for n, entry in enumerate(_entries(document, "purposes", problems)):
        where = f"purposes[{n}]"
        purpose_items = entry.get("items")
        recipients = entry.get("recipients")
        if (
            not isinstance(purpose_items, list)
            or not purpose_items
            or not set(purpose_items) <= all_items
        ):
            problems.append(f"{where}.items: a non-empty list of known item codes required")
            purpose_items = []
        if (
            not isinstance(recipients, list)
            or not recipients
            or not all(isinstance(r, str) and CODE.match(r) for r in recipients)
        ):
            problems.append(
                f"{where}.recipients: a non-empty list of relationship codes "
                f"(e.g. family, community) or {', '.join(sorted(DIRECT_RECIPIENTS))}"
            )
            recipients = []
        purposes.append(
            PurposeDef(
                _code(entry, where, problems),
                _text(entry, "label_ja", where, problems, 100),
                _text(entry, "label_en", where, problems, 100),
                _text(entry, "description_ja", where, problems, 2000),
                _text(entry, "description_en", where, problems, 2000),
                tuple(purpose_items),
                tuple(recipients),
                _text(entry, "text_version", where, problems, 32),
            )
        )
    all_purposes = dict(known_purposes) | {p.code: (p.items, p.recipients) for p in purposes}
    bundles = []
    for n, entry in enumerate(_entries(document, "bundles", problems)):
        where = f"bundles[{n}]"
        purpose_code = entry.get("purpose")
        if purpose_code not in all_purposes:
            problems.append(f"{where}.purpose: unknown purpose {purpose_code!r}")
            continue
        allowed_items, allowed_recipients = all_purposes[purpose_code]
        flows = []
        raw_flows = entry.get("flows")
        if not isinstance(raw_flows, list) or not raw_flows:
            problems.append(f"{where}.flows: a non-empty list required")
            raw_flows = []
        for m, flow in enumerate(raw_flows):
            role = flow.get("recipient_role") if isinstance(flow, dict) else None
            flow_items = flow.get("items") if isinstance(flow, dict) else None
            # One bundle, one purpose: flows may not reach beyond what the purpose covers.
            if role not in allowed_recipients or role in DIRECT_RECIPIENTS:
                problems.append(f"{where}.flows[{m}].recipient_role: not allowed by the purpose")
                continue
            if (
                not isinstance(flow_items, list)
                or not flow_items
                or not set(flow_items) <= set(allowed_items)
            ):
                problems.append(f"{where}.flows[{m}].items: items of the purpose required")
                continue
            flows.append(FlowDef(str(role), tuple(flow_items)))
        bundles.append(
            BundleDef(
                _code(entry, where, problems),
                str(purpose_code),
                _text(entry, "label_ja", where, problems, 100),
                _text(entry, "label_en", where, problems, 100),
                _text(entry, "description_ja", where, problems, 2000),
                _text(entry, "description_en", where, problems, 2000),
                tuple(flows),
                _text(entry, "text_version", where, problems, 32),
            )
        )
    if not (items or purposes or bundles) and not problems:
        problems.append("nothing to import")
    if problems:
        raise CatalogError(problems)
    return items, purposes, bundles


def check_catalog() -> None:
    """Refuse an inconsistent catalog at start-up (bundles within one purpose, known items)."""
    purposes = {p.code: p for p in PURPOSES}
    for purpose in PURPOSES:
        unknown = set(purpose.items) - set(ITEM_CODES)
        assert not unknown, f"purpose {purpose.code} names unknown items {unknown}"
    for bundle in BUNDLES:
        purpose = purposes[bundle.purpose]
        for flow in bundle.flows:
            assert flow.recipient_role in purpose.recipients, (bundle.code, flow)
            assert set(flow.items) <= set(purpose.items), (bundle.code, flow)


check_catalog()
