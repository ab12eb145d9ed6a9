"""Every JMA sample telegram in ../shared/data/jma-xml read into alert drafts, value by value.

The expected values are written out from the telegrams themselves (statuses and area lists
read off each file), not computed by the reader: per telegram its status, report time and
headline start; per draft its kind, action, JMA code, 警戒レベル, severity, title, and the
active and lifted areas (their number, and the first codes in document order).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import pytest

from backend.alerts.drafts import AlertAction, AlertDraft, AlertKind, AlertStatus, AreaScheme
from backend.alerts.drafts import Severity as S
from backend.alerts.sources.jma import JmaTelegramRefused, read_jma_telegram
from tests.ingest.wording import english_words
from tests.shared_data import require_shared

ACTUAL, EXERCISE = AlertStatus.ACTUAL, AlertStatus.EXERCISE
ISSUE, UPDATE, LIFT, CANCEL = (
    AlertAction.ISSUE,
    AlertAction.UPDATE,
    AlertAction.LIFT,
    AlertAction.CANCEL,
)
WARNING, ADVISORY, EMERGENCY = AlertKind.WARNING, AlertKind.ADVISORY, AlertKind.EMERGENCY_WARNING
LANDSLIDE, FLOOD, RECORD_RAIN = (
    AlertKind.LANDSLIDE_ALERT,
    AlertKind.FLOOD_FORECAST,
    AlertKind.RECORD_RAIN,
)
EARTHQUAKE = AlertKind.EARTHQUAKE
TSUNAMI_WARNING, TSUNAMI_ADVISORY, TSUNAMI_INFO = (
    AlertKind.TSUNAMI_WARNING,
    AlertKind.TSUNAMI_ADVISORY,
    AlertKind.TSUNAMI_INFO,
)
EXTREME, SEVERE, MODERATE, MINOR, UNKNOWN = S.EXTREME, S.SEVERE, S.MODERATE, S.MINOR, S.UNKNOWN


class D(NamedTuple):
    """One expected draft; area codes are the first three (or all, up to four)."""

    kind: AlertKind
    action: AlertAction
    type_code: str | None
    level: int | None
    severity: S
    title: str
    active: int
    active_codes: list[str]
    lifted: int
    lifted_codes: list[str]
    intensity: str | None = None


class T(NamedTuple):
    status: AlertStatus
    issued_at: str
    headline_start: str
    drafts: list[D]


def shown(codes: list[str | None]) -> list[str | None]:
    return codes if len(codes) <= 4 else codes[:3]


def summary(draft: AlertDraft) -> D:
    active = [a.code for a in draft.areas if a.action is None]
    lifted = [a.code for a in draft.areas if a.action is AlertAction.LIFT]
    return D(
        draft.kind,
        draft.action,
        draft.type_code,
        draft.level,
        draft.severity,
        draft.title_ja or "",
        len(active),
        shown(active),  # type: ignore[arg-type]
        len(lifted),
        shown(lifted),  # type: ignore[arg-type]
        draft.intensity,
    )


SAMPLES: dict[str, T] = {
    "15_08_01_130412_VPWW53.xml": T(
        ACTUAL,
        "2011-09-03T12:00:00+09:00",
        "【特別警報（大雨）】北部では４日",
        [
            D(
                WARNING,
                LIFT,
                "03",
                3,
                SEVERE,
                "大雨警報",
                0,
                [],
                27,
                ["2920100", "2920200", "2920400"],
            ),
            D(
                WARNING,
                UPDATE,
                "04",
                3,
                SEVERE,
                "洪水警報",
                18,
                ["2920200", "2920701", "2920702"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "10",
                2,
                MODERATE,
                "大雨注意報",
                13,
                ["2920300", "2920900", "2921000"],
                27,
                ["2920100", "2920200", "2920400"],
            ),
            D(
                ADVISORY,
                UPDATE,
                "14",
                None,
                MODERATE,
                "雷注意報",
                40,
                ["2920100", "2920200", "2920300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "15",
                None,
                MODERATE,
                "強風注意報",
                40,
                ["2920100", "2920200", "2920300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "18",
                2,
                MODERATE,
                "洪水注意報",
                22,
                ["2920100", "2920300", "2920400"],
                0,
                [],
            ),
            D(
                EMERGENCY,
                ISSUE,
                "33",
                5,
                EXTREME,
                "大雨特別警報",
                27,
                ["2920100", "2920200", "2920400"],
                0,
                [],
            ),
        ],
    ),
    "15_08_03_160628_VPWW53.xml": T(
        ACTUAL,
        "2011-09-04T06:21:00+09:00",
        "【特別警報（大雨）】奈良県では、",
        [
            D(
                WARNING,
                ISSUE,
                "04",
                3,
                SEVERE,
                "洪水警報",
                18,
                ["2920200", "2920500", "2920701"],
                9,
                ["2920300", "2921000", "2934300"],
            ),
            D(
                ADVISORY,
                UPDATE,
                "10",
                2,
                MODERATE,
                "大雨注意報",
                13,
                ["2920300", "2920900", "2921000"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "14",
                None,
                MODERATE,
                "雷注意報",
                40,
                ["2920100", "2920200", "2920300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "15",
                None,
                MODERATE,
                "強風注意報",
                40,
                ["2920100", "2920200", "2920300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "18",
                2,
                MODERATE,
                "洪水注意報",
                18,
                ["2920100", "2920300", "2920400"],
                4,
                ["2920500", "2934200", "2934500", "2936300"],
            ),
            D(
                EMERGENCY,
                UPDATE,
                "33",
                5,
                EXTREME,
                "大雨特別警報",
                27,
                ["2920100", "2920200", "2920400"],
                13,
                ["2920300", "2920900", "2921000"],
            ),
        ],
    ),
    "15_08_05_130412_VPWW53.xml": T(
        ACTUAL,
        "2011-09-07T11:46:00+09:00",
        "【特別警報解除】奈良県の特別警報",
        [
            D(
                WARNING,
                LIFT,
                "04",
                3,
                SEVERE,
                "洪水警報",
                0,
                [],
                3,
                ["2944900", "2945000", "2945100"],
            ),
            D(
                ADVISORY,
                LIFT,
                "10",
                2,
                MODERATE,
                "大雨注意報",
                0,
                [],
                17,
                ["2920100", "2920200", "2920400"],
            ),
            D(
                ADVISORY,
                LIFT,
                "18",
                2,
                MODERATE,
                "洪水注意報",
                0,
                [],
                10,
                ["2920400", "2920702", "2921200"],
            ),
            D(
                EMERGENCY,
                LIFT,
                "33",
                5,
                EXTREME,
                "大雨特別警報",
                0,
                [],
                11,
                ["2920702", "2938500", "2938600"],
            ),
        ],
    ),
    "15_09_02_160628_VPWW53.xml": T(
        ACTUAL,
        "2013-08-09T11:09:00+09:00",
        "【特別警報（大雨、暴風、波浪）】",
        [
            D(
                WARNING,
                UPDATE,
                "04",
                3,
                SEVERE,
                "洪水警報",
                28,
                ["3020100", "3020200", "3020300"],
                0,
                [],
            ),
            D(
                WARNING,
                LIFT,
                "05",
                None,
                SEVERE,
                "暴風警報",
                0,
                [],
                30,
                ["3020100", "3020200", "3020300"],
            ),
            D(
                WARNING,
                LIFT,
                "07",
                None,
                SEVERE,
                "波浪警報",
                0,
                [],
                18,
                ["3020100", "3020200", "3020400"],
            ),
            D(
                ADVISORY,
                LIFT,
                "15",
                None,
                MODERATE,
                "強風注意報",
                0,
                [],
                30,
                ["3020100", "3020200", "3020300"],
            ),
            D(
                ADVISORY,
                LIFT,
                "16",
                None,
                MODERATE,
                "波浪注意報",
                0,
                [],
                18,
                ["3020100", "3020200", "3020400"],
            ),
            D(ADVISORY, UPDATE, "18", 2, MODERATE, "洪水注意報", 2, ["3036600", "3039200"], 0, []),
            D(
                EMERGENCY,
                UPDATE,
                "33",
                5,
                EXTREME,
                "大雨特別警報",
                30,
                ["3020100", "3020200", "3020300"],
                0,
                [],
            ),
            D(
                EMERGENCY,
                ISSUE,
                "35",
                None,
                EXTREME,
                "暴風特別警報",
                30,
                ["3020100", "3020200", "3020300"],
                0,
                [],
            ),
            D(
                EMERGENCY,
                ISSUE,
                "37",
                None,
                EXTREME,
                "波浪特別警報",
                18,
                ["3020100", "3020200", "3020400"],
                0,
                [],
            ),
        ],
    ),
    "15_10_03_160628_VPWW53.xml": T(
        ACTUAL,
        "2013-08-19T17:24:00+09:00",
        "【特別警報（大雨、暴風、波浪、高",
        [
            D(
                WARNING,
                LIFT,
                "03",
                3,
                SEVERE,
                "大雨警報",
                0,
                [],
                8,
                ["2820100", "2820800", "2821200"],
            ),
            D(
                WARNING,
                ISSUE,
                "04",
                3,
                SEVERE,
                "洪水警報",
                8,
                ["2820100", "2820800", "2821200"],
                0,
                [],
            ),
            D(
                WARNING,
                LIFT,
                "05",
                None,
                SEVERE,
                "暴風警報",
                0,
                [],
                41,
                ["2810000", "2820100", "2820200"],
            ),
            D(
                WARNING,
                LIFT,
                "07",
                None,
                SEVERE,
                "波浪警報",
                0,
                [],
                18,
                ["2810000", "2820100", "2820200"],
            ),
            D(
                WARNING,
                LIFT,
                "08",
                4,
                SEVERE,
                "高潮警報",
                0,
                [],
                15,
                ["2810000", "2820100", "2820200"],
            ),
            D(
                ADVISORY,
                ISSUE,
                "10",
                2,
                MODERATE,
                "大雨注意報",
                4,
                ["2822100", "2822300", "2822500", "2836500"],
                8,
                ["2820100", "2820800", "2821200"],
            ),
            D(
                ADVISORY,
                LIFT,
                "15",
                None,
                MODERATE,
                "強風注意報",
                0,
                [],
                41,
                ["2810000", "2820100", "2820200"],
            ),
            D(
                ADVISORY,
                LIFT,
                "16",
                None,
                MODERATE,
                "波浪注意報",
                0,
                [],
                18,
                ["2810000", "2820100", "2820200"],
            ),
            D(
                ADVISORY,
                ISSUE,
                "18",
                2,
                MODERATE,
                "洪水注意報",
                4,
                ["2822100", "2822300", "2822500", "2836500"],
                8,
                ["2820100", "2820800", "2821200"],
            ),
            D(
                ADVISORY,
                ISSUE,
                "19",
                2,
                MODERATE,
                "高潮注意報",
                3,
                ["2821000", "2821600", "2838200"],
                15,
                ["2810000", "2820100", "2820200"],
            ),
            D(
                EMERGENCY,
                ISSUE,
                "33",
                5,
                EXTREME,
                "大雨特別警報",
                8,
                ["2820100", "2820800", "2821200"],
                0,
                [],
            ),
            D(
                EMERGENCY,
                ISSUE,
                "35",
                None,
                EXTREME,
                "暴風特別警報",
                41,
                ["2810000", "2820100", "2820200"],
                0,
                [],
            ),
            D(
                EMERGENCY,
                ISSUE,
                "37",
                None,
                EXTREME,
                "波浪特別警報",
                18,
                ["2810000", "2820100", "2820200"],
                0,
                [],
            ),
            D(
                EMERGENCY,
                ISSUE,
                "38",
                4,
                EXTREME,
                "高潮特別警報",
                15,
                ["2810000", "2820100", "2820200"],
                0,
                [],
            ),
        ],
    ),
    "15_11_01_150916_VPWW54.xml": T(
        ACTUAL,
        "2015-06-22T18:00:00+09:00",
        "山口県では、２３日朝まで高潮に警",
        [
            D(
                WARNING,
                ISSUE,
                "08",
                4,
                SEVERE,
                "高潮警報",
                18,
                ["3520100", "3520200", "3520300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                LIFT,
                "19",
                2,
                MODERATE,
                "高潮注意報",
                0,
                [],
                18,
                ["3520100", "3520200", "3520300"],
            ),
            D(
                ADVISORY,
                ISSUE,
                "21",
                None,
                MODERATE,
                "乾燥注意報",
                19,
                ["3520100", "3520200", "3520300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                ISSUE,
                "24",
                None,
                MODERATE,
                "霜注意報",
                19,
                ["3520100", "3520200", "3520300"],
                0,
                [],
            ),
        ],
    ),
    "15_11_03_150916_VPWW54.xml": T(
        ACTUAL,
        "2013-02-07T21:07:00+09:00",
        "【特別警報（大雪）】東部では、大",
        [
            D(
                WARNING,
                UPDATE,
                "02",
                None,
                SEVERE,
                "暴風雪警報",
                6,
                ["1620100", "1620400", "1620600"],
                0,
                [],
            ),
            D(
                WARNING,
                LIFT,
                "06",
                None,
                SEVERE,
                "大雪警報",
                0,
                [],
                6,
                ["1620100", "1620400", "1620600"],
            ),
            D(
                WARNING,
                ISSUE,
                "07",
                None,
                SEVERE,
                "波浪警報",
                6,
                ["1620100", "1620400", "1620600"],
                0,
                [],
            ),
            D(
                ADVISORY,
                ISSUE,
                "12",
                None,
                MODERATE,
                "大雪注意報",
                3,
                ["1632100", "1632200", "1632300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "13",
                None,
                MODERATE,
                "風雪注意報",
                3,
                ["1632100", "1632200", "1632300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                LIFT,
                "16",
                None,
                MODERATE,
                "波浪注意報",
                0,
                [],
                6,
                ["1620100", "1620400", "1620600"],
            ),
            D(
                EMERGENCY,
                ISSUE,
                "36",
                None,
                EXTREME,
                "大雪特別警報",
                6,
                ["1620100", "1620400", "1620600"],
                0,
                [],
            ),
        ],
    ),
    "15_12_02_161130_VPWW53.xml": T(
        ACTUAL,
        "2016-02-12T14:22:00+09:00",
        "【特別警報（大雨、暴風、波浪、高",
        [
            D(
                WARNING,
                ISSUE,
                "03",
                3,
                SEVERE,
                "大雨警報",
                13,
                ["1310100", "1310300", "1310400"],
                0,
                [],
            ),
            D(
                WARNING,
                ISSUE,
                "04",
                3,
                SEVERE,
                "洪水警報",
                14,
                ["1310100", "1310300", "1310400"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "10",
                2,
                MODERATE,
                "大雨注意報",
                21,
                ["1310200", "1310600", "1310800"],
                13,
                ["1310100", "1310300", "1310400"],
            ),
            D(
                ADVISORY,
                UPDATE,
                "14",
                None,
                MODERATE,
                "雷注意報",
                41,
                ["1310100", "1310200", "1310300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "18",
                2,
                MODERATE,
                "洪水注意報",
                21,
                ["1310200", "1310600", "1310800"],
                13,
                ["1310100", "1310300", "1310400"],
            ),
            D(EMERGENCY, UPDATE, "33", 5, EXTREME, "大雨特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, UPDATE, "35", None, EXTREME, "暴風特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, UPDATE, "37", None, EXTREME, "波浪特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, UPDATE, "38", 4, EXTREME, "高潮特別警報", 1, ["1342100"], 0, []),
        ],
    ),
    "15_12_02_161130_VPWW54.xml": T(
        ACTUAL,
        "2016-02-12T14:22:00+09:00",
        "【特別警報（大雨、暴風、波浪、高",
        [
            D(
                WARNING,
                ISSUE,
                "03",
                3,
                SEVERE,
                "大雨警報",
                13,
                ["1310100", "1310300", "1310400"],
                0,
                [],
            ),
            D(
                WARNING,
                ISSUE,
                "04",
                3,
                SEVERE,
                "洪水警報",
                14,
                ["1310100", "1310300", "1310400"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "10",
                2,
                MODERATE,
                "大雨注意報",
                21,
                ["1310200", "1310600", "1310800"],
                13,
                ["1310100", "1310300", "1310400"],
            ),
            D(
                ADVISORY,
                UPDATE,
                "14",
                None,
                MODERATE,
                "雷注意報",
                41,
                ["1310100", "1310200", "1310300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "18",
                2,
                MODERATE,
                "洪水注意報",
                21,
                ["1310200", "1310600", "1310800"],
                13,
                ["1310100", "1310300", "1310400"],
            ),
            D(EMERGENCY, UPDATE, "33", 5, EXTREME, "大雨特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, UPDATE, "35", None, EXTREME, "暴風特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, UPDATE, "37", None, EXTREME, "波浪特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, UPDATE, "38", 4, EXTREME, "高潮特別警報", 1, ["1342100"], 0, []),
        ],
    ),
    "15_13_01_161226_VPWW53.xml": T(
        ACTUAL,
        "2016-12-13T20:45:00+09:00",
        "【特別警報（大雨、暴風、波浪、高",
        [
            D(WARNING, LIFT, "03", 3, SEVERE, "大雨警報", 0, [], 1, ["1342100"]),
            D(WARNING, ISSUE, "04", 3, SEVERE, "洪水警報", 1, ["1342100"], 0, []),
            D(
                WARNING,
                ISSUE,
                "05",
                None,
                SEVERE,
                "暴風警報",
                23,
                ["1310100", "1310200", "1310300"],
                1,
                ["1342100"],
            ),
            D(
                WARNING,
                ISSUE,
                "07",
                None,
                SEVERE,
                "波浪警報",
                6,
                ["1310200", "1310300", "1310800"],
                1,
                ["1342100"],
            ),
            D(WARNING, LIFT, "08", 4, SEVERE, "高潮警報", 0, [], 1, ["1342100"]),
            D(ADVISORY, LIFT, "10", 2, MODERATE, "大雨注意報", 0, [], 1, ["1342100"]),
            D(ADVISORY, ISSUE, "14", None, MODERATE, "雷注意報", 1, ["1342100"], 0, []),
            D(
                ADVISORY,
                LIFT,
                "15",
                None,
                MODERATE,
                "強風注意報",
                0,
                [],
                24,
                ["1310100", "1310200", "1310300"],
            ),
            D(
                ADVISORY,
                LIFT,
                "16",
                None,
                MODERATE,
                "波浪注意報",
                0,
                [],
                7,
                ["1310200", "1310300", "1310800"],
            ),
            D(ADVISORY, LIFT, "18", 2, MODERATE, "洪水注意報", 0, [], 1, ["1342100"]),
            D(ADVISORY, LIFT, "19", 2, MODERATE, "高潮注意報", 0, [], 1, ["1342100"]),
            D(EMERGENCY, ISSUE, "33", 5, EXTREME, "大雨特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, ISSUE, "35", None, EXTREME, "暴風特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, ISSUE, "37", None, EXTREME, "波浪特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, ISSUE, "38", 4, EXTREME, "高潮特別警報", 1, ["1342100"], 0, []),
        ],
    ),
    "15_13_01_161226_VPWW54.xml": T(
        ACTUAL,
        "2016-12-13T20:45:00+09:00",
        "【特別警報（大雨、暴風、波浪、高",
        [
            D(WARNING, LIFT, "03", 3, SEVERE, "大雨警報", 0, [], 1, ["1342100"]),
            D(WARNING, ISSUE, "04", 3, SEVERE, "洪水警報", 1, ["1342100"], 0, []),
            D(
                WARNING,
                ISSUE,
                "05",
                None,
                SEVERE,
                "暴風警報",
                23,
                ["1310100", "1310200", "1310300"],
                1,
                ["1342100"],
            ),
            D(
                WARNING,
                ISSUE,
                "07",
                None,
                SEVERE,
                "波浪警報",
                6,
                ["1310200", "1310300", "1310800"],
                1,
                ["1342100"],
            ),
            D(WARNING, LIFT, "08", 4, SEVERE, "高潮警報", 0, [], 1, ["1342100"]),
            D(ADVISORY, LIFT, "10", 2, MODERATE, "大雨注意報", 0, [], 1, ["1342100"]),
            D(ADVISORY, ISSUE, "14", None, MODERATE, "雷注意報", 1, ["1342100"], 0, []),
            D(
                ADVISORY,
                LIFT,
                "15",
                None,
                MODERATE,
                "強風注意報",
                0,
                [],
                24,
                ["1310100", "1310200", "1310300"],
            ),
            D(
                ADVISORY,
                LIFT,
                "16",
                None,
                MODERATE,
                "波浪注意報",
                0,
                [],
                7,
                ["1310200", "1310300", "1310800"],
            ),
            D(ADVISORY, LIFT, "18", 2, MODERATE, "洪水注意報", 0, [], 1, ["1342100"]),
            D(ADVISORY, LIFT, "19", 2, MODERATE, "高潮注意報", 0, [], 1, ["1342100"]),
            D(EMERGENCY, ISSUE, "33", 5, EXTREME, "大雨特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, ISSUE, "35", None, EXTREME, "暴風特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, ISSUE, "37", None, EXTREME, "波浪特別警報", 1, ["1342100"], 0, []),
            D(EMERGENCY, ISSUE, "38", 4, EXTREME, "高潮特別警報", 1, ["1342100"], 0, []),
        ],
    ),
    "15_15_01_220314_VPWW54.xml": T(
        ACTUAL,
        "2021-09-14T13:42:00+09:00",
        "北部では、１４日夜のはじめ頃まで",
        [
            D(WARNING, ISSUE, "08", 4, SEVERE, "高潮警報", 1, ["3640300"], 0, []),
            D(ADVISORY, LIFT, "19", 2, MODERATE, "高潮注意報", 0, [], 1, ["3640300"]),
        ],
    ),
    "15_16_01_241031_VPWW56.xml": T(
        ACTUAL,
        "2020-06-22T23:00:00+09:00",
        "宗谷地方にレベル４土砂災害危険警",
        [
            D(
                WARNING,
                UPDATE,
                "09",
                3,
                SEVERE,
                "レベル３土砂災害警報",
                1,
                ["0151100"],
                1,
                ["0121400"],
            ),
            D(
                ADVISORY,
                UPDATE,
                "29",
                2,
                MODERATE,
                "レベル２土砂災害注意報",
                8,
                ["0151200", "0151300", "0151400"],
                0,
                [],
            ),
            D(WARNING, ISSUE, "49", 4, SEVERE, "レベル４土砂災害危険警報", 1, ["0121400"], 0, []),
        ],
    ),
    "15_16_02_241031_VPWW57.xml": T(
        ACTUAL,
        "2020-06-22T23:00:00+09:00",
        "京都府にレベル４高潮危険警報を発",
        [
            D(
                WARNING,
                UPDATE,
                "08",
                3,
                SEVERE,
                "レベル３高潮警報",
                2,
                ["2621200", "2646300"],
                3,
                ["2620200", "2620500", "2646500"],
            ),
            D(
                WARNING,
                ISSUE,
                "48",
                4,
                SEVERE,
                "レベル４高潮危険警報",
                3,
                ["2620200", "2620500", "2646500"],
                0,
                [],
            ),
        ],
    ),
    "15_16_03_241226_VPWW55.xml": T(
        ACTUAL,
        "2020-06-22T23:00:00+09:00",
        "宗谷地方にレベル４大雨危険警報を",
        [
            D(WARNING, UPDATE, "03", 3, SEVERE, "レベル３大雨警報", 1, ["0151100"], 1, ["0121400"]),
            D(
                ADVISORY,
                UPDATE,
                "10",
                2,
                MODERATE,
                "レベル２大雨注意報",
                8,
                ["0151200", "0151300", "0151400"],
                0,
                [],
            ),
            D(WARNING, ISSUE, "43", 4, SEVERE, "レベル４大雨危険警報", 1, ["0121400"], 0, []),
        ],
    ),
    "15_16_04_241226_VPWW58.xml": T(
        ACTUAL,
        "2020-06-22T23:00:00+09:00",
        "宗谷地方では、暴風に警戒してくだ",
        [
            D(WARNING, ISSUE, "05", None, SEVERE, "暴風警報", 2, ["0121400", "0151100"], 0, []),
            D(
                ADVISORY,
                UPDATE,
                "15",
                None,
                MODERATE,
                "強風注意報",
                8,
                ["0151200", "0151300", "0151400"],
                1,
                ["0121400"],
            ),
        ],
    ),
    "15_16_05_241226_VPWW59.xml": T(
        ACTUAL,
        "2020-06-22T23:00:00+09:00",
        "宗谷地方では、高波に警戒してくだ",
        [
            D(WARNING, ISSUE, "07", None, SEVERE, "波浪警報", 2, ["0121400", "0151100"], 0, []),
            D(
                ADVISORY,
                UPDATE,
                "16",
                None,
                MODERATE,
                "波浪注意報",
                7,
                ["0151200", "0151400", "0151600"],
                1,
                ["0121400"],
            ),
        ],
    ),
    "15_16_06_241226_VPWW60.xml": T(
        ACTUAL,
        "2020-06-22T23:00:00+09:00",
        "宗谷地方では、大雪に警戒してくだ",
        [
            D(WARNING, ISSUE, "06", None, SEVERE, "大雪警報", 2, ["0121400", "0151100"], 0, []),
            D(
                ADVISORY,
                UPDATE,
                "12",
                None,
                MODERATE,
                "大雪注意報",
                8,
                ["0151200", "0151300", "0151400"],
                1,
                ["0121400"],
            ),
        ],
    ),
    "15_16_07_241226_VPWW61.xml": T(
        ACTUAL,
        "2020-06-22T23:00:00+09:00",
        "宗谷地方では、急な強い雨や落雷に",
        [
            D(ADVISORY, ISSUE, "14", None, MODERATE, "雷注意報", 1, ["0121400"], 0, []),
            D(ADVISORY, UPDATE, "17", None, MODERATE, "融雪注意報", 1, ["0151100"], 0, []),
            D(ADVISORY, UPDATE, "20", None, MODERATE, "濃霧注意報", 1, ["0151200"], 0, []),
            D(ADVISORY, UPDATE, "21", None, MODERATE, "乾燥注意報", 1, ["0151300"], 0, []),
            D(ADVISORY, UPDATE, "22", None, MODERATE, "なだれ注意報", 1, ["0151400"], 0, []),
            D(
                ADVISORY,
                UPDATE,
                "23",
                None,
                MODERATE,
                "低温注意報",
                2,
                ["0151600", "0152000"],
                0,
                [],
            ),
            D(ADVISORY, UPDATE, "24", None, MODERATE, "霜注意報", 1, ["0151700"], 0, []),
            D(ADVISORY, UPDATE, "25", None, MODERATE, "着氷注意報", 1, ["0151800"], 0, []),
            D(ADVISORY, UPDATE, "26", None, MODERATE, "着雪注意報", 1, ["0151900"], 0, []),
        ],
    ),
    "15_16_08_241226_VPWW57.xml": T(
        ACTUAL,
        "2024-08-31T15:34:00+09:00",
        "宗谷地方では、高潮に厳重に警戒し",
        [
            D(
                WARNING,
                LIFT,
                "08",
                3,
                SEVERE,
                "レベル３高潮警報",
                0,
                [],
                4,
                ["0121400", "0151100", "0151200", "0151400"],
            ),
            D(
                WARNING,
                ISSUE,
                "48",
                4,
                SEVERE,
                "レベル４高潮危険警報",
                4,
                ["0121400", "0151100", "0151200", "0151400"],
                0,
                [],
            ),
        ],
    ),
    "15_17_01_250630_VPWW55.xml": T(
        ACTUAL,
        "2024-11-02T11:19:00+09:00",
        "東部、西部では、低い土地の浸水や",
        [
            D(
                WARNING,
                UPDATE,
                "03",
                3,
                SEVERE,
                "レベル３大雨警報",
                10,
                ["3220100", "3220200", "3220300"],
                0,
                [],
            ),
            D(
                ADVISORY,
                UPDATE,
                "10",
                2,
                MODERATE,
                "レベル２大雨注意報",
                5,
                ["3234300", "3238600", "3244100"],
                1,
                ["3252800"],
            ),
        ],
    ),
    "15_17_01_250630_VPWW56.xml": T(
        ACTUAL,
        "2024-11-02T08:00:00+09:00",
        "東部、西部では、土砂災害に厳重に",
        [
            D(
                ADVISORY,
                UPDATE,
                "29",
                2,
                MODERATE,
                "レベル２土砂災害注意報",
                13,
                ["3220100", "3220200", "3220300"],
                1,
                ["3220900"],
            ),
            D(
                WARNING,
                ISSUE,
                "49",
                4,
                SEVERE,
                "レベル４土砂災害危険警報",
                2,
                ["3220900", "3250500"],
                0,
                [],
            ),
        ],
    ),
    "16_01_01_220728_VXKOii.xml": T(
        ACTUAL,
        "2019-05-09T20:40:00+09:00",
        "【警戒レベル２相当情報［洪水］】",
        [
            D(
                FLOOD,
                ISSUE,
                "20",
                2,
                MODERATE,
                "○○川上流氾濫注意情報",
                3,
                ["1234567890", "9876543210", "0000000"],
                0,
                [],
            ),
        ],
    ),
    "16_02_02_220728_VXKOii.xml": T(
        ACTUAL,
        "2021-08-13T15:10:00+09:00",
        "【警戒レベル３相当情報［洪水］】",
        [
            D(
                FLOOD,
                ISSUE,
                "30",
                3,
                SEVERE,
                "六角川氾濫警戒情報",
                7,
                ["8909040001", "8909040120", "4120600"],
                0,
                [],
            ),
        ],
    ),
    "16_04_01_220728_VXKOii.xml": T(
        ACTUAL,
        "2019-05-27T09:00:00+09:00",
        "【警戒レベル５相当情報［洪水］】",
        [
            D(
                FLOOD,
                ISSUE,
                "53",
                5,
                EXTREME,
                "○○川上流氾濫発生情報（氾濫水の予報）",
                3,
                ["1234567890", "9876543210", "0000000"],
                0,
                [],
            ),
        ],
    ),
    "16_06_01_220728_VXKOii.xml": T(
        ACTUAL,
        "2019-05-27T09:00:00+09:00",
        "【警戒レベル４相当情報［洪水］】",
        [
            D(
                FLOOD,
                ISSUE,
                "41",
                4,
                SEVERE,
                "○○川上流氾濫危険情報",
                3,
                ["1234567890", "9876543210", "0000000"],
                0,
                [],
            ),
        ],
    ),
    "17_01_01_190529_VXWW50.xml": T(
        ACTUAL,
        "2013-08-31T11:05:00+09:00",
        "＜概況＞\n降り続く大雨のため、土",
        [
            D(
                LANDSLIDE,
                UPDATE,
                None,
                4,
                SEVERE,
                "福岡県土砂災害警戒情報",
                25,
                ["4010000", "4020400", "4020500"],
                26,
                ["4013000", "4020200", "4020300"],
            ),
        ],
    ),
    "17_02_02_190529_VXWW50.xml": T(
        ACTUAL,
        "2013-08-23T17:38:00+09:00",
        "＜概況＞\n降り続く大雨のため、土",
        [
            D(
                LANDSLIDE,
                ISSUE,
                None,
                4,
                SEVERE,
                "渡島・檜山地方土砂災害警戒情報",
                3,
                ["0133100", "0133200", "0133300"],
                0,
                [],
            ),
        ],
    ),
    "17_03_01_190529_VXWW50.xml": T(
        ACTUAL,
        "2013-09-02T15:37:00+09:00",
        "＜概況＞\n降り続く大雨のため、土",
        [
            D(LANDSLIDE, ISSUE, None, 4, SEVERE, "岡山県土砂災害警戒情報", 1, ["3320900"], 0, []),
        ],
    ),
    "17_03_03_190529_VXWW50.xml": T(
        ACTUAL,
        "2013-09-04T08:12:00+09:00",
        "＜概況＞\n降り続く大雨のため、土",
        [
            D(
                LANDSLIDE,
                ISSUE,
                None,
                4,
                SEVERE,
                "岡山県土砂災害警戒情報",
                20,
                ["3310000", "3320200", "3320300"],
                0,
                [],
            ),
        ],
    ),
    "17_03_05_190529_VXWW50.xml": T(
        ACTUAL,
        "2013-09-04T09:49:00+09:00",
        "＜概況＞\n降り続く大雨のため、土",
        [
            D(
                LANDSLIDE,
                ISSUE,
                None,
                4,
                SEVERE,
                "岡山県土砂災害警戒情報",
                26,
                ["3310000", "3320200", "3320300"],
                0,
                [],
            ),
        ],
    ),
    "17_03_07_190529_VXWW50.xml": T(
        ACTUAL,
        "2013-09-04T13:20:00+09:00",
        "＜概況＞\n降り続く大雨のため、土",
        [
            D(
                LANDSLIDE,
                UPDATE,
                None,
                4,
                SEVERE,
                "岡山県土砂災害警戒情報",
                22,
                ["3310000", "3320200", "3320300"],
                5,
                ["3320400", "3321600", "3342300"],
            ),
        ],
    ),
    "17_03_09_190529_VXWW50.xml": T(
        ACTUAL,
        "2013-09-04T15:59:00+09:00",
        "＜概況＞\n降り続く大雨のため、土",
        [
            D(
                LANDSLIDE,
                UPDATE,
                None,
                4,
                SEVERE,
                "岡山県土砂災害警戒情報",
                1,
                ["3320700"],
                8,
                ["3320800", "3320900", "3321100"],
            ),
        ],
    ),
    "17_04_01_250630_VXWW50.xml": T(
        ACTUAL,
        "2024-11-02T18:50:00+09:00",
        "＜概況＞\n\u3000降り続く大雨のため、",
        [
            D(
                LANDSLIDE,
                ISSUE,
                None,
                4,
                SEVERE,
                "神奈川県レベル４土砂災害危険警報",
                3,
                ["1420600", "1438300", "1438400"],
                0,
                [],
            ),
        ],
    ),
    "17_04_03_250630_VXWW50.xml": T(
        ACTUAL,
        "2024-11-02T23:27:00+09:00",
        "＜全警戒解除＞ \u3000大雨が弱まり、",
        [
            D(
                LANDSLIDE,
                LIFT,
                None,
                4,
                SEVERE,
                "神奈川県レベル４土砂災害危険警報",
                0,
                [],
                4,
                ["1420600", "1438200", "1438300", "1438400"],
            ),
        ],
    ),
    "18_01_01_100806_VPOA50.xml": T(
        ACTUAL,
        "2010-06-02T11:54:00+09:00",
        "１１時３０分大阪府で記録的短時間",
        [
            D(
                RECORD_RAIN,
                ISSUE,
                None,
                None,
                SEVERE,
                "大阪府記録的短時間大雨情報",
                1,
                ["270000"],
                0,
                [],
            ),
        ],
    ),
    "18_03_01_190412_VPOA50.xml": T(
        ACTUAL,
        "2019-03-28T19:53:22+09:00",
        "１９時４０分北海道で記録的短時間",
        [
            D(
                RECORD_RAIN,
                ISSUE,
                None,
                None,
                SEVERE,
                "石狩・空知・後志地方記録的短時間大雨情報",
                2,
                ["016010", "016030"],
                0,
                [],
            ),
        ],
    ),
    "32-35_01_01_100806_VXSE51.xml": T(
        ACTUAL,
        "2009-08-11T05:09:00+09:00",
        "１１日０５時０７分ころ、地震によ",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                EXTREME,
                "震度速報",
                37,
                ["442", "443", "440"],
                0,
                [],
                intensity="6-",
            ),
        ],
    ),
    "32-35_01_02_240613_VXSE52.xml": T(
        EXERCISE,
        "2009-10-01T13:48:00+09:00",
        "１日１３時４５分ころ、地震があり",
        [
            D(EARTHQUAKE, ISSUE, None, None, UNKNOWN, "震源に関する情報", 0, [], 0, []),
        ],
    ),
    "32-35_01_03_100514_VXSE53.xml": T(
        ACTUAL,
        "2009-11-09T20:15:00+09:00",
        "９日１９時４５分ころ、海外で規模",
        [
            D(EARTHQUAKE, ISSUE, None, None, UNKNOWN, "遠地地震に関する情報", 0, [], 0, []),
        ],
    ),
    "32-35_04_02_100831_VXSE51.xml": T(
        ACTUAL,
        "2010-01-25T16:18:00+09:00",
        "２５日１６時１５分ころ、地震によ",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                MODERATE,
                "震度速報",
                6,
                ["771", "776", "770"],
                0,
                [],
                intensity="4",
            ),
        ],
    ),
    "32-35_04_04_240613_VXSE53.xml": T(
        ACTUAL,
        "2010-01-25T16:19:00+09:00",
        "２５日１６時１５分ころ、地震があ",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                MODERATE,
                "震源・震度情報",
                86,
                ["771", "4620300", "4646800"],
                0,
                [],
                intensity="4",
            ),
        ],
    ),
    "32-35_06_01_240613_VXSE52.xml": T(
        ACTUAL,
        "2008-06-14T08:46:00+09:00",
        "１４日０８時４３分ころ、地震があ",
        [
            D(EARTHQUAKE, ISSUE, None, None, UNKNOWN, "震源に関する情報", 0, [], 0, []),
        ],
    ),
    "32-35_06_03_240613_VXSE53.xml": T(
        ACTUAL,
        "2008-06-14T08:47:00+09:00",
        "１４日０８時４３分ころ、地震があ",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                EXTREME,
                "震源・震度情報",
                687,
                ["213", "0321500", "0320600"],
                0,
                [],
                intensity="6+",
            ),
        ],
    ),
    "32-35_06_05_240613_VXSE53.xml": T(
        ACTUAL,
        "2008-06-14T09:01:00+09:00",
        "１４日０８時４３分ころ、地震があ",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                EXTREME,
                "震源・震度情報",
                784,
                ["213", "0321500", "0320600"],
                0,
                [],
                intensity="6+",
            ),
        ],
    ),
    "32-35_07_01_100915_VXSE51.xml": T(
        ACTUAL,
        "2009-08-11T05:09:00+09:00",
        "１１日０５時０７分ころ、地震によ",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                EXTREME,
                "震度速報",
                37,
                ["442", "443", "440"],
                0,
                [],
                intensity="6-",
            ),
        ],
    ),
    "32-35_07_03_100915_VXSE51.xml": T(
        ACTUAL,
        "2009-08-11T05:09:00+09:00",
        "１１日０５時０７分ころ、地震によ",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                EXTREME,
                "震度速報",
                42,
                ["440", "442", "443"],
                0,
                [],
                intensity="6-",
            ),
        ],
    ),
    "32-35_07_05_100915_VXSE51.xml": T(
        ACTUAL,
        "2009-08-11T05:11:00+09:00",
        "１１日０５時０７分ころ、地震によ",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                EXTREME,
                "震度速報",
                49,
                ["440", "442", "443"],
                0,
                [],
                intensity="6-",
            ),
        ],
    ),
    "32-35_07_06_240613_VXSE53.xml": T(
        ACTUAL,
        "2009-08-11T05:13:00+09:00",
        "１１日０５時０７分ころ、地震があ",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                EXTREME,
                "震源・震度情報",
                949,
                ["440", "2222200", "2222500"],
                0,
                [],
                intensity="6-",
            ),
        ],
    ),
    "32-35_08_02_100915_VXSE51.xml": T(
        ACTUAL,
        "2010-07-05T06:57:00+09:00",
        "５日０６時５６分ころ、地震による",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                MODERATE,
                "震度速報",
                9,
                ["211", "212", "210"],
                0,
                [],
                intensity="4",
            ),
        ],
    ),
    "32-35_08_04_100915_VXSE51.xml": T(
        ACTUAL,
        "2010-07-05T06:58:00+09:00",
        "５日０６時５６分ころ、地震による",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                MODERATE,
                "震度速報",
                15,
                ["211", "212", "210"],
                0,
                [],
                intensity="4",
            ),
        ],
    ),
    "32-35_08_06_240613_VXSE52.xml": T(
        ACTUAL,
        "2010-07-05T07:01:00+09:00",
        "５日０６時５６分ころ、地震があり",
        [
            D(EARTHQUAKE, ISSUE, None, None, UNKNOWN, "震源に関する情報", 0, [], 0, []),
        ],
    ),
    "32-35_08_07_240613_VXSE53.xml": T(
        ACTUAL,
        "2010-07-05T07:02:00+09:00",
        "５日０６時５６分ころ、地震があり",
        [
            D(
                EARTHQUAKE,
                ISSUE,
                None,
                None,
                MODERATE,
                "震源・震度情報",
                442,
                ["211", "0321000", "0346100"],
                0,
                [],
                intensity="4",
            ),
        ],
    ),
    "32-35_10_01_220510_VXSE51.xml": T(
        ACTUAL,
        "2022-05-10T18:10:00+09:00",
        "震度速報を取り消します。",
        [
            D(EARTHQUAKE, CANCEL, None, None, UNKNOWN, "震度速報", 0, [], 0, []),
        ],
    ),
    "32-39_05_01_100831_VXSE53.xml": T(
        ACTUAL,
        "2010-02-27T16:00:00+09:00",
        "２７日１５時３４分ころ、海外で規",
        [
            D(EARTHQUAKE, ISSUE, None, None, UNKNOWN, "遠地地震に関する情報", 0, [], 0, []),
        ],
    ),
    "32-39_05_04_100831_VXSE53.xml": T(
        ACTUAL,
        "2010-02-27T21:00:00+09:00",
        "２７日１５時３４分ころ、海外で規",
        [
            D(EARTHQUAKE, ISSUE, None, None, UNKNOWN, "遠地地震に関する情報", 0, [], 0, []),
        ],
    ),
    "32-39_05_06_100831_VXSE53.xml": T(
        ACTUAL,
        "2010-02-28T04:41:00+09:00",
        "２７日１５時３４分ころ、海外で規",
        [
            D(EARTHQUAKE, ISSUE, None, None, UNKNOWN, "遠地地震に関する情報", 0, [], 0, []),
        ],
    ),
    "32-39_05_08_100831_VXSE53.xml": T(
        ACTUAL,
        "2010-02-28T07:49:00+09:00",
        "２７日１５時３４分ころ、海外で規",
        [
            D(EARTHQUAKE, ISSUE, None, None, UNKNOWN, "遠地地震に関する情報", 0, [], 0, []),
        ],
    ),
    "32-39_05_12_100915_VXSE53.xml": T(
        ACTUAL,
        "2010-02-28T09:50:00+09:00",
        "遠地地震に関する情報を取り消しま",
        [
            D(EARTHQUAKE, CANCEL, None, None, UNKNOWN, "遠地地震に関する情報", 0, [], 0, []),
        ],
    ),
    "32-39_11_02_250206_VTSE41.xml": T(
        ACTUAL,
        "2011-03-11T14:49:00+09:00",
        "東日本大震災クラスの津波が来襲し",
        [
            D(
                TSUNAMI_WARNING,
                ISSUE,
                "52",
                None,
                EXTREME,
                "大津波警報",
                3,
                ["210", "220", "250"],
                0,
                [],
            ),
            D(
                TSUNAMI_WARNING,
                ISSUE,
                "51",
                None,
                SEVERE,
                "津波警報",
                5,
                ["101", "201", "300"],
                0,
                [],
            ),
            D(
                TSUNAMI_ADVISORY,
                ISSUE,
                "62",
                None,
                MODERATE,
                "津波注意報",
                15,
                ["100", "102", "200"],
                0,
                [],
            ),
            D(
                TSUNAMI_INFO,
                ISSUE,
                "71",
                None,
                MINOR,
                "津波予報（若干の海面変動）",
                20,
                ["111", "202", "312"],
                0,
                [],
            ),
        ],
    ),
    "32-39_11_03_250206_VTSE51.xml": T(
        ACTUAL,
        "2011-03-11T14:50:00+09:00",
        "各地の満潮時刻と津波到達予想時刻",
        [
            D(
                TSUNAMI_INFO,
                ISSUE,
                None,
                None,
                EXTREME,
                "各地の満潮時刻・津波到達予想時刻に関する情報",
                43,
                ["210", "220", "250"],
                0,
                [],
            ),
        ],
    ),
    "32-39_11_09_250206_VTSE41.xml": T(
        ACTUAL,
        "2011-03-11T15:00:00+09:00",
        "津波到達予想時刻・予想される津波",
        [
            D(
                TSUNAMI_WARNING,
                UPDATE,
                "52",
                None,
                EXTREME,
                "大津波警報",
                4,
                ["201", "210", "220", "250"],
                0,
                [],
            ),
            D(
                TSUNAMI_WARNING,
                UPDATE,
                "51",
                None,
                SEVERE,
                "津波警報",
                4,
                ["101", "300", "310", "320"],
                0,
                [],
            ),
            D(
                TSUNAMI_ADVISORY,
                UPDATE,
                "62",
                None,
                MODERATE,
                "津波注意報",
                15,
                ["100", "102", "200"],
                0,
                [],
            ),
            D(
                TSUNAMI_INFO,
                UPDATE,
                "71",
                None,
                MINOR,
                "津波予報（若干の海面変動）",
                20,
                ["111", "202", "312"],
                0,
                [],
            ),
        ],
    ),
    "32-39_11_10_250206_VTSE51.xml": T(
        ACTUAL,
        "2011-03-11T15:01:00+09:00",
        "１１日１５時００分現在の、津波の",
        [
            D(
                TSUNAMI_INFO,
                ISSUE,
                None,
                None,
                EXTREME,
                "津波観測に関する情報",
                43,
                ["201", "210", "220"],
                0,
                [],
            ),
        ],
    ),
    "32-39_11_13_250206_VTSE41.xml": T(
        ACTUAL,
        "2011-03-13T17:58:00+09:00",
        "津波注意報を解除しました。",
        [
            D(
                TSUNAMI_ADVISORY,
                LIFT,
                "62",
                None,
                MODERATE,
                "津波注意報",
                0,
                [],
                15,
                ["100", "101", "102"],
            ),
            D(
                TSUNAMI_INFO,
                ISSUE,
                "71",
                None,
                MINOR,
                "津波予報（若干の海面変動）",
                66,
                ["100", "101", "102"],
                0,
                [],
            ),
        ],
    ),
    "32-39_12_06_250206_VTSE51.xml": T(
        EXERCISE,
        "2016-09-01T07:20:00+09:00",
        "＊＊＊これは訓練です＊＊＊\n\u3000１",
        [
            D(
                TSUNAMI_INFO,
                ISSUE,
                None,
                None,
                EXTREME,
                "津波観測に関する情報",
                66,
                ["300", "310", "311"],
                0,
                [],
            ),
        ],
    ),
    "32-39_12_07_250206_VTSE41.xml": T(
        EXERCISE,
        "2016-09-01T07:26:00+09:00",
        "＊＊＊これは訓練です＊＊＊\n東日",
        [
            D(
                TSUNAMI_WARNING,
                UPDATE,
                "52",
                None,
                EXTREME,
                "大津波警報",
                29,
                ["300", "310", "311"],
                0,
                [],
            ),
            D(
                TSUNAMI_WARNING,
                UPDATE,
                "51",
                None,
                SEVERE,
                "津波警報",
                15,
                ["100", "101", "102"],
                0,
                [],
            ),
            D(
                TSUNAMI_ADVISORY,
                UPDATE,
                "62",
                None,
                MODERATE,
                "津波注意報",
                22,
                ["110", "111", "120"],
                0,
                [],
            ),
        ],
    ),
    "32-39_12_10_250206_VTSE51.xml": T(
        EXERCISE,
        "2016-09-01T07:40:00+09:00",
        "＊＊＊これは訓練です＊＊＊\n\u3000１",
        [
            D(
                TSUNAMI_INFO,
                ISSUE,
                None,
                None,
                EXTREME,
                "津波観測に関する情報",
                66,
                ["300", "310", "311"],
                0,
                [],
            ),
        ],
    ),
    "32-39_12_12_250206_VTSE51.xml": T(
        EXERCISE,
        "2016-09-01T09:10:00+09:00",
        "＊＊＊これは訓練です＊＊＊\n\u3000１",
        [
            D(
                TSUNAMI_INFO,
                ISSUE,
                None,
                None,
                EXTREME,
                "津波観測に関する情報",
                66,
                ["300", "310", "311"],
                0,
                [],
            ),
        ],
    ),
    "32-39_13_02_250206_VTSE41.xml": T(
        EXERCISE,
        "2018-12-04T18:03:00+09:00",
        "＊＊＊これは訓練です＊＊＊\n津波",
        [
            D(
                TSUNAMI_ADVISORY,
                ISSUE,
                "62",
                None,
                MODERATE,
                "津波注意報",
                5,
                ["311", "312", "320"],
                0,
                [],
            ),
            D(
                TSUNAMI_INFO,
                ISSUE,
                "71",
                None,
                MINOR,
                "津波予報（若干の海面変動）",
                2,
                ["310", "390"],
                0,
                [],
            ),
        ],
    ),
    "32-39_13_03_250206_VTSE51.xml": T(
        EXERCISE,
        "2018-12-04T18:04:00+09:00",
        "＊＊＊これは訓練です＊＊＊\n各地",
        [
            D(
                TSUNAMI_INFO,
                ISSUE,
                None,
                None,
                MODERATE,
                "各地の満潮時刻・津波到達予想時刻に関する情報",
                7,
                ["311", "312", "320"],
                0,
                [],
            ),
        ],
    ),
    "38-39_02_01_250206_VTSE41.xml": T(
        ACTUAL,
        "2015-11-14T05:56:00+09:00",
        "津波注意報を発表しました。",
        [
            D(
                TSUNAMI_ADVISORY,
                ISSUE,
                "62",
                None,
                MODERATE,
                "津波注意報",
                3,
                ["771", "772", "773"],
                0,
                [],
            ),
            D(
                TSUNAMI_INFO,
                ISSUE,
                "71",
                None,
                MINOR,
                "津波予報（若干の海面変動）",
                7,
                ["610", "712", "730"],
                0,
                [],
            ),
        ],
    ),
    "38-39_02_03_250206_VTSE51.xml": T(
        ACTUAL,
        "2015-11-14T06:55:00+09:00",
        "１４日０６時５２分現在の、津波の",
        [
            D(
                TSUNAMI_INFO,
                ISSUE,
                None,
                None,
                MODERATE,
                "津波観測に関する情報",
                10,
                ["771", "772", "773"],
                0,
                [],
            ),
        ],
    ),
    "38-39_03_01_210805_VTSE41.xml": T(
        ACTUAL,
        "2021-08-05T12:56:00+09:00",
        "津波注意報を取り消します。",
        [
            D(TSUNAMI_WARNING, CANCEL, "52", None, EXTREME, "大津波警報", 0, [], 0, []),
            D(TSUNAMI_WARNING, CANCEL, "51", None, SEVERE, "津波警報", 0, [], 0, []),
            D(TSUNAMI_ADVISORY, CANCEL, "62", None, MODERATE, "津波注意報", 0, [], 0, []),
            D(TSUNAMI_INFO, CANCEL, "71", None, MINOR, "津波予報（若干の海面変動）", 0, [], 0, []),
        ],
    ),
    "38-39_03_02_210805_VTSE51.xml": T(
        ACTUAL,
        "2021-08-05T12:56:00+09:00",
        "各地の満潮時刻と津波到達予想時刻",
        [
            D(
                TSUNAMI_INFO,
                CANCEL,
                None,
                None,
                MINOR,
                "各地の満潮時刻・津波到達予想時刻に関する情報",
                0,
                [],
                0,
                [],
            ),
        ],
    ),
    "38_01_01_250624_VTSE51.xml": T(
        EXERCISE,
        "2025-06-06T19:45:00+09:00",
        "＊＊＊これは訓練です＊＊＊\n\u3000６",
        [
            D(
                TSUNAMI_INFO,
                ISSUE,
                None,
                None,
                EXTREME,
                "津波観測に関する情報",
                44,
                ["100", "101", "201"],
                0,
                [],
            ),
        ],
    ),
    "38_02_01_250710_VTSE51.xml": T(
        EXERCISE,
        "2025-07-02T19:30:00+09:00",
        "＊＊＊これは訓練です＊＊＊\n\u3000２",
        [
            D(
                TSUNAMI_INFO,
                ISSUE,
                None,
                None,
                EXTREME,
                "津波観測に関する情報",
                48,
                ["100", "101", "102"],
                0,
                [],
            ),
        ],
    ),
}


def read_sample(name: str) -> list[AlertDraft]:
    path = require_shared("jma-xml", name)
    return read_jma_telegram(path.read_bytes(), name)


def test_every_sample_in_the_shared_folder_is_listed() -> None:
    folder = require_shared("jma-xml")
    assert sorted(p.name for p in Path(folder).glob("*.xml")) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_telegram_reads_into_the_expected_drafts(name: str) -> None:
    # given a JMA sample telegram and what it says, read off the file
    expected = SAMPLES[name]

    # when it is read
    drafts = read_sample(name)

    # then every draft has the telegram's status, time and headline, and its own values
    for draft in drafts:
        assert draft.status is expected.status
        assert draft.issued_at == datetime.fromisoformat(expected.issued_at)
        assert draft.issued_at.utcoffset() is not None
        assert draft.headline_ja.startswith(expected.headline_start)
        assert draft.source_id.startswith("jma:")
        assert draft.event_key.startswith("jma:")
        assert draft.event_key.endswith("@exercise") == (expected.status is EXERCISE)
    assert [summary(d) for d in drafts] == expected.drafts


def test_weather_areas_are_jma_city_codes_and_keys_name_the_forecast_area_and_kind() -> None:
    drafts = {d.type_code: d for d in read_sample("15_16_03_241226_VPWW55.xml")}

    # the レベル４大雨危険警報 of 稚内市, which replaced its レベル３大雨警報 (LastKind)
    danger = drafts["43"]
    assert danger.event_key == "jma:warning:011000:43"
    assert danger.areas[0].scheme is AreaScheme.JMA_CITY
    assert (danger.areas[0].code, danger.areas[0].name) == ("0121400", "稚内市")
    assert danger.issuer == "稚内地方気象台"
    lifted = [a for a in drafts["03"].areas if a.action is LIFT]
    assert [(a.code, a.name) for a in lifted] == [("0121400", "稚内市")]


def test_earthquake_details_read_iso_6709_latitude_first() -> None:
    [quake] = read_sample("32-35_08_07_240613_VXSE53.xml")
    assert quake.event_key == "jma:earthquake:20100705065610"
    assert quake.details["hypocentre"] == "岩手県沖"
    assert (quake.details["latitude"], quake.details["longitude"]) == ("39.6", "142.7")
    assert quake.details["depth_km"] == "30"
    assert quake.details["magnitude"] == "6.3"
    assert quake.intensity == quake.details["max_intensity"] == "4"
    # seismic regions (地震情報／細分区域) and the municipalities in them, each with its 震度
    region, city = quake.areas[0], quake.areas[1]
    assert (region.scheme, region.code, region.name, region.intensity) == (
        AreaScheme.JMA_OTHER,
        "211",
        "岩手県沿岸南部",
        "4",
    )
    assert (city.scheme, city.code, city.name, city.intensity) == (
        AreaScheme.JMA_CITY,
        "0321000",
        "陸前高田市",
        "4",
    )
    # south and west are negative: 南緯１７．２度 東経１７８．６度, 南緯３６．１度 西経７２．６度
    [far] = read_sample("32-35_01_03_100514_VXSE53.xml")
    assert (far.details["latitude"], far.details["longitude"]) == ("-17.2", "178.6")
    assert far.details["depth_km"] == "570"
    [chile] = read_sample("32-39_05_04_100831_VXSE53.xml")
    assert (chile.details["latitude"], chile.details["longitude"]) == ("-36.1", "-72.6")
    assert "depth_km" not in chile.details  # 深さ不明


def test_later_telegrams_share_the_event_key_and_cancel_withdraws_it() -> None:
    # 震度速報, 震源に関する情報 and 震源・震度に関する情報 of one earthquake are one alert
    keys = {
        read_sample(name)[0].event_key
        for name in (
            "32-35_08_02_100915_VXSE51.xml",
            "32-35_08_06_240613_VXSE52.xml",
            "32-35_08_07_240613_VXSE53.xml",
        )
    }
    assert keys == {"jma:earthquake:20100705065610"}
    [cancel] = read_sample("32-39_05_12_100915_VXSE53.xml")
    [issued] = read_sample("32-39_05_08_100831_VXSE53.xml")
    assert (cancel.action, cancel.event_key, cancel.areas) == (CANCEL, issued.event_key, ())
    # a tsunami 取消 withdraws every category of the quake
    cancels = read_sample("38-39_03_01_210805_VTSE41.xml")
    assert {d.event_key for d in cancels} == {
        f"jma:tsunami:20210805103531:{code}" for code in ("52", "51", "62", "71")
    }
    assert {d.action for d in cancels} == {CANCEL}


def test_landslide_and_flood_telegrams_update_one_alert() -> None:
    keys = {read_sample(f"17_03_0{n}_190529_VXWW50.xml")[0].event_key for n in (1, 3, 5, 7, 9)}
    assert keys == {"jma:landslide:岡山県土砂災害警戒情報"}
    [lifted] = read_sample("17_04_03_250630_VXWW50.xml")
    assert lifted.event_key == read_sample("17_04_01_250630_VXWW50.xml")[0].event_key
    assert lifted.action is LIFT
    assert {a.action for a in lifted.areas} == {LIFT}
    [river] = read_sample("16_02_02_220728_VXKOii.xml")
    assert river.event_key == "jma:flood:890904000100"
    assert [(a.scheme, a.code, a.name) for a in river.areas[:3]] == [
        (AreaScheme.JMA_OTHER, "8909040001", "六角川"),
        (AreaScheme.JMA_OTHER, "8909040120", "武雄川"),
        (AreaScheme.JMA_CITY, "4120600", "武雄市"),
    ]


def test_a_duplicate_delivery_has_the_same_source_ids_and_twin_telegrams_do_not() -> None:
    name = "15_12_02_161130_VPWW53.xml"
    first, again = read_sample(name), read_sample(name)
    assert [d.source_id for d in first] == [d.source_id for d in again]
    assert len({d.source_id for d in first}) == len(first)
    # VPWW54 carries the same warnings in the H27 format: same alerts, another delivery
    twin = read_sample("15_12_02_161130_VPWW54.xml")
    assert [d.event_key for d in twin] == [d.event_key for d in first]
    assert not {d.source_id for d in twin} & {d.source_id for d in first}
    # the whitespace of a relay's copy does not make it another telegram
    path = require_shared("jma-xml", name)
    reindented = path.read_bytes().replace(b"\n<", b"\n  <")
    assert [d.source_id for d in read_jma_telegram(reindented, name)] == [
        d.source_id for d in first
    ]


def refused(data: bytes) -> JmaTelegramRefused:
    with pytest.raises(JmaTelegramRefused) as caught:
        read_jma_telegram(data, "feed.xml")
    problems = caught.value.problems
    assert problems
    for problem in problems:
        assert english_words(problem.message_ja) == [], problem.message_ja
    return caught.value


def test_hostile_xml_is_refused_before_anything_is_read() -> None:
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/">&lol3;</Report>"""
    external = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/"><Control><Title>&x;</Title></Control></Report>"""
    for data in (laughs, external):
        [problem] = refused(data).problems
        assert problem.message == (
            "XML with a DTD, entity declarations or external references is refused"
        )
    oversized = b"<Report>" + b" " * 100 + b"</Report>"
    with pytest.raises(JmaTelegramRefused) as caught:
        read_jma_telegram(oversized, "big.xml", max_bytes=50)
    assert "limit" in caught.value.problems[0].message


