"""`kizuna import support-register` as city staff run it on their municipality's export.

Every person in these files is synthetic (架空)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from backend.config import get_settings
from backend.db.session import Database
from backend.plans import register, register_service
from tests.cli import fresh_cli_env, kizuna

HEADER = (
    "名簿番号,氏名,ふりがな,生年月日,性別,住所,電話番号,要介護度,身体障害者手帳,療育手帳,"
    "精神障害者保健福祉手帳,難病,独居高齢者,その他の理由,同意状況"
)
ROWS = [
    "1001,架空 一子,かくう いちこ,昭和15年4月1日,女,会津若松市架空町1,0242-00-1001,"
    "要介護3,,,,,○,,同意",
    "1002,架空 二郎,カクウ ジロウ,S20.8.15,男,会津若松市架空町2,,,2級,,,パーキンソン病,,,不同意",
    "1003,架空 三枝,,1960-12-01,,会津若松市架空町3,０２４２－００－１００３,,,A1,1級,,,夜間独り,",
]


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("register-cli")
    env = asyncio.run(fresh_cli_env(database_url, "register_cli", tmp))
    assert kizuna(env, "migrate")[0] == 0
    yield env
    get_settings.cache_clear()


def _write(path: Path, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


async def _entries(url: str, code: str = "07202") -> dict[str, Any]:
    database = Database.from_url(url)
    try:
        async with database.session() as session:
            entries = await register_service.entries_of(session, code)
            return {e.register_number: register_service.entry_values(e) for e in entries}
    finally:
        await database.dispose()


def _import(env: dict[str, str], path: Path, *extra: str) -> tuple[int, str]:
    return kizuna(env, "import", "support-register", str(path), "--municipality", "07202", *extra)


def test_import_shift_jis_then_reimport_updates_and_reports_missing(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    url = cli_env["KIZUNA_DATABASE_URL"]
    # given a municipal Excel export in Shift_JIS with Japanese headers and 和暦 dates
    sjis = _write(tmp_path / "meibo-sjis.csv", [HEADER, *ROWS], "cp932")
    # when it is imported
    code, output = _import(cli_env, sjis)
    # then every typed field is stored, and the summary counts them
    assert code == 0, output
    assert "support register of 07202: 3 new, 0 updated, 0 unchanged" in output
    stored = asyncio.run(_entries(url))
    assert stored["1001"] | {"reasons": None} == {
        "register_number": "1001",
        "name": "架空 一子",
        "kana": "かくう いちこ",
        "birth_date": date(1940, 4, 1),
        "gender": "female",
        "address": "会津若松市架空町1",
        "phone": "0242-00-1001",
        "reasons": None,
        "consent_status": "agreed",
    }
    assert stored["1001"]["reasons"] == [
        {"kind": "care_level", "value": "要介護3"},
        {"kind": "elderly_alone", "value": None},
    ]
    assert stored["1002"]["kana"] == "かくう じろう"
    assert stored["1002"]["birth_date"] == date(1945, 8, 15)
    assert stored["1002"]["reasons"] == [
        {"kind": "physical_disability", "value": "2級"},
        {"kind": "intractable_disease", "value": "パーキンソン病"},
    ]
    assert stored["1002"]["consent_status"] == "refused"
    assert stored["1003"]["phone"] == "0242-00-1003"
    assert stored["1003"]["reasons"] == [
        {"kind": "intellectual_disability", "value": "A1"},
        {"kind": "mental_disability", "value": "1級"},
        {"kind": "other", "value": "夜間独り"},
    ]
    assert stored["1003"]["consent_status"] == "unanswered"
    # when the same register comes again as UTF-8 (with BOM)
    utf8 = _write(tmp_path / "meibo-utf8.csv", [HEADER, *ROWS])
    code, output = _import(cli_env, utf8)
    # then nothing changes
    assert code == 0, output
    assert "0 new, 0 updated, 3 unchanged" in output
    # when a later export changes one person and no longer lists another
    changed = ROWS[0].replace("要介護3", "要介護4")
    code, output = _import(cli_env, _write(tmp_path / "later.csv", [HEADER, changed, ROWS[1]]))
    # then the change is stored and the missing entry kept, and named
    assert code == 0, output
    assert "0 new, 1 updated, 1 unchanged" in output
    assert "1 entries are not in the file and were kept" in output and "1003" in output
    assert set(asyncio.run(_entries(url))) == {"1001", "1002", "1003"}
    assert asyncio.run(_entries(url))["1001"]["reasons"][0]["value"] == "要介護4"
    # when it is imported again with --remove-missing
    code, output = _import(
        cli_env, _write(tmp_path / "later.csv", [HEADER, changed, ROWS[1]]), "--remove-missing"
    )
    # then the entry is gone
    assert code == 0, output
    assert "removed 1 entries not in the file (0 were linked to residents): 1003" in output
    assert set(asyncio.run(_entries(url))) == {"1001", "1002"}


def test_a_bad_file_is_refused_whole_with_every_line_and_column(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    url = cli_env["KIZUNA_DATABASE_URL"]
    before = asyncio.run(_entries(url))
    # given a file with good rows and bad cells on several lines
    bad = _write(
        tmp_path / "bad.csv",
        [
            HEADER,
            "2001,架空 良子,,1950-01-01,,,,,,,,,,,同意",
            "2002,架空 悪子,,昭和65年1月1日,女,,123,要介護9,,,,,,,",
            "2003,,,,,,,,7級,C,,,たぶん,,まだ",
            "2001,架空 重複,,,,,,,,,,,,,",
        ],
        "cp932",
    )
    # when it is imported
    code, output = _import(cli_env, bad)
    # then it is refused, naming each bad cell by line and column, and nothing is stored
    assert code == 1
    for expected in (
        "bad.csv:3: column 生年月日",
        "bad.csv:3: column 電話番号",
        "bad.csv:3: column 要介護度",
        "bad.csv:4: column 氏名",
        "bad.csv:4: column 身体障害者手帳",
        "bad.csv:4: column 療育手帳",
        "bad.csv:4: column 独居高齢者",
        "bad.csv:4: column 同意状況",
        "bad.csv:5: register number 2001 is already on line 2",
    ):
        assert expected in output, output
    assert "9 problem(s)" in output
    assert asyncio.run(_entries(url)) == before


def test_headers_size_and_municipality_are_checked_first(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = cli_env["KIZUNA_DATABASE_URL"]
    before = asyncio.run(_entries(url))
    # a file without the number column
    code, output = _import(cli_env, _write(tmp_path / "nohead.csv", ["氏名", "架空"]))
    assert code == 1 and "missing columns: register_number" in output
    # a file over the size limit, or with too many rows, is refused before parsing
    monkeypatch.setattr(register, "MAX_FILE_BYTES", 100)
    big = _write(tmp_path / "big.csv", [HEADER, *ROWS])
    code, output = _import(cli_env, big)
    assert code == 1 and "the limit is 100 bytes" in output
    monkeypatch.setattr(register, "MAX_FILE_BYTES", 10_000)
    monkeypatch.setattr(register, "MAX_ROWS", 2)
    code, output = _import(cli_env, big)
    assert code == 1 and "at most 2 rows" in output
    # an unknown municipality
    monkeypatch.setattr(register, "MAX_ROWS", 100)
    english = _write(tmp_path / "en.csv", ["register_number,name,care_level", "E-1,Kakuu,care2"])
    code, output = kizuna(
        cli_env, "import", "support-register", str(english), "--municipality", "99999"
    )
    assert code == 1 and "municipality not found" in output
    assert asyncio.run(_entries(url)) == before
    # and English headers are read as the Japanese ones
    code, output = kizuna(
        cli_env, "import", "support-register", str(english), "--municipality", "07201"
    )
    assert code == 0 and "1 new" in output, output
    assert asyncio.run(_entries(url, "07201"))["E-1"]["reasons"] == [
        {"kind": "care_level", "value": "要介護2"}
    ]
