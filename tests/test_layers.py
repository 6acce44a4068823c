"""The layer order of docs/architecture.md, enforced on every module's imports.

Every ``import`` of a project module, at module level or inside a function, must point down the
order below or stay inside its own group; the module graph has no cycle; and below the CLI a
function-level import of a project module is allowed only to defer an optional heavy part, with
a comment saying so. Modules are found through ``[tool.setuptools.package-dir]`` of
pyproject.toml: ``supportgym.env`` is the folder ``env/``, and so on.
"""

from __future__ import annotations

import ast
import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. A module belongs to the group of its longest matching prefix.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "contracts",
        (
            "supportgym",
            "supportgym.clock",
            "supportgym.trail",
            "supportgym.trajectory",
            "supportgym.ids",
            "supportgym.money",
            "supportgym.filters",
            "supportgym.stats",
        ),
    ),
    ("world", ("supportgym.schema", "supportgym.db", "supportgym.policy", "supportgym.progression")),
    ("world seed", ("supportgym.world_seed",)),
    ("services", ("supportgym.services",)),
    ("rubrics", ("supportgym.rubrics",)),
    ("tasks", ("supportgym.tasks",)),
    ("env", ("supportgym.env",)),
    ("integrations", ("supportgym.integrations",)),
    ("benchmarks", ("supportgym.bench",)),
    ("cli", ("supportgym.cli",)),
]
# Below the CLI and benchmarks, a function-level import of a project module only defers an
# optional heavy part; this many at most, each with a comment starting "deferred:".
MAX_DEFERRED = 10
LAZY_LAYERS = {"benchmarks", "cli"}


def module_files() -> dict[str, Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    out: dict[str, Path] = {}
    for package, folder in config["package-dir"].items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join([package, *(p for p in parts if p != "__init__")])
            if name.startswith(package) and "data" not in parts:
                out.setdefault(name, path)
    return out


MODULES = module_files()


def layer_of(module: str) -> int:
    best, index = -1, -1
    for i, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, index = len(prefix), i
    if index < 0:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")
    return index


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    in_function: bool
    why: str  # the comment block right above the import


def _resolve(source: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = source if MODULES[source].name == "__init__.py" else source.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}".rstrip(".")
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name:
            out.append(name)
    return out


def edges_of(module: str) -> list[Edge]:
    path = MODULES[module]
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function.update(id(n) for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            i, above = node.lineno - 2, []
            while i >= 0 and lines[i].strip().startswith("#"):
                above.insert(0, lines[i].strip())
                i -= 1
            for target in _resolve(module, node):
                if target != module:
                    out.append(Edge(module, target, node.lineno, id(node) in in_function, " ".join(above)))
    return out


@functools.cache
def all_edges() -> tuple[Edge, ...]:
    """Every import edge of the package, parsed once per process and only when a test asks
    (at module level, every pytest process paid for it while collecting)."""
    return tuple(e for m in sorted(MODULES) for e in edges_of(m))


def test_every_module_has_a_layer() -> None:
    assert len(MODULES) > 100
    for module in MODULES:
        layer_of(module)


def test_no_import_goes_up_or_sideways() -> None:
    wrong = []
    for e in all_edges():
        a, b = layer_of(e.source), layer_of(e.target)
        if b > a:
            wrong.append(f"{e.source}:{e.line} imports {e.target} ({LAYERS[a][0]} -> {LAYERS[b][0]}: up)")
    assert not wrong, "\n".join(wrong)


def test_the_bottom_layer_imports_nothing_above_it() -> None:
    bottom = [e for e in all_edges() if layer_of(e.source) == 0 and layer_of(e.target) != 0]
    assert not bottom, bottom


def test_the_module_graph_has_no_cycle() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in all_edges():
        graph[e.source].add(e.target)
    # Iterative depth-first search; a grey node reached again closes a cycle.
    colour = dict.fromkeys(graph, 0)
    for start in sorted(graph):
        if colour[start]:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour[child] == 1:
                cycle = path[path.index(child) :] + [child]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            elif colour[child] == 0:
                colour[child] = 1
                stack.append((child, iter(sorted(graph[child]))))
                path.append(child)


def test_function_level_imports_only_defer_optional_parts() -> None:
    deferred = [e for e in all_edges() if e.in_function and LAYERS[layer_of(e.source)][0] not in LAZY_LAYERS]
    unexplained = [f"{e.source}:{e.line} -> {e.target}" for e in deferred if not e.why.startswith("# deferred:")]
    assert not unexplained, "function-level imports without a '# deferred: why' comment:\n" + "\n".join(unexplained)
    assert len(deferred) <= MAX_DEFERRED, [f"{e.source}:{e.line}" for e in deferred]


def test_the_layer_test_sees_a_known_upward_import() -> None:
    """The checks above are not vacuous: a planted upward import is found and classified."""
    planted = ast.parse("from supportgym.tasks import list_tasks\n").body[0]
    assert isinstance(planted, ast.ImportFrom)
    (target,) = _resolve("supportgym.services.episode", planted)
    assert target == "supportgym.tasks"
    assert layer_of(target) > layer_of("supportgym.services.episode")
