"""`kizuna ingest jma|cap|l-alert` as an operator runs it on the real sample telegrams."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.config import get_settings
from tests.alerts.lalert_documents import Detail, document, envelope, report
from tests.cli import fresh_cli_env, kizuna
from tests.shared_data import require_shared

EXAMPLES = Path(__file__).resolve().parents[2] / "backend" / "alerts" / "examples"


@pytest.fixture(scope="module")
def cli_env(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    tmp = tmp_path_factory.mktemp("ingest-cli")
    yield asyncio.run(fresh_cli_env(database_url, "ingest_cli", tmp))
    get_settings.cache_clear()


def test_every_jma_sample_ingests_and_a_second_delivery_is_ignored(
    cli_env: dict[str, str],
) -> None:
    folder = require_shared("jma-xml")
    pattern = str(folder / "*.xml")
    # when an operator ingests all 76 official sample telegrams
    code, output = kizuna(cli_env, "ingest", "jma", pattern)
    assert code == 0, output
    lines = output.splitlines()
    assert {line.split(":")[0] for line in lines} == {p.name for p in folder.glob("*.xml")}
    assert not any("duplicate" in line for line in lines if "VPWW5" in line[:30])
    # when the same telegrams arrive again, then every one of them is recognised and ignored
    code, again = kizuna(cli_env, "ingest", "jma", pattern)
    assert code == 0, again
    assert all(line.endswith("resident(s) concerned") for line in again.splitlines())
    assert all("duplicate (ignored)" in line for line in again.splitlines())


def test_cap_examples_ingest_and_a_cap_file_is_not_taken_for_jma(
    cli_env: dict[str, str],
) -> None:
    folder = require_shared("cap")
    code, output = kizuna(cli_env, "ingest", "cap", str(folder / "example*.xml"))
    assert code == 0, output
    assert len(output.splitlines()) >= 4
    code, output = kizuna(cli_env, "ingest", "jma", str(EXAMPLES / "aizu-demo-evacuation.cap.xml"))
    assert code == 1
    assert "expected JMA disaster XML, found CAP 1.2" in output
    assert "1 of 1 document(s) refused" in output


def test_an_l_alert_report_and_a_hostile_file_in_one_run(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    good = tmp_path / "report.xml"
    evacuation = report(3, [Detail("避難指示", "発令", ("門田町大字黒岩",))])
    good.write_bytes(document(envelope(("EvacuationOrder", evacuation))))
    hostile = tmp_path / "laughs.xml"
    hostile.write_bytes(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    code, output = kizuna(cli_env, "ingest", "l-alert", str(good), str(hostile))
    # then the good one is stored, the hostile one refused, and the command says so
    assert code == 1
    assert "report.xml: evacuation" in output
    assert "laughs.xml: refused" in output and "DTD" in output
