"""Token and cost totals from ``ccusage … --json`` reports (Claude and Codex).

ccusage reads the agents' local logs and sums tokens per period, pricing them with public
rates. Its JSON changed across releases, and we read each spelling into one shape:

- report keys ``daily``, ``weekly``, ``monthly``, ``sessions`` (``session``) and ``blocks``;
- period keys ``date`` / ``week`` / ``month`` / ``sessionId`` / ``id`` (17.x, 18.x, Codex) or
  ``period`` with an ``agent`` and ``metadata.agents`` (20.x);
- dates as ``2026-11-22`` or ``Nov 22, 2026`` and months as ``2026-11`` or ``Nov 2026``
  (the Codex reports print locale dates);
- cache reads as ``cacheReadTokens``, ``cacheReadInputTokens`` (blocks ``tokenCounts``) or
  ``cachedInputTokens`` (older Codex reports, where ``inputTokens`` *includes* the cached part:
  it is split out so ``input_tokens`` always means uncached input);
- cost as ``totalCost``, ``costUSD`` or ``cost``; models as ``modelsUsed`` or a ``models`` map.

Pure: a decoded report in, normalized periods and :class:`Usage` objects out. No limits come
from here (ccusage knows no percentages); the periods travel as extra fields.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import typing as t

from scraper.parsers.model import Usage
from scraper.sources.values import count, flat, moment, number, scalar

logger = logging.getLogger(__name__)

PROVIDER = "ccusage"
#: report name → keys its rows may be listed under.
REPORT_KEYS: dict[str, tuple[str, ...]] = {
    "daily": ("daily",),
    "weekly": ("weekly",),
    "monthly": ("monthly",),
    "session": ("sessions", "session"),
    "blocks": ("blocks",),
}
REPORTS = tuple(REPORT_KEYS)
AGENTS = ("claude", "codex")
_DATE_FORMATS = ("%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%d %b %Y")
_MONTH_FORMATS = ("%Y-%m", "%b %Y", "%B %Y")


class ReportError(ValueError):
    """Input that is not a ccusage JSON report; the message says what was expected."""


def _first(row: t.Mapping[str, t.Any], *keys: str) -> t.Any:
    for key in keys:
        if row.get(key) is not None:
            return row[key]
    return None


def _count(row: t.Mapping[str, t.Any], *keys: str) -> int | None:
    return count(_first(row, *keys))


def _label(value: object) -> str | None:
    """A period or session key as text: a string or a number, never a nested value."""
    value = scalar(value)
    return None if value is None or isinstance(value, bool) else str(value)


def parse_day(text: object) -> dt.date | None:
    """``2026-11-22``, ``Nov 22, 2026`` or an RFC 3339 time (its calendar date as written)."""
    if not isinstance(text, str):
        return None
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    if len(text) >= 10 and "T" in text:
        return parse_day(text[:10])
    return None


def parse_month(text: object) -> dt.date | None:
    """``2026-11`` or ``Nov 2026`` as the first day of that month."""
    if not isinstance(text, str):
        return None
    for fmt in _MONTH_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _models(row: t.Mapping[str, t.Any]) -> list[str]:
    models = _first(row, "modelsUsed", "models")
    if isinstance(models, (t.Mapping, list)):
        return [name for name in models if isinstance(name, str)]
    return []


def _is_codex_shape(row: t.Mapping[str, t.Any]) -> bool:
    """ccusage's Codex rows carry reasoning tokens and a per-model map with ``isFallback``."""
    return (
        "cachedInputTokens" in row
        or "reasoningOutputTokens" in row
        or isinstance(row.get("models"), t.Mapping)
    )


def _agents(row: t.Mapping[str, t.Any]) -> list[str]:
    metadata = row.get("metadata")
    listed = metadata.get("agents") if isinstance(metadata, t.Mapping) else None
    if isinstance(listed, list):
        return sorted({agent for agent in listed if isinstance(agent, str)})
    agent = row.get("agent")
    if agent in AGENTS:
        return [str(agent)]
    return ["codex"] if _is_codex_shape(row) else ["claude"]


def _agent_of(agents: t.Sequence[str]) -> str:
    return agents[0] if len(agents) == 1 else "all"


def _tokens(row: t.Mapping[str, t.Any]) -> dict[str, int | None]:
    counts = row.get("tokenCounts")
    source = counts if isinstance(counts, t.Mapping) else row
    input_tokens = _count(source, "inputTokens")
    cache_read = _count(source, "cacheReadTokens", "cacheReadInputTokens")
    cached_input = _count(source, "cachedInputTokens")
    if cache_read is None and cached_input is not None:
        # Older Codex reports: inputTokens includes the cached part (Codex's own accounting).
        cache_read = cached_input
        if input_tokens is not None and cached_input <= input_tokens:
            input_tokens -= cached_input
    return {
        "input_tokens": input_tokens,
        "output_tokens": _count(source, "outputTokens"),
        "cache_creation_tokens": _count(source, "cacheCreationTokens", "cacheCreationInputTokens"),
        "cache_read_tokens": cache_read,
        "reasoning_output_tokens": _count(source, "reasoningOutputTokens"),
        "total_tokens": _count(row, "totalTokens"),
    }


