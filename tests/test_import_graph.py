"""The modules of checker/ import one another without a circle: every import counts, at the top of a module, inside a
function (deferred) or under TYPE_CHECKING, since each is a dependency a reader has to hold in their head (issue 27:
config ↔ schema ↔ packs ↔ provenance through `json_schema`, probes/context ↔ probes/sandbox_api over `fresh_key`)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "checker"


def modules() -> dict[str, Path]:
    found = {}
    for file in PACKAGE.rglob("*.py"):
        parts = file.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    return found


def imports_of(name: str, file: Path, known: dict[str, Path]) -> set[str]:
    """The modules of checker/ that `name` imports anywhere in its text (`from checker import budget` names a module)."""
    found = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package
                package = name.split(".") if file.name == "__init__.py" else name.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # checker.packs.Pack -> checker.packs
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_in_checker() -> None:
    known = modules()
    graph = {name: imports_of(name, file, known) for name, file in known.items()}
    assert circles(graph) == []


def test_the_circle_finder_finds_a_circle(tmp_path: Path) -> None:
    """The test above can fail: modules importing each other, one of them inside a function, are a circle."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    deferred = tmp_path / "x.py"
    deferred.write_text("def f():\n    from checker.y import thing\n", encoding="utf-8")
    assert imports_of("checker.x", deferred, {"checker.x": deferred, "checker.y": tmp_path / "y.py"}) == {"checker.y"}
