"""The layers import in one direction: no cycles between modules, and the engine and the rules know
nothing of the command line (they report progress through a callback)."""

from __future__ import annotations

import ast
from pathlib import Path

import promoguard

SRC = Path(promoguard.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """The promoguard modules ``path`` imports anywhere (in functions too), but not for typing;
    a relative import (``from ..commands import x``) as the module it names."""
    out: set[str] = set()
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("promoguard"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: against the package, one level up per dot past the first
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*parts, module] if module else parts)
            if module.startswith("promoguard"):
                for a in node.names:
                    sub = f"{module}.{a.name}"
                    out.add(sub if sub in MODULES else module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in out if m in MODULES}


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := dfs(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for name in sorted(GRAPH):
        if name not in state and (found := dfs(name)):
            return found
    return None


def test_the_import_graph_has_no_cycle():
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_a_cycle_is_seen():
    GRAPH["promoguard.engine.base"].add("promoguard.cli")
    try:
        assert _cycle() is not None
    finally:
        GRAPH["promoguard.engine.base"].discard("promoguard.cli")


def test_the_engine_and_the_rules_import_nothing_from_the_command_line():
    for name, deps in GRAPH.items():
        if name.startswith(("promoguard.engine", "promoguard.rules")):
            bad = {d for d in deps if d.startswith(("promoguard.commands", "promoguard.cli"))}
            assert not bad, f"{name} imports {sorted(bad)}"
