"""Reading loosely typed JSON values from agent logs, hooks and reports, without guessing.

Codex, Claude Code and ccusage write numbers as JSON numbers or numeric strings, and times as
Unix seconds or RFC 3339 strings, depending on the version. These two readers accept each
spelling and return ``None`` for anything else, so a source module never turns a surprise into
a wrong figure.
"""

from __future__ import annotations

import datetime as dt

from bus.clock import UTC, parse_rfc3339


def number(value: object) -> float | None:
    """A JSON number or numeric string as ``float``; booleans and the rest are unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def moment(value: object) -> dt.datetime | None:
    """Unix seconds (number or numeric string) or RFC 3339 text as an aware UTC datetime."""
    seconds = number(value)
    if seconds is not None:
        try:
            return dt.datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return parse_rfc3339(value).astimezone(UTC)
        except ValueError:
            return None
    return None
