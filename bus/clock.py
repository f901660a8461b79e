"""The one clock: every timestamp panebus writes comes from here, in RFC 3339 UTC.

Having one clock means tests and replays can reason about time in one format, and that no
module formats datetimes its own way.
"""

from __future__ import annotations

import datetime as dt
import time

UTC = dt.timezone.utc


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(UTC)


def to_rfc3339(moment: dt.datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with millisecond precision and a ``Z``.

    A naive datetime is refused: a timestamp whose zone is unknown would be a guess.
    """
    if moment.tzinfo is None:
        msg = "naive datetime: a zone is required"
        raise ValueError(msg)
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_rfc3339(text: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset) into an aware datetime."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        msg = f"timestamp without zone: {text!r}"
        raise ValueError(msg)
    return value


def parse_rfc3339_or_none(value: object) -> dt.datetime | None:
    """:func:`parse_rfc3339` for a field a reader may find missing or broken: None then.

    >>> parse_rfc3339_or_none("2026-12-03T10:00:00Z").hour, parse_rfc3339_or_none("soon")
    (10, None)
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_rfc3339(value)
    except (ValueError, OverflowError):
        return None


def local_zone() -> dt.tzinfo:
    """The machine's zone: the one the agents used when they printed a reset time."""
    return dt.datetime.now().astimezone().tzinfo or UTC


_current_millisecond: list[tuple[int, str]] = [(-1, "")]
"""One slot; replacing the tuple in it is atomic, so threads never see a torn pair."""


def now_rfc3339() -> str:
    """Return the current time formatted by :func:`to_rfc3339`.

    Publishers stamp every frame with it; at bus rates many frames share a millisecond, so the
    text of the current millisecond is kept (formatting costs more than the rest of a stamp).
    """
    millis = time.time_ns() // 1_000_000
    last = _current_millisecond[0]
    if last[0] == millis:
        return last[1]
    seconds, rest = divmod(millis, 1000)
    moment = dt.datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest * 1000)
    text = to_rfc3339(moment)
    _current_millisecond[0] = (millis, text)
    return text