def test_documents_that_are_not_jma_telegrams_or_not_a_known_type_are_refused() -> None:
    cap = b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><status>Actual</status></alert>'
    [problem] = refused(cap).problems
    assert problem.message.startswith("not JMA disaster XML: the root element is 'alert'")

    path = require_shared("jma-xml", "18_01_01_100806_VPOA50.xml")
    text = path.read_bytes()
    volcano = text.replace(
        "記録的短時間大雨情報</Title>".encode(), "噴火警報・予報</Title>".encode(), 1
    )
    [problem] = refused(volcano).problems
    assert problem.message.startswith("telegram type '噴火警報・予報' is not one Kizuna reads")
    assert problem.line == 4

    odd = text.replace("<Status>通常</Status>".encode(), "<Status>本番</Status>".encode())
    odd = odd.replace("<InfoType>発表</InfoType>".encode(), "<InfoType>追加</InfoType>".encode())
    odd = odd.replace(b"2010-06-02T11:54:00+09:00</ReportDateTime>", b"soon</ReportDateTime>")
    messages = [p.message for p in refused(odd).problems]
    assert messages == [
        "Control/Status '本番' is not 通常, 訓練 or 試験",
        "Head/InfoType '追加' is not 発表, 訂正 or 取消",
        "Head/ReportDateTime 'soon' is not a date and time with a time zone",
    ]
