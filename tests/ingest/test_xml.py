"""XML from outside (JMA disaster XML, CAP): parsed with element lines, hostile ones refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.ingest.files import read_capped
from backend.ingest.problems import ImportRefused, Problems
from backend.ingest.xml_doc import load_xml
from tests.ingest.wording import english_words
from tests.shared_data import require_shared


def lines_of(path: Path, tag: str) -> list[int]:
    text = path.read_text(encoding="utf-8")
    return [n for n, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith(tag)]


@pytest.mark.parametrize(
    ("relative", "tag", "element"),
    [
        (("jma-xml", "15_08_01_130412_VPWW53.xml"), "<Kind>", "}Kind"),
        (("cap", "example1.xml"), "<parameter>", "}parameter"),
    ],
    ids=["jma-warning", "cap"],
)
def test_real_feeds_parse_with_the_line_of_every_element(
    relative: tuple[str, ...], tag: str, element: str
) -> None:
    # given a real JMA warning telegram and the CAP 1.2 specification's first example
    path = require_shared(*relative)

    # when it is read and parsed as an importer would
    document = load_xml(read_capped(path, 1_000_000, Problems(str(path))), Problems(str(path)))

    # then every element of the kind (in any namespace) starts on the line the text shows
    found = [document.line(e) for e in document.root.iter() if e.tag.endswith(element)]
    assert found and found == lines_of(path, tag)
    assert document.line(document.root) == 2


def refusal(data: bytes) -> ImportRefused:
    with pytest.raises(ImportRefused) as refused:
        load_xml(data, Problems("feed.xml"))
    return refused.value


def test_entity_expansion_and_external_entities_are_refused() -> None:
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Report>&lol2;</Report>"""
    external = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Report>&x;</Report>"""
    for data in (laughs, external):
        [problem] = refusal(data).problems
        assert problem.message == (
            "XML with a DTD, entity declarations or external references is refused"
        )
        assert english_words(problem.message_ja) == []


def test_malformed_xml_names_its_line() -> None:
    [problem] = refusal(b"<Report>\n<Control>\n<Title>x</Control>\n</Report>").problems
    assert (problem.line, problem.message) == (3, "invalid XML at line 3 column 11")
    assert problem.message_ja == "XMLとして読めません（3行11列目）"