def _span(report: str, row: t.Mapping[str, t.Any]) -> tuple[str | None, str | None, str | None]:
    """(period key, start, end) of one row; dates as ``YYYY-MM-DD``, block times RFC 3339."""
    if report == "blocks":
        start = moment(row.get("startTime"))
        end = moment(row.get("endTime"))
        return (
            _label(_first(row, "id", "startTime")),
            start.isoformat() if start else None,
            end.isoformat() if end else None,
        )
    if report == "session":
        key = _label(_first(row, "sessionId", "period", "session"))
        last = row.get("lastActivity")
        when = moment(last) if isinstance(last, str) and "T" in last else None
        day = parse_day(last)
        end_text = when.isoformat() if when else day.isoformat() if day else None
        return (key, None, end_text)
    if report == "monthly":
        first = parse_month(_first(row, "month", "period"))
        if first is None:
            return (None, None, None)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        return (f"{first:%Y-%m}", first.isoformat(), last.isoformat())
    day = parse_day(_first(row, "week", "date", "period"))
    if day is None:
        return (None, None, None)
    try:
        end_day = day + dt.timedelta(days=6) if report == "weekly" else day
    except OverflowError:  # a week starting in the last days of year 9999
        return (day.isoformat(), day.isoformat(), None)
    return (day.isoformat(), day.isoformat(), end_day.isoformat())


def normalize_period(report: str, row: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """One report row as ``{period, period_text, start, end, <tokens>, cost_usd, models…}``."""
    key, start, end = _span(report, row)
    agents = _agents(row)
    period: dict[str, t.Any] = {
        "period": key,
        "period_text": _label(_first(row, "period", "date", "week", "month", "sessionId", "id")),
        "start": start,
        "end": end,
        **_tokens(row),
        "cost_usd": number(_first(row, "totalCost", "costUSD", "cost")),
        "models": _models(row),
        "agent": _agent_of(agents),
        "agents": agents,
    }
    if report == "blocks":
        actual_end = moment(row.get("actualEndTime"))
        period["actual_end"] = actual_end.isoformat() if actual_end else None
        period["is_active"] = row.get("isActive") is True
        period["is_gap"] = row.get("isGap") is True
        period["projection"] = flat(row.get("projection"))
    if report == "session":
        period["project"] = _label(_first(row, "projectPath", "directory", "project"))
    return period


def _rows(obj: t.Mapping[str, t.Any]) -> list[tuple[str, list[t.Mapping[str, t.Any]]]]:
    found: list[tuple[str, list[t.Mapping[str, t.Any]]]] = []
    for report, keys in REPORT_KEYS.items():
        for key in keys:
            rows = obj.get(key)
            if isinstance(rows, list):
                found.append((report, [row for row in rows if isinstance(row, t.Mapping)]))
                break
    return found


def _periods(
    report: str, rows: t.Sequence[t.Mapping[str, t.Any]]
) -> tuple[list[dict[str, t.Any]], int]:
    """The rows normalized; one that cannot be read is skipped, counted and logged."""
    periods: list[dict[str, t.Any]] = []
    skipped = 0
    for index, row in enumerate(rows):
        try:
            periods.append(normalize_period(report, row))
        except Exception as exc:  # one bad row must not cost the report
            skipped += 1
            logger.warning(
                "skipping ccusage row: %s",
                str(exc)[:200],
                extra={"report": report, "row": index, "reason": type(exc).__name__},
            )
    return periods, skipped


def is_report(obj: object) -> bool:
    """Whether ``obj`` looks like a ccusage JSON report (for ``panebus parse`` auto-detection)."""
    return isinstance(obj, t.Mapping) and bool(_rows(obj))


def usages_from_report(obj: object) -> list[Usage]:
    """One :class:`Usage` per report in ``obj`` (normally one), screen ``ccusage.<report>.<agent>``.

    ``extra`` carries ``report``, ``agent`` (claude, codex, all when a 20.x report mixes
    them, unknown when it has no rows), ``agents``, ``periods`` (normalized rows, gap blocks
    included and marked) and ``totals`` (the report's own totals, normalized; ``None`` when
    it has none).
    Raises :class:`ReportError` when ``obj`` is no ccusage report.
    """
    if not isinstance(obj, t.Mapping):
        msg = "a ccusage report is a JSON object such as {\"daily\": [...], \"totals\": {...}}"
        raise ReportError(msg)
    found = _rows(obj)
    if not found:
        expected = ", ".join(key for keys in REPORT_KEYS.values() for key in keys)
        msg = f"no ccusage report in this JSON: expected one of the keys {expected}"
        raise ReportError(msg)
    usages: list[Usage] = []
    for report, rows in found:
        periods, skipped = _periods(report, rows)
        agents = sorted({agent for period in periods for agent in period["agents"]})
        totals_row = obj.get("totals")
        totals = None
        if isinstance(totals_row, t.Mapping):
            totals = {
                **_tokens(totals_row),
                "cost_usd": number(_first(totals_row, "totalCost", "costUSD", "cost")),
            }
        agent = _agent_of(agents) if agents else "unknown"
        usages.append(
            Usage(
                provider=PROVIDER,
                screen=f"{PROVIDER}.{report}.{agent}",
                extra={
                    "report": report,
                    "agent": agent,
                    "agents": agents,
                    "periods": periods,
                    "totals": totals,
                    "skipped_rows": skipped,
                },
            )
        )
    return usages
