"""Any alert document from outside into ``AlertDraft``s: CAP, EDXL-DE, SOAP, PCXML or JMA.

``parse_alert_document`` looks at the root element and unwraps what carries an alert:
a SOAP 1.1 envelope (L-Alert's ``publish`` message), an OASIS EDXL-DE 1.0 distribution
(``contentObject/xmlContent/embeddedXMLContent``, under the EDXL namespace or L-Alert's
``commons:`` one), and hands each alert to its reader: CAP 1.2 (``cap``), L-Alert PCXML
(``lalert``) or JMA disaster XML (``jma``).
"""

from __future__ import annotations

from dataclasses import replace
from xml.etree.ElementTree import Element

from ...ingest.files import check_size
from ...ingest.problems import Problems
from ...ingest.xml_doc import XmlDocument, load_xml
from ..drafts import AlertDraft
from . import lalert
from .cap import CAP_ALERT, cap_drafts
from .common import (
    MAX_DOCUMENT_BYTES,
    AlertDocumentRefused,
    child,
    child_text,
    local_name,
    namespace,
)
from .jma import parse_jma

EDXL_NS = "urn:oasis:names:tc:emergency:EDXL:DE:1.0"
EDXL_DISTRIBUTION = f"{{{EDXL_NS}}}EDXLDistribution"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENVELOPE = f"{{{SOAP_NS}}}Envelope"
JMA_NS_PREFIX = "http://xml.kishou.go.jp/jmaxml1/"
MAX_CONTENT_OBJECTS = 20


def parse_alert_document(
    data: bytes, name: str, *, max_bytes: int = MAX_DOCUMENT_BYTES
) -> list[AlertDraft]:
    """The drafts of any supported alert document; raises AlertDocumentRefused (an
    ``ImportRefused``) listing its problems. Size checked before parsing."""
    problems = Problems(name, AlertDocumentRefused)
    check_size(data, max_bytes, problems)
    doc = load_xml(data, problems)
    drafts = _read(doc, doc.root, data, problems)
    problems.raise_if_any()
    return drafts


def _read(doc: XmlDocument, root: Element, data: bytes, problems: Problems) -> list[AlertDraft]:
    if root.tag == SOAP_ENVELOPE:
        root = _soap_payload(doc, root, problems)
    if root.tag == CAP_ALERT:
        return cap_drafts(doc, [root], data, problems)
    if root.tag == EDXL_DISTRIBUTION:
        return _edxl(doc, root, data, problems)
    if lalert.pcxml_version(root) is not None:
        return lalert.report_drafts(doc, root, None, problems)
    if namespace(root).startswith(JMA_NS_PREFIX):
        return _jma(doc, root, problems)
    problems.fail(
        doc.line(root),
        f"not an alert document: the root element {root.tag!r} is none of CAP 1.2 alert, "
        "EDXL-DE 1.0 distribution, SOAP envelope, L-Alert PCXML report or JMA telegram",
        f"警報・避難情報の文書ではありません（最上位の要素 '{local_name(root)}' は"
        "共通警報プロトコル、緊急データ配信の封筒、公共情報コモンズの報告、気象庁防災情報XMLの"
        "いずれでもありません）",
    )


def _soap_payload(doc: XmlDocument, envelope: Element, problems: Problems) -> Element:
    """The document a SOAP 1.1 message carries: L-Alert's ``publish/message`` content."""
    body = child(envelope, "Body")
    operation = next(iter(body), None) if body is not None else None
    if operation is None:
        problems.fail(doc.line(envelope), "SOAP envelope with an empty Body",
                      "メッセージ本体が空です")  # fmt: skip
    if local_name(operation) == "Fault":
        reason = child_text(operation, "faultstring") or ""
        problems.fail(
            doc.line(operation),
            f"SOAP fault, not an alert: {reason!r}"[:300],
            f"エラー応答であり警報ではありません（'{reason[:100]}'）",
        )
    if local_name(operation) == "publish":
        message = child(operation, "message")
        payload = next(iter(message), None) if message is not None else None
        if payload is None:
            problems.fail(doc.line(operation), "SOAP publish message without content",
                          "配信メッセージに内容がありません")  # fmt: skip
        return payload
    # A SOAP message carrying the document itself (CAP exchanges do this) is read as well.
    return operation


def _edxl(doc: XmlDocument, root: Element, data: bytes, problems: Problems) -> list[AlertDraft]:
    contents = [c for c in root if local_name(c) == "contentObject"]
    if len(contents) > MAX_CONTENT_OBJECTS:
        problems.fail(
            doc.line(root),
            f"{len(contents)} content objects, the limit is {MAX_CONTENT_OBJECTS}",
            f"配信内容が {len(contents)} 件あり、上限の {MAX_CONTENT_OBJECTS} 件を超えています",
        )
    cap_alerts: list[Element] = []
    reports: list[tuple[Element, Element]] = []
    telegrams: list[Element] = []
    for content in contents:
        xml_content = child(content, "xmlContent")
        embedded = child(xml_content, "embeddedXMLContent") if xml_content is not None else None
        for item in embedded if embedded is not None else ():
            if item.tag == CAP_ALERT:
                cap_alerts.append(item)
            elif lalert.pcxml_version(item) is not None:
                reports.append((content, item))
            elif namespace(item).startswith(JMA_NS_PREFIX):
                telegrams.append(item)
            else:
                problems.add(
                    doc.line(item),
                    f"unsupported content {item.tag!r} in the EDXL-DE envelope"[:300],
                    f"封筒の中の '{local_name(item)}' には対応していません",
                )
    if not (cap_alerts or reports or telegrams):
        problems.fail(
            doc.line(root),
            "the EDXL-DE envelope holds no CAP alert, L-Alert report or JMA telegram",
            "封筒の中に共通警報プロトコルの警報、公共情報コモンズの報告、気象庁防災情報XMLの"
            "いずれもありません",
        )
    problems.raise_if_any()
    drafts: list[AlertDraft] = []
    if cap_alerts:
        drafts.extend(cap_drafts(doc, cap_alerts, data, problems))
    # Shelters opened (避難所情報) travel beside the evacuation report in the same envelope.
    shelters = tuple(name for _, report in reports for name in lalert.opened_shelters(report))
    for content, report in reports:
        envelope = lalert.read_envelope(doc, root, content, problems)
        envelope = replace(envelope, shelters_opened=shelters)
        drafts.extend(lalert.report_drafts(doc, report, envelope, problems))
    for telegram in telegrams:
        drafts.extend(_jma(doc, telegram, problems))
    return drafts


def _jma(doc: XmlDocument, root: Element, problems: Problems) -> list[AlertDraft]:
    """A JMA telegram, read by the JMA reader."""
    telegram = doc if root is doc.root else XmlDocument(root, doc.lines)
    return parse_jma(telegram, problems)
