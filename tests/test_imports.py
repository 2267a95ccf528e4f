"""The package's import graph: no loops, and nothing outside ``instructvid/cli/`` imports the CLI.

The graph is read from the source with :mod:`ast` (nothing is imported): every ``import`` and
``from ... import`` of an ``instructvid`` module, at module level and inside functions alike
(a function-level import still ties the two modules together). ``from pkg import name`` counts
as an import of ``pkg.name`` when that is a module, else of ``pkg``. Imports under
``if TYPE_CHECKING:`` count too: a module that needs another's types to be read depends on it.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

PACKAGE = "instructvid"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


def module_name(path: Path, root: Path = ROOT) -> str:
    """``root/a/b.py`` → ``instructvid.a.b``; ``root/a/__init__.py`` → ``instructvid.a``."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST) -> list[tuple[ast.Import | ast.ImportFrom, int]]:
    """Every import node of a module (module level, functions, ``TYPE_CHECKING``), with its line."""
    return [
        (node, node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]


def import_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], dict[tuple[str, str], int]]:
    """``({module: {imported modules}}, {(module, imported): first line})`` of the package."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    modules = set(files)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    lines: dict[tuple[str, str], int] = {}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    for mod, path in files.items():
        is_pkg = path.name == "__init__.py"
        for node, line in _imports(ast.parse(path.read_text(), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = mod.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_pkg else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in modules else base)
            for target in targets:
                if not (target == PACKAGE or target.startswith(PACKAGE + ".")):
                    continue
                dep = resolve(target)
                if dep is None or dep == mod:
                    continue
                graph[mod].add(dep)
                lines.setdefault((mod, dep), line)
    return graph, lines


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle per strongly connected component with a loop (Tarjan + BFS)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:  # recursive: import chains are far shorter than the limit
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            components.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)

    cycles = []
    for comp in components:
        if len(comp) < 2:
            continue
        members = set(comp)
        start = comp[0]
        # Shortest path start -> ... -> start inside the component.
        parents: dict[str, str] = {}
        frontier = [start]
        seen = {start}
        found = None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & members):
                    if w == start:
                        found = v
                        break
                    if w not in seen:
                        seen.add(w)
                        parents[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        path = [found]
        while path[-1] != start:
            path.append(parents[path[-1]])
        cycles.append([*reversed(path), start])
    return cycles


def _describe(cycle: list[str], lines: dict[tuple[str, str], int]) -> str:
    hops = [f"{a} (line {lines[(a, b)]})" for a, b in itertools.pairwise(cycle)]
    return " -> ".join([*hops, cycle[-1]])


def test_the_package_has_no_import_loop() -> None:
    graph, lines = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import loops:\n" + "\n".join(_describe(c, lines) for c in cycles)


def test_nothing_outside_cli_imports_the_cli() -> None:
    graph, lines = import_graph()
    bad = sorted(
        f"{mod} (line {lines[(mod, dep)]}) imports {dep}"
        for mod, deps in graph.items()
        if not (mod == f"{PACKAGE}.cli" or mod.startswith(f"{PACKAGE}.cli."))
        for dep in deps
        if dep == f"{PACKAGE}.cli" or dep.startswith(f"{PACKAGE}.cli.")
    )
    assert not bad, "imports of the CLI from outside cli/:\n" + "\n".join(bad)


def _write(root: Path, files: dict[str, str]) -> Path:
    pkg = root / PACKAGE
    for rel, text in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg


def test_the_checker_finds_function_level_relative_and_from_package_loops(tmp_path: Path) -> None:
    pkg = _write(
        tmp_path,
        {
            "__init__.py": "",
            "a/__init__.py": "",
            "a/x.py": "def f():\n    from instructvid.a import y\n",
            "a/y.py": "from . import z\n",
            "a/z.py": "import instructvid.a.x as x\n",
            "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import instructvid.c\n",
            "c.py": "import instructvid.b\nimport numpy\n",
            "e.py": "import instructvid.f\n",
            "f.py": "import os\n",
            "d.py": "from instructvid.cli.main import app\n",
            "cli/__init__.py": "",
            "cli/main.py": "from instructvid import d\n",
        },
    )
    graph, lines = import_graph(pkg)
    assert graph["instructvid.a.x"] == {"instructvid.a.y"}
    assert graph["instructvid.a.y"] == {"instructvid.a.z"}
    assert graph["instructvid.b"] == {"instructvid.c"}  # type-only imports tie modules too
    assert graph["instructvid.e"] == {"instructvid.f"} and graph["instructvid.f"] == set()
    assert lines[("instructvid.a.x", "instructvid.a.y")] == 2
    cycles = find_cycles(graph)
    assert sorted(tuple(sorted(set(c))) for c in cycles) == [
        ("instructvid.a.x", "instructvid.a.y", "instructvid.a.z"),
        ("instructvid.b", "instructvid.c"),
        ("instructvid.cli.main", "instructvid.d"),
    ]
    for cycle in cycles:
        assert cycle[0] == cycle[-1] and len(cycle) == len(set(cycle)) + 1


@pytest.mark.parametrize("n", [2, 5])
def test_find_cycles_names_a_ring_in_order(n: int) -> None:
    ring = {f"m{i}": {f"m{(i + 1) % n}"} for i in range(n)}
    ring["leaf"] = {"m0"}
    (cycle,) = find_cycles(ring)
    assert cycle == [*(f"m{i}" for i in range(n)), "m0"]
