"""Problems found in imported files, and the refusal that lists them in English and Japanese."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from ..errors import ValidationFailed

# More problems than this in one refusal help nobody: the first ones show what is wrong.
MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where something was read: a file (or upload) name and its 1-based physical line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"

    def text_ja(self) -> str:
        """The position for a Japanese message: 「path（12行目）」."""
        return self.path if self.line is None else f"{self.path}（{self.line}行目）"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, where it is, in English and in Japanese."""

    where: SourceRef
    message: str
    message_ja: str

    @property
    def path(self) -> str:
        return self.where.path

    @property
    def line(self) -> int | None:
        return self.where.line

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    def text_ja(self) -> str:
        return f"{self.where.text_ja()}: {self.message_ja}"


class ImportRefused(ValidationFailed):
    """An import refused whole (nothing was written); ``problems`` are the first of ``total``."""

    def __init__(
        self,
        headline: str,
        headline_ja: str,
        problems: Sequence[Problem],
        total: int | None = None,
    ) -> None:
        total = len(problems) if total is None else total
        lines = [f"{headline}:", *(str(p) for p in problems)]
        lines_ja = [f"{headline_ja}:", *(p.text_ja() for p in problems)]
        if total > len(problems):
            more = total - len(problems)
            lines.append(f"... and {more} more problem(s)")
            lines_ja.append(f"…ほか {more} 件の問題があります")
        super().__init__("\n".join(lines), "\n".join(lines_ja))
        self.problems = tuple(problems)
        self.total = total


class FileRefused(ImportRefused):
    """One file refused whole; subclasses say what the file holds (``what``, ``what_ja``)."""

    what = "file"
    what_ja = "ファイル"

    def __init__(self, path: str, problems: Sequence[Problem], total: int) -> None:
        super().__init__(
            f"{path}: {self.what} refused, {total} problem(s)",
            f"{path}: {self.what_ja}に {total} 件の問題があるため取り込めません",
            problems,
            total,
        )
        self.path = path


class Problems:
    """Collects the problems of one file up to ``cap`` while still counting them all."""

    def __init__(
        self, path: str, refusal: type[FileRefused] = FileRefused, *, cap: int = MAX_PROBLEMS
    ) -> None:
        self.path = path
        self.refusal = refusal
        self.cap = cap
        self.items: list[Problem] = []
        self.total = 0

    def add(self, line: int | None, message: str, message_ja: str) -> None:
        """Record a problem on a line (None: the file as a whole)."""
        self.total += 1
        if len(self.items) < self.cap:
            self.items.append(Problem(SourceRef(self.path, line), message, message_ja))

    def fail(self, line: int | None, message: str, message_ja: str) -> NoReturn:
        """Record a problem that stops reading, and refuse the file with everything so far."""
        self.add(line, message, message_ja)
        raise self.refusal(self.path, self.items, self.total)

    def raise_if_any(self) -> None:
        """Refuse the file when any problem was recorded."""
        if self.total:
            raise self.refusal(self.path, self.items, self.total)


def refuse_together(refused: Sequence[ImportRefused]) -> ImportRefused:
    """One refusal for several bad files, sharing the problem cap so every file is named."""
    if len(refused) == 1:
        return refused[0]
    # Round-robin the cap over the files, then list each file's share in order.
    shares = [0] * len(refused)
    budget = MAX_PROBLEMS
    while budget and any(s < len(r.problems) for s, r in zip(shares, refused, strict=True)):
        for i, refusal in enumerate(refused):
            if budget and shares[i] < len(refusal.problems):
                shares[i] += 1
                budget -= 1
    return ImportRefused(
        f"{len(refused)} files refused, nothing imported",
        f"{len(refused)} 件のファイルに問題があるため何も取り込んでいません",
        [p for share, r in zip(shares, refused, strict=True) for p in r.problems[:share]],
        sum(r.total for r in refused),
    )
