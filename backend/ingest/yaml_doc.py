"""Strict YAML (or JSON) documents read with line numbers: every problem noted with its
line and path, so a file is refused whole with all that is wrong with it.

Shared by the importers of municipalities' own documents (supplies catalogs, application
forms). Aliases are refused (a small file could stand for a huge one).
"""

from __future__ import annotations

import math
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .problems import Problems

# libyaml's composer when installed (several times faster), the pure-Python one otherwise.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def refuse_aliases(root: Node, problems: Problems) -> None:
    """Refuse a document that uses an alias: a small file could stand for a huge one.

    An alias makes the composer reuse a node, so walking with a set of the nodes seen
    finds it at its second visit, after at most one visit of each distinct node.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            problems.fail(
                node.start_mark.line + 1,
                "anchors and aliases are not allowed",
                "アンカー・エイリアスは使えません",
            )
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)


class Reader:
    """Walks a composed YAML document, noting each problem with its line and path."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems
        self.constructor = yaml.constructor.SafeConstructor()

    def problem(self, node: Node, path: str, message: str, message_ja: str) -> None:
        self.problems.add(node.start_mark.line + 1, f"{path}: {message}", f"{path}: {message_ja}")

    def mapping(self, node: Node, path: str, keys: dict[str, bool]) -> dict[str, Node] | None:
        """The entries of a mapping with the allowed ``keys`` (True: required)."""
        if not isinstance(node, MappingNode):
            self.problem(
                node, path, "a mapping (key: value) is required", "「キー: 値」の形式が必要です"
            )
            return None
        entries: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key not in keys:
                allowed = ", ".join(keys)
                self.problem(
                    key_node,
                    path,
                    f"unknown key {key!r} (allowed: {allowed})",
                    f"不明なキー {key!r}（使えるキー: {allowed}）",
                )
            elif key in entries:
                self.problem(key_node, path, f"{key!r} appears twice", f"{key!r} が重複しています")
            else:
                entries[key] = value_node
        for key, required in keys.items():
            if required and key not in entries:
                self.problem(node, path, f"{key!r} is required", f"{key!r} が必要です")
        return entries

    def sequence(self, node: Node, path: str, limit: int) -> list[Node]:
        if not isinstance(node, SequenceNode):
            self.problem(node, path, "a list is required", "リストが必要です")
            return []
        if len(node.value) > limit:
            self.problem(node, path, f"at most {limit} entries", f"{limit}件までです")
            return []
        return list(node.value)

    def scalar(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            return node  # never a str/int/bool: callers report it
        return self.constructor.construct_object(node)

    def text(self, node: Node, path: str, limit: int) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= limit:
            self.problem(
                node,
                path,
                f"text of 1-{limit} characters required",
                f"1〜{limit}文字の文字列が必要です",
            )
            return ""
        return value.strip()

    def choice(self, node: Node, path: str, choices: tuple[str, ...]) -> str:
        value = self.scalar(node)
        if value not in choices:
            listed = ", ".join(choices)
            self.problem(
                node, path, f"one of {listed} required", f"{listed} のいずれかを指定してください"
            )
            return choices[0]
        return str(value)

    def choices(self, node: Node, path: str, choices: tuple[str, ...]) -> frozenset[str]:
        values = [
            self.choice(n, f"{path}[{i}]", choices)
            for i, n in enumerate(self.sequence(node, path, len(choices)))
        ]
        return frozenset(values)

    def integer(self, node: Node, path: str, low: int, high: int) -> int | None:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(
                node,
                path,
                f"a whole number {low}-{high} required",
                f"{low}〜{high}の整数が必要です",
            )
            return None
        return value

    def number(self, node: Node, path: str, high: float) -> float:
        """A number above 0, at most ``high``."""
        value = self.scalar(node)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 < value <= high
        ):
            self.problem(
                node,
                path,
                f"a number above 0, at most {high:g}",
                f"0より大きく{high:g}以下の数が必要です",
            )
            return 1.0
        return float(value)

    def boolean(self, node: Node, path: str) -> bool | None:
        value = self.scalar(node)
        if not isinstance(value, bool):
            self.problem(node, path, "true or false required", "true または false が必要です")
            return None
        return value


def compose_document(data: bytes, problems: Problems) -> Node:
    """The composed YAML document of ``data``; a problem (and refusal) when it cannot be."""
    root: Node | None = None
    try:
        text = data.decode("utf-8-sig")
        root = yaml.compose(text, Loader=_Loader)
    except UnicodeDecodeError:
        problems.fail(None, "not UTF-8 text", "UTF-8 の文字列ではありません")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.fail(
            mark.line + 1 if mark else None,
            f"not valid YAML/JSON: {exc.problem}",
            f"YAML/JSON として読めません（{exc.problem}）",
        )
    except yaml.YAMLError as exc:
        problems.fail(None, f"not valid YAML/JSON: {exc}", "YAML/JSON として読めません")
    if root is None:
        problems.fail(None, "the document is empty", "内容がありません")
    refuse_aliases(root, problems)
    assert root is not None
    return root
