"""The broker and the clients depend on bus.protocol, never on each other (issue #18)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BUS = Path(__file__).resolve().parents[2] / "bus"
CLIENTS = ("bus.publisher", "bus.subscribers", "bus.subscriber_core")


def imports_of(module: str) -> set[str]:
    """Every module a ``bus`` module imports, wherever the import is."""
    name = module.removeprefix("bus.")
    tree = ast.parse((BUS / f"{name}.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_broker_imports_no_client() -> None:
    imported = imports_of("bus.broker")
    assert "bus.protocol" in imported
    assert not imported & set(CLIENTS)


@pytest.mark.parametrize("client", CLIENTS)
def test_no_client_imports_the_broker(client: str) -> None:
    imported = imports_of(client)
    assert "bus.protocol" in imported
    assert "bus.broker" not in imported


def test_no_module_is_over_the_size_limit_without_saying_why() -> None:
    """About 400 lines a module; a longer one says at its top why it is one unit."""
    for path in sorted(BUS.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 420:
            docstring = ast.get_docstring(ast.parse(text)) or ""
            assert "Why one module" in docstring, f"{path.name}: over 420 lines"
