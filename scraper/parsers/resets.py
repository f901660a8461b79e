"""Resolve the reset phrases agents print ("08:44", "13:32 on 27 Nov", "9pm", "1h 26m") to times.

Screens print resets in the terminal's local time and mostly without a date or a year, so the
absolute time depends on when the screen was seen and in which zone (docs/parsers.md). One resolver
serves every parser so the same phrase always means the same instant.

Rules (each tested in ``tests/parsers/test_resets.py``):

* A time without a date is the next such wall-clock time after ``observed_at`` in the zone,
  across midnight. Screens truncate to the minute, so a time equal to the observed minute
  ("08:44" seen at 08:44:30) still counts as now, not as tomorrow.
* A date without a year takes the year that puts it on or after the observation's local date:
  "nearest future date", counting today as not yet past. "08:00 on 25 Nov" seen at 10:00 on
  25 Nov resolves to 08:00 that day (already past: the card is stale) — jumping a year ahead
  would invent a date no usage window can have.
* A date without a time is midnight (start) of that date in the zone.
* A zone printed on screen ("4:59am (America/New_York)") wins over the configured zone; an
  unknown zone name gives ``None`` (not the configured zone: that would be a guess).
* Relative phrases ("1h 26m", "2d 3h", "in 3 hours") are added to ``observed_at``.
  Approximations ("~5 hours", "about 2h") are not exact and give ``None``.
* Anything else ("soon", "later", noise) gives ``None``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import typing as t
import zoneinfo

logger = logging.getLogger(__name__)

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(?P<{name}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?P<{name}>\d{{1,2}})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s*(?P<{name}>\d{{4}}))?"

# "27 Nov", "27 Nov 2026"  |  "Nov 28", "Nov 28th, 2025"  |  "2026-11-28"
_DATE_RE = re.compile(
    r"(?<![\w:])(?:"
    + _DAY.format(name="d1")
    + r"\s+"
    + _MONTH.format(name="m1")
    + _YEAR.format(name="y1")
    + r"|"
    + _MONTH.format(name="m2")
    + r"\s+"
    + _DAY.format(name="d2")
    + _YEAR.format(name="y2")
    + r"|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2})"
    + r")(?![\w:])",
    re.IGNORECASE,
)
# "08:44", "07:19:30", "4:59am", "9pm", "8:00 AM", "3:15 p.m."
_TIME_RE = re.compile(
    r"(?<![\w:.])(?P<h>\d{1,2})(?::(?P<m>\d{2})(?::(?P<s>\d{2}))?)?"
    r"\s*(?P<ampm>[ap]\.?m\.?(?![a-z]))?",
    re.IGNORECASE,
)
_ZONE_RE = re.compile(
    r"\(\s*(?P<zone>[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)+|UTC|GMT)\s*\)"
    r"|(?<![\w/])(?P<bare>UTC|GMT)(?!\w)"
)
_REL_UNITS = {
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
}
_REL_TOKEN_RE = re.compile(r"(\d+)\s*([a-z]+)", re.IGNORECASE)
_REL_PHRASE_RE = re.compile(
    r"^(?:in\s+)?(?:\d+\s*[a-z]+(?:\s*,\s*|\s+and\s+|\s+)?)+(?:\s*from now)?$", re.IGNORECASE
)
_APPROX_RE = re.compile(r"^(?:~|≈|about\b|approx\.?|approximately\b|around\b|roughly\b)", re.I)
# Words a reset phrase may be wrapped in on screen; removed before parsing.
_LEAD_RE = re.compile(
    r"^(?:(?:limit\s+)?resets?(?:\s+at)?\s*:?|try again at|next refill:?|at\b|on\b)\s*",
    re.IGNORECASE,
)
# What may remain once the date and time are taken out: connectors only.
_RESIDUE_RE = re.compile(r"^[\s,()@·\-]*(?:(?:on|at)\b[\s,()@·\-]*)*$", re.IGNORECASE)

# A phrase cut by the pane edge ("07:08 on" + "7 May)" on the next line) is not a time yet.
_TRUNCATED_RE = re.compile(r"(?:\b(?:on|at|in)|[,(])$", re.IGNORECASE)

_MINUTE_GRACE = dt.timedelta(minutes=1)


def split_zone(phrase: str) -> tuple[str, str | None]:
    """Split a zone printed with the phrase: ``"4:59am (America/New_York)"`` → (``"4:59am"``, name).

    Returns the phrase without the zone, and the zone name as printed (``None`` if there is
    none). ``UTC``/``GMT`` count as zones too.
    """
    match = _ZONE_RE.search(phrase)
    if match is None:
        return phrase.strip(), None
    name = match.group("zone") or match.group("bare")
    rest = (phrase[: match.start()] + " " + phrase[match.end() :]).strip()
    return " ".join(rest.split()), name


def zone_named(name: str) -> dt.tzinfo | None:
    """The zone for an IANA name printed on screen, or ``None`` when it is not a known zone."""
    if name.upper() in {"UTC", "GMT", "Z"}:
        return dt.timezone.utc
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        logger.debug("unknown zone on screen", extra={"zone": name})
        return None


def _clean(phrase: str) -> str:
    text = " ".join(phrase.replace("\u00a0", " ").split())
    text = text.strip(" .;")
    # "(resets 10:01)" and "· resets 03:14" come with their wrapper when read loosely.
    if text.startswith("(") and text.endswith(")") and text.count("(") == 1:
        text = text[1:-1].strip()
    text = text.lstrip("·•").strip()
    previous = None
    while previous != text:
        previous = text
        text = _LEAD_RE.sub("", text).strip()
    return text.rstrip(" .;")


def _relative_seconds(text: str) -> int | None:
    if not _REL_PHRASE_RE.match(text):
        return None
    body = re.sub(r"^in\s+|\s*from now$", "", text, flags=re.IGNORECASE)
    total = 0
    consumed = _REL_TOKEN_RE.sub("", body)
    if re.sub(r"(?:,|\band\b|\s)+", "", consumed, flags=re.IGNORECASE):
        return None
    seen = False
    for number, unit in _REL_TOKEN_RE.findall(body):
        factor = _REL_UNITS.get(unit.lower())
        if factor is None:
            return None
        total += int(number) * factor
        seen = True
    return total if seen else None


def _parse_time(match: re.Match[str]) -> dt.time | None:
    hour = int(match.group("h"))
    minute = int(match.group("m") or 0)
    second = int(match.group("s") or 0)
    ampm = match.group("ampm")
    if minute > 59 or second > 59:
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        is_pm = ampm.lower().startswith("p")
        hour = hour % 12 + (12 if is_pm else 0)
    elif hour > 23:
        return None
    return dt.time(hour, minute, second)


def _find_time(text: str) -> tuple[re.Match[str], dt.time] | None:
    for match in _TIME_RE.finditer(text):
        # A bare number is not a time ("Dec 1", "2 days"): it needs a colon or am/pm.
        if match.group("m") is None and match.group("ampm") is None:
            continue
        parsed = _parse_time(match)
        return (match, parsed) if parsed is not None else None
    return None


def _date_parts(match: re.Match[str]) -> tuple[int | None, int, int] | None:
    if match.group("y3"):
        return int(match.group("y3")), int(match.group("m3")), int(match.group("d3"))
    if match.group("m1"):
        month, day, year = match.group("m1"), match.group("d1"), match.group("y1")
    else:
        month, day, year = match.group("m2"), match.group("d2"), match.group("y2")
    month_number = _MONTHS.get(month[:3].lower())
    if month_number is None:
        return None
    return (int(year) if year else None), month_number, int(day)


def _localize(day: dt.date, at: dt.time, zone: dt.tzinfo, fold: int = 0) -> dt.datetime:
    """Wall-clock ``day at`` in ``zone`` (a time skipped by DST lands just after the gap)."""
    naive = dt.datetime.combine(day, at).replace(fold=fold)
    aware = naive.replace(tzinfo=zone)
    # Round-trip through UTC normalises a wall time inside a DST gap.
    return aware.astimezone(dt.timezone.utc).astimezone(zone)


def _next_time(
    at: dt.time, observed: dt.datetime, zone: dt.tzinfo, grace: dt.timedelta
) -> dt.datetime:
    local_today = observed.astimezone(zone).date()
    for offset in range(3):
        day = local_today + dt.timedelta(days=offset)
        for fold in (0, 1):
            candidate = _localize(day, at, zone, fold)
            # Compare in UTC: wall-clock arithmetic inside one zone ignores the DST fold.
            if candidate.astimezone(dt.timezone.utc) + grace > observed:
                return candidate
    return _localize(local_today + dt.timedelta(days=1), at, zone)  # pragma: no cover


def _valid_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _pick_date(
    year: int | None, month: int, day: int, observed: dt.datetime, zone: dt.tzinfo
) -> dt.date | None:
    """The dated day: as printed, or (no year) the first such date on or after today."""
    if year is not None:
        return _valid_date(year, month, day)
    today = observed.astimezone(zone).date()
    for candidate_year in (today.year, today.year + 1, today.year + 2, today.year + 3):
        # Feb 29 exists only in leap years: look up to 3 years ahead for it.
        candidate = _valid_date(candidate_year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def resolve_reset(phrase: str, observed_at: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
    """Resolve a reset phrase seen at ``observed_at`` in ``zone`` to an aware datetime, or ``None``.

    ``observed_at`` should be aware; a naive one is taken as UTC. The result is expressed in
    the zone the phrase is read in (the on-screen zone when printed, else ``zone``).

    >>> import datetime as dt
    >>> seen = dt.datetime(2026, 11, 25, 6, 30, tzinfo=dt.timezone.utc)
    >>> resolve_reset("08:44", seen, dt.timezone.utc).isoformat()
    '2026-11-25T08:44:00+00:00'
    >>> resolve_reset("13:32 on 27 Nov", seen, dt.timezone.utc).isoformat()
    '2026-11-27T13:32:00+00:00'
    >>> resolve_reset("1h 26m", seen, dt.timezone.utc).isoformat()
    '2026-11-25T07:56:00+00:00'
    >>> resolve_reset("soon", seen, dt.timezone.utc) is None
    True
    """
    try:
        return _resolve(phrase, observed_at, zone)
    except (ValueError, OverflowError, TypeError, AttributeError):
        logger.debug("unresolvable reset phrase", extra={"phrase": phrase[:80]}, exc_info=True)
        return None


def _resolve(phrase: str, observed_at: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
    if not isinstance(phrase, str) or not phrase.strip() or len(phrase) > 200:
        return None
    if observed_at.tzinfo is None:
        observed_at = observed_at.replace(tzinfo=dt.timezone.utc)
    rest, zone_name = split_zone(phrase)
    if zone_name is not None:
        screen_zone = zone_named(zone_name)
        if screen_zone is None:
            return None
        zone = screen_zone
    text = _clean(rest)
    if not text or _APPROX_RE.match(text) or _TRUNCATED_RE.search(text):
        return None

    seconds = _relative_seconds(text)
    if seconds is not None:
        return (observed_at + dt.timedelta(seconds=seconds)).astimezone(zone)

    date_match = _DATE_RE.search(text)
    remainder = text
    date_parts: tuple[int | None, int, int] | None = None
    if date_match is not None:
        date_parts = _date_parts(date_match)
        if date_parts is None:
            return None
        remainder = text[: date_match.start()] + " " + text[date_match.end() :]
    found = _find_time(remainder)
    at: dt.time | None = None
    if found is not None:
        time_match, at = found
        remainder = remainder[: time_match.start()] + " " + remainder[time_match.end() :]
    if not _RESIDUE_RE.match(remainder):
        # Words or digits left over ("25:99", "13pm", "soon"): not a phrase we can read.
        return None
    if date_parts is None and at is None:
        return None

    grace = _MINUTE_GRACE if at is not None and at.second == 0 else dt.timedelta(seconds=1)
    if date_parts is None:
        return _next_time(at or dt.time(0, 0), observed_at, zone, grace)
    year, month, day = date_parts
    picked = _pick_date(year, month, day, observed_at, zone)
    if picked is None:
        return None
    return _localize(picked, at or dt.time(0, 0), zone)


def resolve_all(
    phrases: t.Iterable[str], observed_at: dt.datetime, zone: dt.tzinfo
) -> dt.datetime | None:
    """The first phrase that resolves, in the order given (put absolute phrases first).

    docs/parsers.md: a reset shown both absolutely and relatively — the absolute one wins.
    """
    for phrase in phrases:
        resolved = resolve_reset(phrase, observed_at, zone)
        if resolved is not None:
            return resolved
    return None
