"""Life events: the cost of parsing a municipality's file and of one guide evaluation.

Run: .venv/bin/python bench/bench_life_events.py [--runs 20]

1. Parsing (YAML with line numbers, every condition checked against earlier questions): the
   demo file of 07202 (the baseline) against the largest file accepted (events of 30 number
   questions and 60 procedures whose conditions have the most terms allowed, up to the size
   cap): the import CLI's worst case, run in a worker thread by the service.
2. One guide evaluation (`lifeEventGuide`, run on the event loop): the demo 転入 with a
   family's answers (the baseline) against the largest event with all 30 questions answered.
Prints the median and p95 of each, and the ratio to its baseline.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_supplies import report, timed  # noqa: E402

from backend.lifeevents.definition import (  # noqa: E402
    MAX_CONDITION_TERMS,
    MAX_FILE_BYTES,
    MAX_PROCEDURES,
    MAX_QUESTIONS,
    parse_life_events,
)
from backend.lifeevents.demo import DEMO_FILE  # noqa: E402
from backend.lifeevents.guide import Answer, life_event_guide  # noqa: E402

FAMILY = {
    "moved_on": "2026-11-20", "age": 38, "pension_type": "type2", "employer_insurance": True,
    "has_my_number_card": True, "has_children": True, "child_stages": ["elementary", "preschool"],
    "has_dog": True, "needs_seal": True,
}  # fmt: skip


def largest_event(n: int) -> str:
    questions = "".join(
        f"      - {{code: q{i}, type: number, min: 0, max: 100, label_ja: 質問{i}, label_en: Q{i}"
        + (f", ask_if: {{question: q{i - 1}, min: 1}}" if i else "")
        + "}\n"
        for i in range(MAX_QUESTIONS)
    )
    terms = ", ".join(
        f"{{question: q{k}, min: {k % 7}, max: 100}}" for k in range(MAX_CONDITION_TERMS - 1)
    )
    procedures = "".join(
        f"      - {{code: p{j}, name_ja: 手続き{j}, name_en: P{j}, how: [mail],"
        f" applies_if: {{all: [{terms}]}}}}\n"
        for j in range(MAX_PROCEDURES)
    )
    return (
        f"  - code: e{n}\n    name_ja: 出来事{n}\n    name_en: E{n}\n    description_ja: 説明\n"
        f"    description_en: d\n    questions:\n{questions}    procedures:\n{procedures}"
    )


def largest_file() -> bytes:
    text = "events:\n"
    for n in range(50):
        more = largest_event(n)
        if len((text + more).encode()) > MAX_FILE_BYTES:
            break  # as many whole events as the size cap lets in
        text += more
    return text.encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    demo, big = DEMO_FILE.read_bytes(), largest_file()
    parsed_demo, parsed_big = parse_life_events(demo, "demo"), parse_life_events(big, "big")
    print(f"demo file: {len(demo):,} bytes, {len(parsed_demo.events)} events")
    print(
        f"largest file: {len(big):,} bytes, {len(parsed_big.events)} events x "
        f"{MAX_QUESTIONS} questions, {MAX_PROCEDURES} procedures of {MAX_CONDITION_TERMS} terms"
    )
    base = timed(lambda: parse_life_events(demo, "demo.yaml"), args.runs)
    report("parse demo file (baseline)", base)
    report(
        "parse largest accepted file", timed(lambda: parse_life_events(big, "big"), args.runs), base
    )
    moving_in = parsed_demo.events[0]
    family = [Answer(q, v) for q, v in FAMILY.items()]
    base = timed(lambda: life_event_guide(moving_in, family), args.runs * 50)
    report("guide: demo 転入, a family's answers (baseline)", base)
    event = parsed_big.events[0]
    answers = [Answer(f"q{i}", 50) for i in range(MAX_QUESTIONS)]
    assert len(life_event_guide(event, answers).procedures) == MAX_PROCEDURES
    report(
        "guide: largest event, 30 answers",
        timed(lambda: life_event_guide(event, answers), args.runs * 50),
        base,
    )


if __name__ == "__main__":
    main()
