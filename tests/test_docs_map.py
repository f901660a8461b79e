"""The module map of docs/architecture.md matches the code: one row per module, no stale row.

A newcomer reads the map to find a module in one pass; a module without a row is invisible
there, and a row naming a module that is gone sends them looking for nothing. The map is the
tables under "## Module map", one row per module: ``| `path/to/module.py` | what it does |``.
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bus", "scraper", "sinks", "panebus")
ROW = re.compile(r"^\|\s*`([^`]+\.py)`\s*\|")


def modules(root: Path = ROOT) -> set[str]:
    """Every ``.py`` file of the four packages, as a path relative to ``root``."""
    return {
        path.relative_to(root).as_posix()
        for package in PACKAGES
        for path in (root / package).rglob("*.py")
    }


def map_rows(text: str) -> list[str]:
    """The module named by each row of the "Module map" section's tables, in order."""
    rows: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line.strip() == "## Module map"
            continue
        match = ROW.match(line) if inside else None
        if match:
            rows.append(match.group(1))
    return rows


def mismatches(found: set[str], rows: list[str]) -> list[str]:
    """What differs between the modules and the map, one line each (empty: they agree)."""
    problems = [f"{module}: no row in the module map" for module in sorted(found - set(rows))]
    problems += [f"{row}: row names no module" for row in sorted(set(rows) - found)]
    problems += [
        f"{row}: {count} rows" for row, count in sorted(collections.Counter(rows).items())
        if count > 1
    ]
    return problems


def test_every_module_has_one_row_and_every_row_a_module() -> None:
    rows = map_rows((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    assert mismatches(modules(), rows) == []


@pytest.mark.parametrize(
    ("files", "doc", "expected"),
    [
        pytest.param(["bus/a.py"], "## Module map\n| `bus/a.py` | a |\n", [], id="agree"),
        pytest.param(
            ["bus/a.py", "bus/b.py"], "## Module map\n| `bus/a.py` | a |\n",
            ["bus/b.py: no row in the module map"], id="missing-row",
        ),
        pytest.param(
            ["bus/a.py"], "## Module map\n| `bus/a.py` | a |\n| `bus/gone.py` | gone |\n",
            ["bus/gone.py: row names no module"], id="stale-row",
        ),
        pytest.param(
            ["bus/a.py"], "## Module map\n| `bus/a.py` | a |\n| `bus/a.py` | again |\n",
            ["bus/a.py: 2 rows"], id="twice",
        ),
        pytest.param(
            ["bus/a.py"], "## Module map\n| `bus/a.py` | a |\n## Later\n| `bus/x.py` | x |\n",
            [], id="rows-of-other-sections-ignored",
        ),
    ],
)
def test_the_check_sees_each_kind_of_drift(
    tmp_path: Path, files: list[str], doc: str, expected: list[str]
) -> None:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    assert mismatches(modules(tmp_path), map_rows(doc)) == expected
