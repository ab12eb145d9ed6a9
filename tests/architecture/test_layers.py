"""The shape of the code: which package may import which, checked on the source itself.

Consent depends on no domain (the domains register providers with it); no domain reaches
into another's models or repository; the foundation imports no domain; and no two packages
import each other, directly or through others.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

BACKEND = Path(__file__).resolve().parents[2] / "backend"
DOMAINS = {
    "residents", "family", "communities", "consent", "hazards", "shelters", "routing", "alerts",
    "push", "safety", "plans", "dangerspots", "supplies", "lifeevents", "portal",
    "applications",
}  # fmt: skip
FOUNDATION = {
    "api", "auth", "db", "municipalities", "errors", "geo", "config", "text", "principal",
    "ingest", "observability", "live",
}  # fmt: skip
# Modules that put the app together: they may import everything, nothing imports them.
ASSEMBLY = {"app", "assembly", "cli", "demo", "bootstrap", "api.schema"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(BACKEND).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def _imports(path: Path) -> set[str]:
    """Every backend module a file imports (relative imports resolved), TYPE_CHECKING too."""
    module = _module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.startswith("backend."):
                target = node.module.removeprefix("backend.")
            else:
                continue
            for alias in node.names:
                # "from . import service" names a module; "from .models import X" a member.
                candidate = f"{target}.{alias.name}" if target else alias.name
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("backend."):
                    found.add(alias.name.removeprefix("backend."))
    return {f for f in found if f}


def _exists(module: str) -> bool:
    path = BACKEND.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _edges() -> dict[str, set[str]]:
    """Module -> modules it imports, for every module of backend/."""
    return {_module_name(p): _imports(p) for p in BACKEND.rglob("*.py")}


def _top(module: str) -> str:
    return module.split(".")[0]


def _is_assembly(module: str) -> bool:
    return module in ASSEMBLY or _top(module) in ASSEMBLY


EDGES = _edges()


def test_the_lists_above_name_every_package() -> None:
    tops = {_top(m) for m in EDGES if m}
    unknown = tops - DOMAINS - FOUNDATION - ASSEMBLY
    assert not unknown, f"classify {unknown} as domain, foundation or assembly"


def test_consent_imports_no_domain() -> None:
    offending = {
        (module, target)
        for module, targets in EDGES.items()
        if _top(module) == "consent"
        for target in targets
        if _top(target) in DOMAINS - {"consent"}
    }
    assert not offending


@pytest.mark.parametrize("layer", sorted(FOUNDATION))
def test_the_foundation_imports_no_domain(layer: str) -> None:
    offending = {
        (module, target)
        for module, targets in EDGES.items()
        if _top(module) == layer and not _is_assembly(module)
        for target in targets
        if _top(target) in DOMAINS
    }
    assert not offending


def test_no_domain_reaches_into_another_domains_models_or_repository() -> None:
    offending = {
        (module, target)
        for module, targets in EDGES.items()
        if _top(module) in DOMAINS | FOUNDATION and not _is_assembly(module)
        for target in targets
        if _top(target) != _top(module)
        and _top(target) in DOMAINS | {"municipalities", "auth"}
        and target.split(".")[-1] in {"models", "repository"}
    }
    assert not offending


def test_no_import_loop_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in EDGES.items():
        if _is_assembly(module):
            continue
        for target in targets:
            if _top(target) != _top(module) and not _is_assembly(target):
                graph[_top(module)].add(_top(target))
    # Depth-first search for a cycle; report it as a path.
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*path, node])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [])
            assert cycle is None, " -> ".join(cycle)
