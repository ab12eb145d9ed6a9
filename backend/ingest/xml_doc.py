"""XML import files from outside (JMA disaster XML, CAP): parsed safely, with element lines.

Feeds are hostile input: defusedxml refuses a DTD, entity declarations and external
references (no billion laughs, no file or network reads), and the size cap of the file is
checked before parsing. ElementTree keeps no positions, so the line each element starts on is
recorded while parsing, for messages such as 「x.xml（12行目）: …」.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from .problems import Problems


@dataclass(frozen=True, slots=True)
class XmlDocument:
    """A parsed document and the 1-based line each of its elements starts on."""

    root: Element
    lines: dict[Element, int]

    def line(self, element: Element) -> int | None:
        """Where an element starts (None for one built later)."""
        return self.lines.get(element)


class _LineRecorder(TreeBuilder):
    def __init__(self) -> None:
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.lines: dict[Element, int] = {}

    def start(self, tag: Any, attrs: dict[str, str], /) -> Element:
        element = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[element] = self.parser.parser.CurrentLineNumber
        return element


def load_xml(data: bytes, problems: Problems) -> XmlDocument:
    """Parse XML that came from outside; failures name the line, DTDs and entities refused."""
    recorder = _LineRecorder()
    parser = DefusedXMLParser(target=recorder, forbid_dtd=True)
    recorder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except ParseError as exc:
        line, column = exc.position
        problems.fail(
            line,
            f"invalid XML at line {line} column {column + 1}",
            f"XMLとして読めません（{line}行{column + 1}列目）",
        )
    except DefusedXmlException:
        problems.fail(
            None,
            "XML with a DTD, entity declarations or external references is refused",
            "DTD、実体の宣言または外部参照を含むXMLは受け付けません",
        )
    return XmlDocument(root, recorder.lines)
