"""Any alert document in: detection of CAP, EDXL-DE, SOAP, PCXML and JMA, envelopes unwrapped,
CAP inside an envelope validated where it stands, hostile and foreign documents refused."""

from __future__ import annotations

import importlib.util

import pytest

from backend.alerts.drafts import AlertAction, AlertSource
from backend.alerts.sources.cap import parse_cap
from backend.alerts.sources.edxl import parse_alert_document
from backend.ingest.problems import ImportRefused
from tests.alerts.lalert_documents import EDXL, document, soap_publish
from tests.ingest.wording import english_words
from tests.shared_data import require_shared


def cap_example(number: int) -> str:
    text = require_shared("cap", f"example{number}.xml").read_text(encoding="utf-8")
    return text.split("?>", 1)[1]  # without the XML declaration, to embed it


def distribution(*contents: str) -> str:
    objects = "".join(
        f"""
  <contentObject><xmlContent><embeddedXMLContent>{content}</embeddedXMLContent></xmlContent>
  </contentObject>"""
        for content in contents
    )
    return f"""<EDXLDistribution xmlns="{EDXL}">
  <distributionID>kizuna-test-1</distributionID>
  <senderID>relay@example.org</senderID>
  <dateTimeSent>2003-06-17T15:00:00-07:00</dateTimeSent>
  <distributionStatus>Actual</distributionStatus>
  <distributionType>Report</distributionType>
  <combinedConfidentiality>UNCLASSIFIED AND NOT SENSITIVE</combinedConfidentiality>{objects}
</EDXLDistribution>"""


def refused(data: bytes) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        parse_alert_document(data, "in.xml")
    for problem in caught.value.problems:
        assert english_words(problem.message_ja) == [], problem.message_ja
    return caught.value


def test_a_bare_cap_message_reads_as_parse_cap_reads_it() -> None:
    data = require_shared("cap", "example2.xml").read_bytes()
    assert parse_alert_document(data, "example2.xml") == parse_cap(data, "example2.xml")


def test_cap_messages_in_an_edxl_de_envelope_are_unwrapped() -> None:
    # given the specification's examples 2 and 3 in one EDXL-DE distribution
    data = document(distribution(cap_example(2), cap_example(3)))

    # when it is read
    drafts = parse_alert_document(data, "edxl.xml")

    # then both messages are read as they would be bare
    assert [(d.source, d.source_id, d.action) for d in drafts] == [
        (
            AlertSource.CAP,
            "KSTO@NWS.NOAA.GOV,KSTO1055887203,2003-06-17T14:57:00-07:00",
            AlertAction.ISSUE,
        ),
        (
            AlertSource.CAP,
            "trinet@caltech.edu,TRI13970876.2,2003-06-11T20:56:00-07:00",
            AlertAction.UPDATE,
        ),
    ]
    assert drafts[0] == parse_cap(require_shared("cap", "example2.xml").read_bytes())[0]


def test_cap_in_soap_is_unwrapped_too() -> None:
    [draft] = parse_alert_document(document(soap_publish(distribution(cap_example(1)))), "s.xml")
    assert draft.source_id == "hsas@dhs.gov,43b080713727,2003-04-02T14:39:01-05:00"


def test_an_invalid_cap_message_in_an_envelope_is_refused_at_its_own_line() -> None:
    # given a good message and, second, one with a wrong status, in one envelope
    bad = cap_example(1).replace("<status>Actual</status>", "<status>Real</status>")
    data = document(distribution(cap_example(4), bad))

    # when it is read
    error = refused(data)

    # then the schema error names the bad message's status line
    line = next(n for n, t in enumerate(data.decode().splitlines(), 1) if "<status>Real" in t)
    assert error.problems[0].line == line
    assert error.problems[0].message_ja == (
        "'status' 要素が共通警報プロトコル1.2のスキーマに合いません"
    )


def test_an_envelope_without_alerts_is_refused() -> None:
    error = refused(document(distribution("<other xmlns='urn:example'/>")))
    assert [p.message for p in error.problems] == [
        "unsupported content '{urn:example}other' in the EDXL-DE envelope",
        "the EDXL-DE envelope holds no CAP alert, L-Alert report or JMA telegram",
    ]


def test_a_soap_fault_is_refused_with_its_reason() -> None:
    fault = b"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
<soap:Body><soap:Fault><faultcode>soap:Server</faultcode><faultstring>busy</faultstring>
</soap:Fault></soap:Body></soap:Envelope>"""
    assert refused(fault).problems[0].message == "SOAP fault, not an alert: 'busy'"


def test_foreign_documents_are_refused() -> None:
    [problem] = refused(b"<rss version='2.0'><channel/></rss>").problems
    assert problem.message.startswith("not an alert document: the root element 'rss' is none of")


def test_jma_telegrams_go_to_the_jma_reader() -> None:
    data = require_shared("jma-xml", "15_08_01_130412_VPWW53.xml").read_bytes()
    if importlib.util.find_spec("backend.alerts.sources.jma") is None:
        # the JMA reader is written on another branch: until it is merged, refused clearly
        [problem] = refused(data).problems
        assert problem.message == "JMA disaster XML is not supported by this build"
    else:
        drafts = parse_alert_document(data, "VPWW53.xml")
        assert drafts and all(d.source is AlertSource.JMA for d in drafts)


@pytest.mark.parametrize(
    "data",
    [
        b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&c;
</soap:Body></soap:Envelope>""",
        b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<EDXLDistribution xmlns="urn:oasis:names:tc:emergency:EDXL:DE:1.0">&x;</EDXLDistribution>""",
    ],
    ids=["billion-laughs-in-soap", "external-entity-in-edxl"],
)
def test_hostile_envelopes_are_refused(data: bytes) -> None:
    [problem] = refused(data).problems
    assert problem.message == (
        "XML with a DTD, entity declarations or external references is refused"
    )


def test_size_is_capped_before_parsing() -> None:
    with pytest.raises(ImportRefused) as caught:
        parse_alert_document(b"<x/>" * 300, "big.xml", max_bytes=1000)
    assert caught.value.problems[0].message == "file is 1,200 bytes, the limit is 1,000 bytes"
