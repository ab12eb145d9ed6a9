"""Municipalities are foundation: they import no domain and not auth (which imports them)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "backend" / "municipalities"
NOT_ALLOWED = {
    "auth",
    "residents",
    "family",
    "communities",
    "consent",
    "hazards",
    "shelters",
    "routing",
}


def imported_packages(path: Path) -> set[str]:
    """First-level backend packages a module imports (relative or absolute, at any depth)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 2:  # from ..x import y
                found.add(node.module.split(".")[0])
            elif node.level == 0 and node.module.startswith("backend."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("backend.")}
    return found


def test_municipalities_import_no_domain_and_not_auth() -> None:
    offending = {
        path.name: sorted(imported_packages(path) & NOT_ALLOWED)
        for path in sorted(PACKAGE.glob("*.py"))
        if imported_packages(path) & NOT_ALLOWED
    }
    assert offending == {}
