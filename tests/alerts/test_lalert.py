"""L-Alert (公共情報コモンズ) evacuation reports, PCXML versions 2 and 3, bare, in an EDXL-DE
envelope and in a SOAP ``publish`` message (documents from ``lalert_documents``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backend.alerts.drafts import (
    AlertAction,
    AlertArea,
    AlertKind,
    AlertSource,
    AlertStatus,
    AreaScheme,
    Severity,
)
from backend.alerts.sources.edxl import parse_alert_document
from backend.ingest.problems import ImportRefused
from tests.alerts.lalert_documents import (
    Detail,
    document,
    envelope,
    report,
    shelter_report,
    soap_publish,
)
from tests.ingest.wording import english_words

JST = timezone(timedelta(hours=9))
ORDER = [
    Detail("避難指示", "発令", ("一箕町大字八幡", "門田町大字黒岩")),
    Detail("高齢者等避難", "発令", ("河東町浅山",)),
]


def refused(data: bytes) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        parse_alert_document(data, "l-alert.xml")
    for problem in caught.value.problems:
        assert english_words(problem.message_ja) == [], problem.message_ja
    return caught.value


@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize("wrapping", ["edxl", "soap"])
def test_an_evacuation_order_reaches_every_district_with_its_level(
    version: int, wrapping: str
) -> None:
    # given a 避難指示 for two districts and 高齢者等避難 for a third, in an envelope
    distribution = envelope(("EvacuationOrder", report(version, ORDER)))
    data = document(soap_publish(distribution) if wrapping == "soap" else distribution)

    # when it is read
    [draft] = parse_alert_document(data, "order.xml")

    # then one draft names each district of 会津若松市 with the level issued for it
    assert draft.source is AlertSource.L_ALERT
    assert draft.source_id == "5d0c2f4e-8a61-4b9e-a1f3-27c9e0b6d418"
    assert draft.event_key == "l-alert:doc-EvacuationOrder"
    assert (draft.kind, draft.action, draft.status) == (
        AlertKind.EVACUATION,
        AlertAction.ISSUE,
        AlertStatus.ACTUAL,
    )
    assert (draft.level, draft.title_ja, draft.severity) == (4, "避難指示", Severity.SEVERE)
    assert draft.headline_ja == "警戒レベル4 避難指示を発令しました"
    assert draft.body_ja == "土砂災害の危険が高まっています。"
    assert draft.issuer == "福島県会津若松市"
    assert draft.issued_at == datetime(2025, 7, 1, 10, 0, tzinfo=JST)
    assert draft.effective_at == datetime(2025, 7, 1, 10, 0, tzinfo=JST)
    assert draft.expires_at == datetime(2025, 7, 3, 10, 0, tzinfo=JST)
    assert draft.areas == (
        AlertArea(AreaScheme.TOWN, "一箕町大字八幡", code="07202", level=4),
        AlertArea(AreaScheme.TOWN, "門田町大字黒岩", code="07202", level=4),
        AlertArea(AreaScheme.TOWN, "河東町浅山", code="07202", level=3),
    )
    assert draft.details == {
        "municipality_code": "07202",
        "disaster": "令和7年7月大雨",
        "households": "120",
        "head_count": "310",
        "document_revision": "1",
    }


@pytest.mark.parametrize("version", [2, 3])
def test_a_bare_report_names_its_municipality_in_its_head(version: int) -> None:
    # given a bare PCXML report (no envelope): 緊急安全確保 for the whole municipality
    data = document(
        report(
            version,
            [Detail("緊急安全確保", "発令", ())],
            head_code="072028",
            headline="警戒レベル5 緊急安全確保",
        )
    )

    # when it is read
    [draft] = parse_alert_document(data, "bare.xml")

    # then the municipality comes from the head, the ids from the head too
    assert draft.areas == (AlertArea(AreaScheme.MUNICIPALITY, "会津若松市", code="07202", level=5),)
    assert (draft.level, draft.title_ja, draft.severity) == (5, "緊急安全確保", Severity.EXTREME)
    assert draft.source_id == "head-0f9a1c3e-5b7d-4e21-9c8a-6d2b4f1e7a90-1"
    assert draft.event_key == "l-alert:0f9a1c3e-5b7d-4e21-9c8a-6d2b4f1e7a90"


@pytest.mark.parametrize(
    ("sort", "level"),
    [
        ("高齢者等避難", 3),
        ("避難準備・高齢者等避難開始", 3),
        ("避難勧告", 4),
        ("避難指示（緊急）", 4),
        ("避難指示", 4),
        ("緊急安全確保", 5),
        ("災害発生情報", 5),
    ],
)
def test_old_and_new_names_of_evacuation_information_give_their_level(
    sort: str, level: int
) -> None:
    data = document(
        envelope(("EvacuationOrder", report(3, [Detail(sort, "発令", ("大戸町石村",))])))
    )
    [draft] = parse_alert_document(data, "a.xml")
    assert (draft.level, draft.title_ja) == (level, sort.replace("（", "(").replace("）", ")"))


def test_a_later_revision_updates_and_lifting_every_district_lifts() -> None:
    # given revision 2 lifting one district while the order stays for another, then revision 3
    # lifting the rest
    partly = report(
        3,
        [
            Detail("避難指示", "解除", ("一箕町大字八幡",)),
            Detail("避難指示", "発令", ("門田町大字黒岩",)),
        ],
        revision=2,
        distribution_type="Update",
    )
    all_lifted = report(
        3,
        [Detail("避難指示", "解除", ("門田町大字黒岩",))],
        revision=3,
        distribution_type="Update",
        headline="避難指示を解除しました",
    )

    # when they are read
    [update] = parse_alert_document(
        document(envelope(("EvacuationOrder", partly), revision=2, distribution_type="Update")),
        "r2.xml",
    )
    [lift] = parse_alert_document(
        document(envelope(("EvacuationOrder", all_lifted), revision=3, distribution_type="Update")),
        "r3.xml",
    )

    # then the update lifts one area and keeps the other; the last lifts the alert
    assert update.action is AlertAction.UPDATE
    assert update.event_key == lift.event_key == "l-alert:doc-EvacuationOrder"
    assert update.areas == (
        AlertArea(
            AreaScheme.TOWN, "一箕町大字八幡", code="07202", level=4, action=AlertAction.LIFT
        ),
        AlertArea(AreaScheme.TOWN, "門田町大字黒岩", code="07202", level=4),
    )
    assert update.details["document_revision"] == "2"
    assert (lift.action, lift.headline_ja) == (AlertAction.LIFT, "避難指示を解除しました")


def test_cancel_and_exercise_are_kept_as_such() -> None:
    cancelled = document(
        envelope(("EvacuationOrder", report(3, ORDER)), distribution_type="Cancel")
    )
    exercise = document(envelope(("EvacuationOrder", report(3, ORDER)), status="Exercise"))
    [cancel] = parse_alert_document(cancelled, "cancel.xml")
    [drill] = parse_alert_document(exercise, "drill.xml")
    assert cancel.action is AlertAction.CANCEL
    assert (drill.status, drill.action) == (AlertStatus.EXERCISE, AlertAction.ISSUE)


def test_shelters_opened_in_the_same_envelope_are_attached() -> None:
    # given the order and the shelter report (two open, one closed) in one distribution
    data = document(
        envelope(
            ("EvacuationOrder", report(3, ORDER)),
            ("Shelter", shelter_report(["鶴城小学校", "一箕小学校"], ["謹教小学校"])),
        )
    )

    # when it is read
    [draft] = parse_alert_document(data, "with-shelters.xml")

    # then the open shelters are listed with the order
    assert draft.details["shelters_opened"] == "鶴城小学校、一箕小学校"
    assert draft.details["shelters_opened_count"] == "2"


def test_a_shelter_report_alone_is_no_alert() -> None:
    data = document(envelope(("Shelter", shelter_report(["鶴城小学校"], []))))
    assert parse_alert_document(data, "shelters.xml") == []


@pytest.mark.parametrize(
    ("target", "message", "message_ja"),
    [
        (
            "072021",
            "municipality code '072021' has a wrong check digit",
            "市区町村コード '072021' の検査数字が正しくありません",
        ),
        (
            "07202",
            "municipality code '07202' must be the 6-digit JIS X 0402 code with its check digit",
            "団体コード '07202' は検査数字付きの6桁で書いてください",
        ),
        (
            "999997",
            "'999997' is not the code of a municipality of Japan",
            "'999997' は日本の市区町村コードではありません",
        ),
    ],
)
def test_a_wrong_municipality_code_is_refused(target: str, message: str, message_ja: str) -> None:
    data = document(envelope(("EvacuationOrder", report(3, ORDER)), target=target))
    problem = refused(data).problems[0]
    line = next(n for n, t in enumerate(data.decode().splitlines(), 1) if "jisX0402" in t)
    assert (problem.line, problem.message, problem.message_ja) == (line, message, message_ja)


def test_an_unknown_evacuation_category_is_refused() -> None:
    data = document(envelope(("EvacuationOrder", report(3, [Detail("自主避難", "発令", ("x",))]))))
    [problem] = refused(data).problems
    assert problem.message == "unknown evacuation category (Sort) '自主避難'"


def test_unsupported_versions_and_categories_are_refused() -> None:
    newer = document(envelope(("EvacuationOrder", report(9, ORDER))))
    mail = document(
        envelope(
            (
                "UrgentMail",
                '<Report xmlns="http://xml.publiccommons.ne.jp/pcxml1/3"><Control>'
                "<Title>UrgentMail</Title></Control></Report>",
            )
        )
    )
    assert refused(newer).problems[0].message == (
        "L-Alert PCXML version 9 is not supported (supported: 2, 3, 4)"
    )
    assert refused(mail).problems[0].message == (
        "L-Alert report of category 'UrgentMail' is not supported: Kizuna reads evacuation "
        "information (EvacuationOrder) and shelters"
    )


def test_caps_on_districts_are_counted_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.alerts.sources import lalert

    monkeypatch.setattr(lalert, "MAX_DISTRICTS", 2)
    [problem] = refused(document(envelope(("EvacuationOrder", report(3, ORDER))))).problems
    assert problem.message == "2 details with 3 districts, the limits are 50 and 2"


def test_a_plain_edxl_target_area_beside_the_commons_one_is_passed_over() -> None:
    plain = "<edxlde:targetArea><edxlde:circle>37.49,139.93 10</edxlde:circle></edxlde:targetArea>"
    # given the report of 喜多方市 (072087) relayed with a plain EDXL-DE target area first
    distribution = envelope(("EvacuationOrder", report(3, ORDER)), target="072087").replace(
        "<commons:targetArea>", plain + "<commons:targetArea>"
    )
    [draft] = parse_alert_document(document(distribution), "two-targets.xml")
    # then the municipality is the one of commons:targetArea
    assert {area.code for area in draft.areas} == {"07208"}
