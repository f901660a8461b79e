"""Reading loosely typed JSON values from agent logs, hooks and reports, without guessing.

Codex, Claude Code and ccusage write numbers as JSON numbers or numeric strings, and times as
Unix seconds or RFC 3339 strings, depending on the version. These readers accept each
spelling and return ``None`` for anything else, so a source module never turns a surprise into
a wrong figure — nor into an exception: ``nan``, ``inf``, ``1e999``, a 5,000-digit integer
(Python's ``json`` yields those) and dates at the edges of the calendar are unknown, not
errors.
"""

from __future__ import annotations

import datetime as dt
import math
import typing as t

from bus.clock import UTC, parse_rfc3339

#: The span of times a reader returns. A day inside ``datetime``'s own range, so that showing
#: the time in any zone (at most ±24 h away) can never overflow; nothing real is that old.
EARLIEST = dt.datetime(1, 1, 2, tzinfo=UTC)
LATEST = dt.datetime(9999, 12, 30, tzinfo=UTC)
#: The largest count a float holds exactly (JSON readers give floats past 64 bits).
EXACT_INTEGERS = 2**53
#: Scalars kept from free-form objects (credits, token totals): nested values are dropped, so
#: whatever we pass on is as flat, and as encodable, as what the agents write.
SCALARS = (str, int, float, bool, type(None))


def number(value: object) -> float | None:
    """A finite JSON number or numeric string as ``float``; booleans and the rest are unknown.

    >>> number("12.5"), number(3), number(True), number("nan"), number(10**400)
    (12.5, 3.0, None, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, str)):
        try:
            result = float(value)
        except (ValueError, OverflowError):
            return None
        return result if math.isfinite(result) else None
    return None


def percent(value: object) -> float | None:
    """A percentage: a :func:`number` within 0..100, else unknown (never clamped). Float noise
    of the sender (Claude's statusLine sends 0.57 × 100 as 56.99999999999999) is rounded away
    at 9 decimals, far below any figure an agent shows.

    >>> percent(42), percent("100"), percent(-1), percent(100.5), percent(56.99999999999999)
    (42.0, 100.0, None, None, 57.0)
    """
    result = number(value)
    if result is None or not 0.0 <= result <= 100.0:
        return None
    return round(result, 9)


def count(value: object) -> int | None:
    """A whole number of things (tokens): a :func:`number` without a fractional part.

    >>> count(12), count("7"), count(1.5), count(None), count(1e32)
    (12, 7, None, None, None)
    """
    result = number(value)
    if result is None or not result.is_integer() or abs(result) > EXACT_INTEGERS:
        return None  # past 2**53 a float no longer holds the integer that was written
    return int(result)


def text(value: object) -> str | None:
    """A non-empty string, else unknown."""
    return value if isinstance(value, str) and value else None


def scalar(value: object) -> str | int | float | bool | None:
    """A JSON scalar as is (a finite number), else ``None``: nested values are not passed on."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, SCALARS) else None


def flat(value: object) -> dict[str, t.Any] | None:
    """An object's scalar members (see :data:`SCALARS`); ``None`` when it is no object."""
    if not isinstance(value, dict):
        return None
    return {str(key): scalar(item) for key, item in value.items() if isinstance(item, SCALARS)}


def in_range(moment_: dt.datetime) -> dt.datetime | None:
    """``moment_`` (aware) in UTC when it lies between :data:`EARLIEST` and :data:`LATEST`."""
    try:
        value = moment_.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return value if EARLIEST <= value <= LATEST else None


def rfc3339(value: object) -> dt.datetime | None:
    """RFC 3339 text as an aware UTC datetime; unknown when malformed or out of range.

    >>> rfc3339("0001-01-01T00:00:00+01:00") is None
    True
    """
    if not isinstance(value, str):
        return None
    try:
        return in_range(parse_rfc3339(value))
    except (ValueError, OverflowError):
        return None


def moment(value: object) -> dt.datetime | None:
    """Unix seconds (number or numeric string) or RFC 3339 text as an aware UTC datetime."""
    seconds = number(value)
    if seconds is not None:
        try:
            return in_range(dt.datetime.fromtimestamp(seconds, UTC))
        except (OverflowError, OSError, ValueError):
            return None
    return rfc3339(value)


def shifted(base: dt.datetime | None, seconds: object) -> dt.datetime | None:
    """``base`` plus a number of seconds, unknown when either is unknown or out of range."""
    offset = number(seconds)
    if base is None or offset is None:
        return None
    try:
        return in_range(base + dt.timedelta(seconds=offset))
    except (OverflowError, ValueError):
        return None
