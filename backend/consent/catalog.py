"""The seeded consent catalog: data items, purposes, bundles (extensible by admins)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RecipientKind(StrEnum):
    ROLE = "role"
    SYSTEM_CLIENT = "system_client"
    PERSON = "person"


class RecipientRole(StrEnum):
    FAMILY = "family"
    COMMUNITY = "community"
    SUPPORTER = "supporter"
    CITY_STAFF = "city_staff"


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
    recipients: tuple[str, ...]  # RecipientRole values and/or "system_client" / "person"


@dataclass(frozen=True, slots=True)
class FlowDef:
    recipient_role: RecipientRole
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
        "portal_personalization",
        "ポータルのパーソナライズ",
        "Personalized portal",
        "年齢・世帯・居住地に合ったサービスやお知らせを表示します。",
        "Show the services and notices that fit your age, household and area.",
        ("age", "household", "home_place"),
        ("system_client",),
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
        (FlowDef(RecipientRole.FAMILY, ("name", "safety_status")),),
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
                RecipientRole.SUPPORTER,
                ("name", "address", "phone", "support_needed", "evacuation_plan"),
            ),
            FlowDef(
                RecipientRole.CITY_STAFF,
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
)


def check_catalog() -> None:
    """Refuse an inconsistent catalog at start-up (bundles within one purpose, known items)."""
    purposes = {p.code: p for p in PURPOSES}
    for purpose in PURPOSES:
        unknown = set(purpose.items) - set(ITEM_CODES)
        assert not unknown, f"purpose {purpose.code} names unknown items {unknown}"
    for bundle in BUNDLES:
        purpose = purposes[bundle.purpose]
        for flow in bundle.flows:
            assert flow.recipient_role.value in purpose.recipients, (bundle.code, flow)
            assert set(flow.items) <= set(purpose.items), (bundle.code, flow)


check_catalog()
