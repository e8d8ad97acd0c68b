"""The architecture as a test: imports run one way and never reach into another module's privates.

The graph is read from the source with :mod:`ast` (every import, including those inside
functions, since a lazy import is still a dependency), so a cycle fails here before it bites.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("recsys", "dashboard")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(package: str) -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / package).rglob("*.py"))}


MODULES = {name: path for package in PACKAGES for name, path in _modules(package).items()}


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import of project modules."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [alias.name for alias in node.names]
            # `from pkg import module` depends on the module, not on the package's __init__.
            for imported in names:
                if f"{node.module}.{imported}" in MODULES:
                    found.append((f"{node.module}.{imported}", [], node.lineno))
                    names = [n for n in names if n != imported]
            found.append((node.module, names, node.lineno))
    return [(m, n, line) for m, n, line in found if m in MODULES and m != name]


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target, _, _ in GRAPH[node]:
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(GRAPH):
        if node not in state:
            visit(node)
    return cycles


def test_the_import_graph_is_read_from_every_package():
    assert {"recsys.pipeline", "recsys.models.user_knn", "dashboard.cache"} <= set(GRAPH)
    assert any(target == "recsys.pipeline" for target, _, _ in GRAPH["recsys.campaigns.audience"])


def test_no_import_cycle():
    assert _cycles() == []


def test_the_cycle_finder_finds_a_cycle(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(GRAPH, "recsys.errors", [("recsys.pipeline", [], 1)])
    assert any(cycle[0] == cycle[-1] for cycle in _cycles())


def test_no_private_name_imported_from_another_module():
    private = [
        f"{name}:{line} takes {n} from {target}"
        for name, imports in GRAPH.items()
        for target, names, line in imports
        for n in names
        if n.startswith("_")
    ]
    assert private == []


def test_the_core_never_imports_the_dashboard():
    upward = [
        f"{name} imports {target}"
        for name, imports in GRAPH.items()
        if name.startswith("recsys")
        for target, _, _ in imports
        if target.startswith("dashboard")
    ]
    assert upward == []


@pytest.mark.parametrize("package", ["data", "models", "rewards"])
def test_lower_rooms_do_not_import_the_pipeline_or_the_rooms_above(package: str):
    above = (
        "recsys.pipeline",
        "recsys.campaigns",
        "recsys.evaluation",
        "recsys.store",
        "recsys.cli",
    )
    upward = [
        f"{name} imports {target}"
        for name, imports in GRAPH.items()
        if name.startswith(f"recsys.{package}")
        for target, _, _ in imports
        if target.startswith(above)
    ]
    assert upward == []
