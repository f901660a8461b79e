"""The layering of docs/architecture.md ("Rules that keep it simple"), read from the source.

Imports flow one way: ``scraper → bus ← sinks``; ``bus`` imports neither, and only the
``panebus`` package imports all three. Within ``scraper/`` no module reaches back to one that
imports it (a cycle makes a newcomer read both to understand either). The production CLI and
wiring do not lean on the demo: only ``panebus demo`` (``panebus/cli/demo.py``) runs it.

Every ``import`` counts, wherever it is: at the top, inside a function, or under
``if TYPE_CHECKING`` — a function-local import hides a cycle, it does not remove it.
"""

from __future__ import annotations

import ast
import typing as t
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bus", "scraper", "sinks", "panebus")
#: package → the top-level packages of ours it must not import (docs/architecture.md).
FORBIDDEN = {
    "bus": {"scraper", "sinks", "panebus"},
    "scraper": {"sinks", "panebus"},
    "sinks": {"scraper", "panebus"},
}
#: The one production module that may import the demo: the verb that runs it.
DEMO_VERB = "panebus.cli.demo"

Graph = dict[str, set[str]]


def module_name(path: Path, root: Path) -> str:
    """``scraper/parsers/codex.py`` → ``scraper.parsers.codex`` (a package is its ``__init__``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(path: Path, module: str) -> set[str]:
    """Every dotted name an ``import`` or ``from … import`` of the file names, relative ones
    resolved: ``from a.b import c`` gives ``a.b`` and ``a.b.c`` (``c`` may be a module)."""
    names: set[str] = set()
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: Path, packages: t.Sequence[str]) -> Graph:
    """Module → the modules of ``packages`` it imports (a name that is not a module of ours
    stands for the nearest enclosing one: ``from scraper.capture import ServerLink`` →
    ``scraper.capture``; ``from scraper import discovery`` → ``scraper.discovery``)."""
    files = {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }

    def resolve(name: str) -> str | None:
        while name and name not in files:
            name = name.rpartition(".")[0]
        return name or None

    graph: Graph = {}
    for module, path in files.items():
        targets = {resolve(name) for name in imported_names(path, module)}
        # ``from scraper import discovery`` names the package too; the submodule is the edge.
        graph[module] = {
            target
            for target in targets
            if target is not None
            and target != module
            and not any(other.startswith(f"{target}.") for other in targets if other)
        }
    return graph


def cycles(graph: Graph, within: str) -> list[list[str]]:
    """The import cycles among the modules of package ``within`` (each once, as a path)."""
    inside = {m for m in graph if m == within or m.startswith(f"{within}.")}
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module] & inside):
            if state.get(target) == 1:
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(inside):
        if module not in state:
            visit(module)
    return found


def upward(graph: Graph, package: str) -> list[str]:
    """The imports of ``package``'s modules that :data:`FORBIDDEN` rules out."""
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.split(".")[0] == package
        for target in targets
        if target.split(".")[0] in FORBIDDEN[package]
    )


def demo_users(graph: Graph) -> list[str]:
    """Modules of ``panebus`` outside the demo (and its verb) that import the demo."""
    return sorted(
        f"{module} imports {target}"
        for module, targets in graph.items()
        if module.startswith("panebus.")
        and not module.startswith("panebus.demo")
        and module != DEMO_VERB
        for target in targets
        if target == "panebus.demo" or target.startswith("panebus.demo.")
    )


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph(ROOT, PACKAGES)


def test_no_import_cycle_in_scraper(graph: Graph) -> None:
    assert {"scraper.discovery", "scraper.agent_panes", "scraper.scrape"} <= graph.keys()
    assert cycles(graph, "scraper") == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(graph: Graph, package: str) -> None:
    assert upward(graph, package) == []


def test_production_code_does_not_import_the_demo(graph: Graph) -> None:
    assert graph[DEMO_VERB] & {"panebus.demo", "panebus.demo.run"}  # the one that may
    assert demo_users(graph) == []


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checks_see_hidden_imports(tmp_path: Path) -> None:
    """A cycle made of a function-local import and a TYPE_CHECKING one is found, so are an
    upward import written relative and a CLI verb's import of the demo: the checks above
    can fail."""
    write(tmp_path, {
        "scraper/__init__.py": "",
        "scraper/a.py": "def f():\n    from scraper import b\n",
        "scraper/b.py": "import typing as t\nif t.TYPE_CHECKING:\n    from .a import f\n",
        "scraper/c.py": "from scraper.b import t\n",
        "sinks/__init__.py": "",
        "sinks/up.py": "def g():\n    from ..scraper.c import t\n",
        "panebus/__init__.py": "",
        "panebus/demo/__init__.py": "X = 1\n",
        "panebus/cli/__init__.py": "",
        "panebus/cli/probe.py": "def run():\n    from panebus.demo import X\n",
        "panebus/cli/demo.py": "import panebus.demo\n",
    })
    graph = import_graph(tmp_path, ["scraper", "sinks", "panebus"])
    assert cycles(graph, "scraper") == [["scraper.a", "scraper.b", "scraper.a"]]
    assert graph["scraper.c"] == {"scraper.b"}
    assert upward(graph, "sinks") == ["sinks.up imports scraper.c"]
    assert upward(graph, "scraper") == []
    assert demo_users(graph) == ["panebus.cli.probe imports panebus.demo"]
