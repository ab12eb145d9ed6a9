"""The words of alert notifications: which of the resident's places, which alert, which level."""

from __future__ import annotations

from collections.abc import Sequence

from .drafts import AlertKind

PLACE_KIND_JA = {
    "home": "自宅",
    "workplace": "勤務先",
    "school": "学校",
    "child_school": "お子さまの学校",
}
PLACE_KIND_EN = {
    "home": "your home",
    "workplace": "your workplace",
    "school": "your school",
    "child_school": "your child's school",
}
KIND_JA = {
    AlertKind.EVACUATION: "避難情報",
    AlertKind.EMERGENCY_WARNING: "特別警報",
    AlertKind.WARNING: "警報",
    AlertKind.ADVISORY: "注意報",
    AlertKind.LANDSLIDE_ALERT: "土砂災害警戒情報",
    AlertKind.FLOOD_FORECAST: "指定河川洪水予報",
    AlertKind.RECORD_RAIN: "記録的短時間大雨情報",
    AlertKind.EARTHQUAKE: "地震情報",
    AlertKind.TSUNAMI_WARNING: "津波警報",
    AlertKind.TSUNAMI_ADVISORY: "津波注意報",
    AlertKind.TSUNAMI_INFO: "津波情報",
    AlertKind.NOTICE: "お知らせ",
    AlertKind.EMERGENCY_NOTICE: "緊急のお知らせ",
}
KIND_EN = {
    AlertKind.EVACUATION: "evacuation information",
    AlertKind.EMERGENCY_WARNING: "emergency warning",
    AlertKind.WARNING: "warning",
    AlertKind.ADVISORY: "advisory",
    AlertKind.LANDSLIDE_ALERT: "landslide alert",
    AlertKind.FLOOD_FORECAST: "river flood forecast",
    AlertKind.RECORD_RAIN: "record short-time heavy rain information",
    AlertKind.EARTHQUAKE: "earthquake information",
    AlertKind.TSUNAMI_WARNING: "tsunami warning",
    AlertKind.TSUNAMI_ADVISORY: "tsunami advisory",
    AlertKind.TSUNAMI_INFO: "tsunami information",
    AlertKind.NOTICE: "notice",
    AlertKind.EMERGENCY_NOTICE: "emergency notice",
}
# 警戒レベル: what the level means, for a title when the source gave none.
EVACUATION_TITLE_JA = {3: "高齢者等避難", 4: "避難指示", 5: "緊急安全確保"}
EVACUATION_TITLE_EN = {
    3: "Evacuation of elderly and others (level 3)",
    4: "Evacuation order (level 4)",
    5: "Emergency safety measure (level 5)",
}


def _kinds(place_kinds: Sequence[str]) -> list[str]:
    order = list(PLACE_KIND_JA)
    return sorted(set(place_kinds), key=lambda k: order.index(k) if k in order else len(order))


def places_ja(place_kinds: Sequence[str]) -> str:
    """自宅・勤務先"""
    return "・".join(PLACE_KIND_JA.get(k, "登録場所") for k in _kinds(place_kinds))


def places_en(place_kinds: Sequence[str]) -> str:
    """your home and your workplace"""
    names = [PLACE_KIND_EN.get(k, "a saved place") for k in _kinds(place_kinds)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def concern_ja(place_kinds: Sequence[str], title_ja: str) -> str:
    """自宅が避難指示の対象区域です"""
    return f"{places_ja(place_kinds)}が{title_ja}の対象区域です"


def concern_en(place_kinds: Sequence[str], title_en: str) -> str:
    """Your home is in the area of the evacuation order (level 4)."""
    phrase = places_en(place_kinds)
    verb = "is" if len(set(place_kinds)) == 1 else "are"
    return f"{phrase[0].upper()}{phrase[1:]} {verb} in the area of: {title_en}"


def lifted_ja(place_kinds: Sequence[str], title_ja: str) -> str:
    return f"{places_ja(place_kinds)}の{title_ja}は解除されました"


def lifted_en(place_kinds: Sequence[str], title_en: str) -> str:
    phrase = places_en(place_kinds)
    return f"Lifted for {phrase}: {title_en}"
