"""`notifications/` is the push adapter: it builds and sends messages and answers per-message
results; it knows nothing of the database or of the backend that decides what to retry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

NOTIFICATIONS = Path(__file__).resolve().parents[2] / "notifications"
FORBIDDEN = ("backend", "sqlalchemy", "alembic", "asyncpg", "aiosqlite")


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(NOTIFICATIONS.glob("*.py")), ids=lambda p: p.name)
def test_the_push_adapter_imports_no_database_or_backend_code(path: Path) -> None:
    offending = {name for name in _imported(path) if name.split(".")[0] in FORBIDDEN}
    assert not offending, f"{path.name} imports {sorted(offending)}"
