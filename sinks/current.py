"""Which figure is current: the one rule for everything that shows one figure per limit.

docs/sinks.md "Which figure is shown". Each figure carries the time its value was *first
observed*: a limit's ``first_seen_at`` (the scraper stamps it for screens, so a card re-read
from scrollback keeps its first time), or the frame's ``observed_at`` when absent (a log line
or hook call is observed when it happens). Among exact figures — ``official`` ones, or
``parsed`` ones read exactly from a card or an exact banner — the most recently observed wins,
whatever its source; ``official`` breaks ties only within :data:`OFFICIAL_TIE`. Estimates
(confidence ``estimate``, or a limit flagged ``estimate``) show only where no *fresh* exact
figure exists. Freshness never lets an older exact figure beat a newer one: a card gone stale
is still newer knowledge than the log line before it.

Pure (no files, no clock): the alias cache (:mod:`sinks.alias_cache`) and the window tracker
(:mod:`sinks.windows`) both call :func:`choose`, so ``occ`` and the window log never disagree
about which figure is current.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from bus.clock import parse_rfc3339

#: An ``official`` figure wins over an exact screen figure first observed at most this much
#: later (a turn writes the rollout and redraws the footer gauge within a second or two).
OFFICIAL_TIE = dt.timedelta(seconds=5)
#: How long a figure without ``stale_after`` (logs, hooks) counts as fresh.
DEFAULT_TTL = dt.timedelta(minutes=15)
#: Candidate slots per limit: the latest figure of each kept separately.
SLOTS = ("official", "parsed", "estimate")

Figure = dict[str, t.Any]


def _time(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError:
        return None


def first_seen(figure: t.Mapping[str, t.Any]) -> dt.datetime | None:
    """When the figure's value was first observed (``first_seen_at``, else ``observed_at``)."""
    return _time(figure.get("first_seen_at")) or _time(figure.get("observed_at"))


def confidence(figure: t.Mapping[str, t.Any]) -> str:
    """The figure's source confidence (``estimate`` when unknown)."""
    source = figure.get("source")
    value = source.get("confidence") if isinstance(source, t.Mapping) else None
    return value if value in SLOTS else "estimate"


def slot(figure: t.Mapping[str, t.Any]) -> str:
    """``official``, ``parsed`` (exact, from a screen or paste) or ``estimate``."""
    if figure.get("estimate") is True:
        return "estimate"
    return confidence(figure)


def is_exact(figure: t.Mapping[str, t.Any]) -> bool:
    """Official, or read exactly from a card or an exact banner."""
    return slot(figure) != "estimate"


def stale_at(figure: t.Mapping[str, t.Any]) -> dt.datetime | None:
    """When this figure becomes stale (``None``: unknown observation time)."""
    if figure.get("stale_after"):
        return _time(figure.get("stale_after"))
    observed = _time(figure.get("observed_at"))
    return observed + DEFAULT_TTL if observed is not None else None


def is_fresh(figure: t.Mapping[str, t.Any], now: dt.datetime) -> bool:
    """Whether ``figure`` still describes the present at ``now``."""
    stale = stale_at(figure)
    return stale is not None and now < stale


def recency(figure: t.Mapping[str, t.Any]) -> tuple[dt.datetime, dt.datetime]:
    """Order of figures of one slot: first observed, then last observed."""
    floor = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return (first_seen(figure) or floor, _time(figure.get("observed_at")) or floor)


def newest_exact(figures: t.Iterable[Figure]) -> Figure | None:
    """The most recently first-observed exact figure; ``official`` wins within the tie period."""
    exact = [(recency(f), f) for f in figures if is_exact(f)]
    if not exact:
        return None
    newest = max(seen for (seen, _), _ in exact)
    tied = [(key, f) for key, f in exact if newest - key[0] <= OFFICIAL_TIE]
    return max(tied, key=lambda item: (slot(item[1]) == "official", item[0]))[1]


def choose(candidates: t.Iterable[Figure], now: dt.datetime) -> Figure | None:
    """The figure to show for one limit among its candidates, at ``now``.

    The newest exact figure when it is fresh; else the newest fresh estimate; else whatever is
    newest (stale: the reader marks it so), exact before estimate.
    """
    figures = list(candidates)
    exact = newest_exact(figures)
    if exact is not None and is_fresh(exact, now):
        return exact
    estimates = sorted(
        (f for f in figures if not is_exact(f)), key=recency, reverse=True
    )
    fresh = [f for f in estimates if is_fresh(f, now)]
    if fresh:
        return fresh[0]
    if exact is not None:
        return exact
    return estimates[0] if estimates else None


def figure_of(limit: t.Mapping[str, t.Any], body: t.Mapping[str, t.Any]) -> Figure:
    """One limit of a parsed frame as a candidate figure (limit fields + where it came from)."""
    figure = dict(limit)
    observed = body.get("observed_at")
    figure.update(
        source=body.get("source"),
        screen=body.get("screen"),
        observed_at=observed,
        first_seen_at=limit.get("first_seen_at") or observed,
        stale_after=body.get("stale_after"),
        frame_id=body.get("id"),
    )
    return figure


def offer(slots: dict[str, Figure], figure: Figure) -> bool:
    """Keep ``figure`` in its slot when it is newer than the one there; ``True`` if kept."""
    name = slot(figure)
    kept = slots.get(name)
    if kept is not None and recency(kept) >= recency(figure):
        return False
    slots[name] = figure
    return True
