"""Read box-drawn terminal tables (cli-table3 in ccusage, rich in claude-monitor) as cells.

Report screens are tables whose title and column header scroll off as soon as the report is
longer than the pane, so a parser must recognise them by their rows alone. This module only
splits lines into cells; what the cells mean is each parser's business.
"""

from __future__ import annotations

import re

from scraper.parsers.text import normalize_spaces, strip_ansi

#: Characters that draw a table's rules and cell edges (light and heavy).
_VERTICAL = "│┃"
_RULE_RE = re.compile(r"^[┌┏┡├└┗╞╘╭╰━─┬┳╇┼┴┻╪┿╋┐┓┩┤┘┛╡╛╮╯═\s]+$")
_ROW_RE = re.compile(rf"^[ \t]*[{_VERTICAL}](?P<body>.*)[{_VERTICAL}][ \t]*$")
_SPLIT_RE = re.compile(rf"[{_VERTICAL}]")
#: A cell that holds a number as reports print them: ``1,269``, ``$18.15``, ``27.5%``, ``-``.
NUMBER_CELL = re.compile(r"^(?:\$?\d[\d,]*(?:\.\d+)?(?:[kKM%]|…)?|-)$")


def is_rule(line: str) -> bool:
    """A line that only draws a table's border or separators."""
    return bool(line.strip()) and _RULE_RE.match(line) is not None


def cells(line: str) -> list[str] | None:
    """The stripped cells of one table line (``│ a │ b │`` → ``["a", "b"]``), else None.

    A line needs at least two cells: a one-cell box is a title panel, not a table row.
    """
    match = _ROW_RE.match(line)
    if match is None:
        return None
    parts = [part.strip() for part in _SPLIT_RE.split(match.group("body"))]
    return parts if len(parts) >= 2 else None


def rows(text: str) -> list[list[str]]:
    """Every table line of a screen as cells, in screen order (rules left out).

    Reads the capture itself, not :func:`~scraper.parsers.text.clean_lines` (which drops the
    border characters a table row is recognised by).
    """
    found = []
    for line in normalize_spaces(strip_ansi(text)).split("\n"):
        split = cells(line)
        if split is not None:
            found.append(split)
    return found
