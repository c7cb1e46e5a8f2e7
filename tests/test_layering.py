"""Dependencies point one way: a test reads every module's imports and says so (issue 14, 1).

    __main__
    cli                      the command line (may import web, to serve it)
    web, karmabank           the web app; the public Python API (`karmabank/__init__.py`)
    actions                  use cases: the only way the edges reach the database
    store, sources, connectors, measures, graph, demo_network, charts
                             (measures may use graph; connectors may use sources' rows)
    frames, settings         (`measures/settings.py`, the measures' typed constants, is settings)
    bounds, names, identities
    model
    errors

A module may import its own component (a package, or a bottom module) and anything in a lower
row, never a higher row nor another component of its row (a sideways arrow), with one more
rule: the edges (cli, web, the public API) import no store, source, measure or graph module,
only actions. And no cycles at all between modules, counting imports inside functions.

What counts as an import (`imports_of`): every `import` and `from ... import` statement anywhere
in a module (functions included), relative ones resolved, and `importlib.import_module` of a
literal name; `from package import name` is an arrow to the submodule `package.name` when there
is one, else to the package. Importing `a.b.c` runs `a/__init__` and `a/b/__init__` first: those
are arrows too when those import anything, unless they are the importing module's own packages
(already running by then).
Imports under `if TYPE_CHECKING:` are left out: they never run (the public API's lazy names are
listed there, and checked by `tests/test_docs.py`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

import karmabank

# Rows from the top down; a component is a module name prefix (the longest one wins).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("karmabank.__main__",),
    ("karmabank.cli",),
    ("karmabank.web", "karmabank"),
    ("karmabank.actions",),
    ("karmabank.store", "karmabank.sources", "karmabank.connectors", "karmabank.measures",
     "karmabank.graph", "karmabank.demo_network", "karmabank.charts"),
    ("karmabank.frames", "karmabank.settings"),
    ("karmabank.bounds", "karmabank.names", "karmabank.identities"),
    ("karmabank.model",),
    ("karmabank.errors",),
)  # fmt: skip
# A module that lives in one folder but belongs to another component.
PLACED = {"karmabank.measures.settings": "karmabank.settings"}
SIDEWAYS_ALLOWED = frozenset(
    {("karmabank.measures", "karmabank.graph"), ("karmabank.connectors", "karmabank.sources")}
)
EDGES = frozenset({"karmabank.cli", "karmabank.web", "karmabank"})
THROUGH_ACTIONS_ONLY = frozenset(
    {"karmabank.store", "karmabank.sources", "karmabank.connectors", "karmabank.measures",
     "karmabank.graph", "karmabank.demo_network", "karmabank.charts"}
)  # fmt: skip

# Known arrows and cycles other work is removing; the lead empties these lists. Each entry must
# still exist (a gone one fails: take it out).
KNOWN_ARROWS: frozenset[tuple[str, str]] = frozenset()
KNOWN_CYCLES: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} -> {self.target}"


@dataclass(frozen=True)
class Layering:
    layers: Sequence[Sequence[str]]
    placed: Mapping[str, str]
    sideways_allowed: frozenset[tuple[str, str]]
    edges: frozenset[str]
    through_actions_only: frozenset[str]

    def component(self, module: str) -> str | None:
        if module in self.placed:
            return self.placed[module]
        names = [c for row in self.layers for c in row]
        found = [c for c in names if module == c or module.startswith(c + ".")]
        return max(found, key=len) if found else None

    def row(self, component: str) -> int:
        return next(i for i, row in enumerate(self.layers) if component in row)


KARMABANK = Layering(LAYERS, PLACED, SIDEWAYS_ALLOWED, EDGES, THROUGH_ACTIONS_ONLY)


def modules_of(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package in folder `root`, by dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", "")
    return name in ("TYPE_CHECKING", "_TYPE_CHECKING")


def _statements(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of `tree`, except the bodies of `if TYPE_CHECKING:` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking_only(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _named(node: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, list[str]]]:
    """(a module name, names imported from it) for each import `node` makes."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, []
    elif isinstance(node, ast.ImportFrom):
        base = module if is_package else module.rpartition(".")[0]
        if node.level:
            parts = base.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1])
            name = f"{base}.{node.module}" if node.module else base
        else:
            name = node.module or ""
        yield name, [a.name for a in node.names]
    elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module":
        if node.args and isinstance(node.args[0], ast.Constant):
            yield str(node.args[0].value), []


def _direct(modules: Mapping[str, Path]) -> list[Import]:
    found = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _statements(tree):
            for name, names in _named(node, module, path.name == "__init__.py"):
                subs = [f"{name}.{n}" for n in names if f"{name}.{n}" in modules]
                targets = subs if subs and len(subs) == len(names) else [name, *subs]
                for target in targets:
                    if target in modules and target != module:
                        found.append(Import(module, target, path, getattr(node, "lineno", 0)))
    return found


def imports_of(modules: Mapping[str, Path]) -> list[Import]:
    """Every arrow from a module of `modules` to another one (see the module's docstring)."""
    direct = _direct(modules)
    running = {i.source for i in direct if modules[i.source].name == "__init__.py"}
    found = list(direct)
    for imp in direct:
        parts = imp.target.split(".")
        for package in (".".join(parts[:n]) for n in range(1, len(parts))):
            own = imp.source == package or imp.source.startswith(package + ".")
            if package in running and not own:
                found.append(Import(imp.source, package, imp.path, imp.line))
    return list(dict.fromkeys(found))


