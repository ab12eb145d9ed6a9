"""What the readers of outside alert documents share: the refusal, element and text helpers,
times, municipality codes, and the hardened lxml parser used for schema validation.

Every reader first parses with ``ingest.xml_doc.load_xml`` (defusedxml: DTDs, entity
declarations and external references refused, element lines kept) and maps from that tree.
lxml only re-reads bytes defusedxml already accepted, to validate against an XML Schema, with
entities, DTD loading and network access off.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from lxml import etree

from ...ingest.problems import FileRefused, Problems
from ...ingest.xml_doc import XmlDocument
from ...municipalities.reference import normalize_code, reference_of

# Alerts are small documents: a CAP message with detailed polygons or an L-Alert report with
# hundreds of districts stays well under this; anything larger is refused before parsing.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
# Longest text kept from one element (a headline, a description); longer text is cut.
MAX_TEXT_CHARS = 10_000


class AlertDocumentRefused(FileRefused):
    """An alert document (CAP, EDXL-DE, L-Alert, JMA) refused whole, with its problems."""

    what = "alert document"
    what_ja = "警報・避難情報の文書"


def local_name(element: Element) -> str:
    """The tag without its namespace."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def namespace(element: Element) -> str:
    """The namespace of the tag ("" when it has none)."""
    tag = element.tag
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return ""


def children(element: Element, name: str) -> list[Element]:
    """Child elements with this local name, in any namespace."""
    return [child for child in element if local_name(child) == name]


def child(element: Element, name: str) -> Element | None:
    """The first child element with this local name, in any namespace."""
    for found in element:
        if local_name(found) == name:
            return found
    return None


def descendants(element: Element, name: str) -> Iterator[Element]:
    """Descendants (the element itself excluded) with this local name, in document order."""
    for found in element.iter():
        if found is not element and local_name(found) == name:
            yield found


def text_of(element: Element | None) -> str | None:
    """The stripped text of an element, cut to ``MAX_TEXT_CHARS``; None when empty."""
    if element is None or element.text is None:
        return None
    text = element.text.strip()
    return text[:MAX_TEXT_CHARS] if text else None


def child_text(element: Element, name: str) -> str | None:
    """The stripped text of the first child with this local name."""
    return text_of(child(element, name))


def parse_time(
    text: str | None,
    what: str,
    doc: XmlDocument,
    element: Element | None,
    problems: Problems,
    *,
    what_ja: str | None = None,
) -> datetime | None:
    """A timezone-aware time from an xs:dateTime with an offset; a problem when it is not one.

    ``what`` names the element in the English message, ``what_ja`` (default ``what``) in the
    Japanese one."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        problems.add(
            doc.line(element) if element is not None else None,
            f"{what} {text!r} is not a date and time with a time zone",
            f"{what_ja or what}の '{text}' が時差付きの日時ではありません",
        )
        return None
    return value


def municipality_code(raw: str) -> str | None:
    """The 5-digit code of a 5- or 6-digit JIS X 0402 code naming a municipality of Japan."""
    code = normalize_code(raw)
    return code if code is not None and reference_of(code) is not None else None


def bad_municipality_code(raw: str) -> tuple[str, str]:
    """Why a JIS X 0402 code was refused, in English and Japanese."""
    raw = raw.strip()
    if len(raw) == 6 and raw.isdigit() and normalize_code(raw) is None:
        return (
            f"municipality code {raw!r} has a wrong check digit",
            f"市区町村コード '{raw}' の検査数字が正しくありません",
        )
    return (
        f"{raw!r} is not the code of a municipality of Japan",
        f"'{raw}' は日本の市区町村コードではありません",
    )


_SPACES = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """Text with runs of white space made one space (for single-line fields)."""
    return _SPACES.sub(" ", text).strip()


# --- lxml, for XML Schema validation only ---------------------------------------------------


def hardened_parser() -> Any:
    """An lxml parser that expands no entity, loads no DTD and never touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_pis=True,
        remove_comments=True,
    )


def lxml_tree(data: bytes, problems: Problems) -> Any:
    """The lxml tree of bytes that ``load_xml`` already accepted (so no DTD, no entities)."""
    try:
        return etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:  # load_xml accepted it, so this is unexpected
        line = exc.lineno if isinstance(exc.lineno, int) else None
        problems.fail(line, f"invalid XML: {exc.msg}", "XMLとして読めません")
