"""No import cycle among the project's modules (type-only imports included): each module can be
read, tested and changed from its imports downwards (docs/architecture.md §2)."""

from __future__ import annotations

import sys
from pathlib import Path

import grimp
import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("tra_core", "api", "refresh", "upload", "verify", "notify", "common", "emulator", "local")


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every back edge found by a depth-first walk: empty exactly when the graph has no cycle."""
    edges = {
        m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i in graph.modules)
        for m in graph.modules
    }
    state: dict[str, int] = {}
    path: list[str] = []
    found: list[list[str]] = []

    def walk(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in edges[module]:
            if state.get(imported) == 1:
                found.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                walk(imported)
        path.pop()
        state[module] = 2

    for module in sorted(graph.modules):
        if module not in state:
            walk(module)
    return found


def test_no_module_imports_itself_back(monkeypatch: pytest.MonkeyPatch) -> None:
    for folder in ("functions", "layers/tra_core", "."):
        monkeypatch.syspath_prepend(str(REPO / folder))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    graph = grimp.build_graph(*PACKAGES)
    assert len(graph.modules) > 100
    assert _cycles(graph) == []
