"""Reading import files: size caps before reading, every file parsed, one refusal for all."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ..errors import ValidationFailed
from .problems import ImportRefused, Problems, refuse_together

T = TypeVar("T")

# One import holds every parsed file in memory at once (geometries several times their bytes).
MAX_BATCH_BYTES = 512 * 1024 * 1024


def size_text(size: int) -> tuple[str, str]:
    """A byte count for people, in English and Japanese."""
    if size < 1_000_000:
        return f"{size:,} bytes", f"{size:,} バイト"
    return f"{size / 1e6:.1f} MB", f"{size / 1e6:.1f} MB"


def too_large(size: int, limit: int) -> tuple[str, str]:
    """The problem of a file over its size limit."""
    (size_en, size_ja), (limit_en, limit_ja) = size_text(size), size_text(limit)
    return (
        f"file is {size_en}, the limit is {limit_en}",
        f"ファイルが大きすぎます（{size_ja}、上限は {limit_ja}）",
    )


def check_size(data: bytes, max_bytes: int, problems: Problems) -> None:
    """Refuse bytes received some other way (an upload) when over the limit."""
    if len(data) > max_bytes:
        problems.fail(None, *too_large(len(data), max_bytes))


def _os_reason_ja(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "ファイルがありません"
    if isinstance(exc, PermissionError):
        return "読み取りの権限がありません"
    if isinstance(exc, IsADirectoryError):
        return "ファイルではなくフォルダです"
    return f"入出力エラー（エラー番号 {exc.errno}）"


def read_capped(path: Path, max_bytes: int, problems: Problems) -> bytes:
    """The bytes of a file; refused before reading when its size is over ``max_bytes``."""
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size > max_bytes:
                problems.fail(None, *too_large(size, max_bytes))
            # One byte more than allowed: a file that grew, or a device or pipe whose size
            # stat cannot tell, is still refused without reading it all.
            data = file.read(max_bytes + 1)
    except OSError as exc:
        problems.fail(
            None, f"cannot read: {exc.strerror or exc}", f"読み込めません（{_os_reason_ja(exc)}）"
        )
    if len(data) > max_bytes:
        limit_en, limit_ja = size_text(max_bytes)
        problems.fail(
            None,
            f"file is larger than the limit of {limit_en}",
            f"ファイルが上限の {limit_ja} を超えています",
        )
    return data


def unique_paths(paths: Sequence[Path]) -> list[Path]:
    """The paths without repeats (the same file named twice, e.g. by two globs), in order."""
    seen: dict[Path, Path] = {}
    for path in paths:
        seen.setdefault(path.resolve(), path)
    return list(seen.values())


def _check_batch_size(paths: Sequence[Path], max_total_bytes: int) -> None:
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            continue  # reported with its file's own problems
    if sum(sizes) > max_total_bytes:
        total_en, total_ja = size_text(sum(sizes))
        limit_en, limit_ja = size_text(max_total_bytes)
        raise ValidationFailed(
            f"{len(paths)} files of {total_en} together, the limit for one import is "
            f"{limit_en}; nothing imported: import them in several runs",
            f"{len(paths)} 件のファイルが合計 {total_ja} あり、一度に取り込める上限 {limit_ja} を"
            "超えるため何も取り込んでいません。何回かに分けて取り込んでください",
        )


def parse_all(
    paths: Sequence[Path],
    parse_one: Callable[[Path], T],
    *,
    max_total_bytes: int = MAX_BATCH_BYTES,
) -> list[T]:
    """Parse every file, or refuse them all at once listing the problems of every bad file.

    CPU-bound: call it from a worker thread (``parse_all_off_loop``), never on the event loop.
    """
    _check_batch_size(paths, max_total_bytes)
    parsed: list[T] = []
    refused: list[ImportRefused] = []
    for path in paths:
        try:
            parsed.append(parse_one(path))
        except ImportRefused as exc:
            refused.append(exc)
    if refused:
        raise refuse_together(refused)
    return parsed


async def parse_all_off_loop(
    paths: Sequence[Path],
    parse_one: Callable[[Path], T],
    *,
    max_total_bytes: int = MAX_BATCH_BYTES,
) -> list[T]:
    """``parse_all`` in a worker thread, so the event loop keeps serving while files parse."""
    return await asyncio.to_thread(parse_all, paths, parse_one, max_total_bytes=max_total_bytes)