def wrong_arrows(imports: Iterable[Import], layering: Layering) -> list[Import]:
    """The imports that point up, sideways, or from an edge past the actions."""
    wrong: dict[tuple[str, Path, int, str], Import] = {}
    for imp in imports:
        source, target = layering.component(imp.source), layering.component(imp.target)
        if source is None or target is None or source == target:
            continue
        up = layering.row(target) < layering.row(source)
        sideways = layering.row(target) == layering.row(source)
        if (
            up
            or (sideways and (source, target) not in layering.sideways_allowed)
            or (source in layering.edges and target in layering.through_actions_only)
        ):
            key = (imp.source, imp.path, imp.line, target)  # one line, one arrow: the deepest
            if key not in wrong or len(imp.target) > len(wrong[key].target):
                wrong[key] = imp
    return list(wrong.values())


def cycles(imports: Iterable[Import]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's, iteratively)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.source, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.add(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def _cycle_report(component: frozenset[str], imports: Iterable[Import]) -> str:
    inside = [str(i) for i in imports if i.source in component and i.target in component]
    return "cycle " + ", ".join(sorted(component)) + ":\n    " + "\n    ".join(sorted(inside))


KARMABANK_ROOT = Path(karmabank.__file__).parent


@pytest.fixture(scope="module")
def karmabank_imports() -> list[Import]:
    return imports_of(modules_of(KARMABANK_ROOT, "karmabank"))


def test_every_module_has_a_layer() -> None:
    unplaced = [m for m in modules_of(KARMABANK_ROOT, "karmabank") if not KARMABANK.component(m)]
    assert not unplaced, f"modules in no layer of LAYERS: {unplaced}"


def test_dependencies_point_down(karmabank_imports: list[Import]) -> None:
    wrong = wrong_arrows(karmabank_imports, KARMABANK)
    new = [str(i) for i in wrong if (i.source, i.target) not in KNOWN_ARROWS]
    gone = KNOWN_ARROWS - {(i.source, i.target) for i in wrong}
    assert not new, "imports against the layers (file:line: from -> to):\n" + "\n".join(new)
    assert not gone, f"KNOWN_ARROWS lists arrows that are gone: take them out: {sorted(gone)}"


def test_no_import_cycles(karmabank_imports: list[Import]) -> None:
    found = cycles(karmabank_imports)
    new = [_cycle_report(c, karmabank_imports) for c in found if c not in KNOWN_CYCLES]
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert not new, "import cycles:\n" + "\n".join(new)
    assert not gone, f"KNOWN_CYCLES lists cycles that are gone: take them out: {gone}"


def _plant(root: Path, files: Mapping[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return modules_of(root / "pkg", "pkg")


PLANTED = Layering(
    layers=(("pkg.top",), ("pkg.low", "pkg.side")),
    placed={},
    sideways_allowed=frozenset(),
    edges=frozenset({"pkg.top"}),
    through_actions_only=frozenset({"pkg.side"}),
)


def test_the_checker_catches_an_upward_and_a_sideways_import(tmp_path: Path) -> None:
    modules = _plant(tmp_path, {
        "__init__.py": "",
        "top.py": "from pkg import low\n",
        "low.py": "import os\n\ndef f():\n    from pkg.top import x\n",
        "side.py": "from . import low\nfrom typing import TYPE_CHECKING\n"
                   "if TYPE_CHECKING:\n    from pkg import top\n",
    })  # fmt: skip
    wrong = [str(i) for i in wrong_arrows(imports_of(modules), PLANTED)]
    assert wrong == [f"{tmp_path / 'pkg' / 'low.py'}:4: pkg.low -> pkg.top",
                     f"{tmp_path / 'pkg' / 'side.py'}:1: pkg.side -> pkg.low"]  # fmt: skip


def test_the_checker_catches_an_edge_past_the_actions(tmp_path: Path) -> None:
    modules = _plant(tmp_path, {"__init__.py": "", "low.py": "", "top.py": "import pkg.side\n",
                                "side.py": ""})  # fmt: skip
    assert [(i.source, i.target) for i in wrong_arrows(imports_of(modules), PLANTED)] == [
        ("pkg.top", "pkg.side")
    ]


def test_the_checker_catches_a_cycle(tmp_path: Path) -> None:
    modules = _plant(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg.b import x\n",
        "b.py": "import importlib\n\ndef f():\n    importlib.import_module('pkg.c')\n",
        "c.py": "from .a import y\n",
        "d.py": "from pkg import a, c\n",
    })  # fmt: skip
    imports = imports_of(modules)
    assert cycles(imports) == [frozenset({"pkg.a", "pkg.b", "pkg.c"})]
    assert "pkg/b.py:4: pkg.b -> pkg.c" in _cycle_report(cycles(imports)[0], imports)


def test_a_package_that_imports_is_an_arrow_of_whoever_imports_below_it(tmp_path: Path) -> None:
    modules = _plant(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg.sub.x import f\n",
        "sub/__init__.py": "from pkg.a import g\n",
        "sub/x.py": "from pkg.sub import y\n",  # its own package: already running
        "sub/y.py": "",
        "quiet/__init__.py": "",
        "b.py": "import pkg.quiet\n",
    })  # fmt: skip
    arrows = {(i.source, i.target) for i in imports_of(modules)}
    assert arrows == {("pkg.a", "pkg.sub.x"), ("pkg.a", "pkg.sub"), ("pkg.sub", "pkg.a"),
                      ("pkg.sub.x", "pkg.sub.y"), ("pkg.b", "pkg.quiet")}  # fmt: skip
    assert cycles(imports_of(modules)) == [frozenset({"pkg.a", "pkg.sub"})]
