"""The architecture, enforced: which package may import which.

Layers, lowest first: ``meshlint.core.model`` (values and the read side of a
document) < ``meshlint.domain`` < the rest of ``meshlint.core`` <
``meshlint.output`` < ``meshlint`` (the public face), ``meshlint.api``,
``meshlint.testing`` < ``meshlint.server`` (the language server) <
``meshlint.cli``. A module imports its own layer or lower, never higher, and no
import cycle exists, TYPE_CHECKING imports included.
Rules (``rules/``) import only ``meshlint`` and the domain packages' faces.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "meshlint"
LAYERS = [
    ("meshlint.core.model",),
    ("meshlint.domain",),
    ("meshlint.core",),
    ("meshlint.output",),
    ("meshlint", "meshlint.api", "meshlint.testing"),
    ("meshlint.server",),
    ("meshlint.cli", "meshlint.__main__"),
]
FACES = {
    "meshlint",
    "meshlint.domain.cardinality",
    "meshlint.domain.components",
    "meshlint.domain.spans",
} | {f"meshlint.domain.{p.name}" for p in (PACKAGE / "domain").iterdir() if p.is_dir()}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    best, depth = -1, -1
    for n, names in enumerate(LAYERS):
        for name in names:
            exact_top = name == "meshlint" and module != "meshlint"
            if exact_top:
                continue
            if (module == name or module.startswith(name + ".")) and len(name) > depth:
                best, depth = n, len(name)
    return best


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m == "meshlint" or m.startswith("meshlint.")}


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target in _imports(path):
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]  # `from pkg import name` names a member
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{source} ({_layer(source)}) imports {target} ({_layer(target)})"
        for source, targets in _graph().items()
        for target in targets
        if _layer(target) > _layer(source)
    ]
    assert upward == []


def test_domain_imports_only_the_core_model() -> None:
    wrong = [
        f"{source} imports {target}"
        for source, targets in _graph().items()
        if source.startswith("meshlint.domain")
        for target in targets
        if target.startswith("meshlint.core") and not target.startswith("meshlint.core.model")
    ]
    assert wrong == []


def test_output_imports_no_domain() -> None:
    wrong = [
        f"{s} imports {t}"
        for s, ts in _graph().items()
        if s.startswith("meshlint.output")
        for t in ts
        if t.startswith("meshlint.domain")
    ]
    assert wrong == []


def test_no_import_cycle() -> None:
    graph = _graph()
    # a package's __init__ re-exporting its own modules is not a cycle of layers
    edges = {s: {t for t in ts if not t.startswith(s + ".")} for s, ts in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_rules_import_only_public_faces() -> None:
    wrong = []
    for path in (ROOT / "rules").rglob("*.py"):
        for target in _imports(path):
            if target.startswith("meshlint.rules"):
                continue  # a pack importing its own modules
            owner = target
            while owner not in FACES and "." in owner:
                owner = owner.rsplit(".", 1)[0]
            if owner not in FACES or (owner == "meshlint" and target.count(".") > 1):
                wrong.append(f"{path.relative_to(ROOT)}: {target}")
    assert wrong == []
