"""When each figure on a pane was first seen: the ``first_seen_at`` of a screen's limits.

docs/sinks.md "Which figure is shown": a figure's time is when its value was first observed.
Reading an old card again is not a new observation — a ``/status`` card left in scrollback
while the user types a draft below it is re-captured on every keystroke, and must not look
newer than the rollout line a later turn wrote. So the scraper remembers, per pane, the limit
rows of its last parsed capture and when each row was first seen; a row that is still there
with the same figures keeps its first time, a new or changed row gets the capture's time, and
rows that left the screen are forgotten (a card opened again later is a new observation).

A row is identified by what the screen printed: window, scope, metric, the percentage, the
reset *text* (not ``resets_at``, which a relative "resets in 2h" moves on every capture), the
absolute figures and the estimate flag. Pure apart from its memory; the pipeline calls
:meth:`FirstSeen.stamp` once per parsed capture and :meth:`FirstSeen.forget` when a pane goes.
"""

from __future__ import annotations

import typing as t

from bus.clock import to_rfc3339

if t.TYPE_CHECKING:
    import datetime as dt

#: The wire field (per limit) this module fills: RFC 3339 UTC, like ``observed_at``.
FIELD = "first_seen_at"

Row = tuple[t.Any, ...]


def row_of(limit: t.Mapping[str, t.Any]) -> Row:
    """What identifies one limit row as printed on the screen."""
    reset = limit.get("resets_text")
    if reset is None:
        reset = limit.get("resets_at")
    return (
        limit.get("window"),
        limit.get("scope"),
        limit.get("metric"),
        limit.get("used_pct"),
        reset,
        limit.get("used"),
        limit.get("limit"),
        limit.get("estimate"),
    )


class FirstSeen:
    """Per pane: the rows of the last parsed capture and the time each was first seen."""

    def __init__(self) -> None:
        self._panes: dict[t.Hashable, dict[Row, str]] = {}

    def __len__(self) -> int:
        return len(self._panes)

    def stamp(
        self, pane: t.Hashable, fields: dict[str, t.Any], moment: dt.datetime
    ) -> dict[str, t.Any]:
        """``fields`` (``Usage.to_dict()``) with :data:`FIELD` on every limit, and remember.

        ``moment`` is this capture's time. The input is not modified.
        """
        limits = fields.get("limits")
        if not isinstance(limits, list):
            return fields
        before = self._panes.get(pane, {})
        now = to_rfc3339(moment)
        seen: dict[Row, str] = {}
        stamped: list[t.Any] = []
        for limit in limits:
            if not isinstance(limit, dict):
                stamped.append(limit)
                continue
            row = row_of(limit)
            first = seen.get(row) or before.get(row) or now
            seen[row] = first
            stamped.append({**limit, FIELD: first})
        self._panes[pane] = seen
        return {**fields, "limits": stamped}

    def forget(self, pane: t.Hashable) -> None:
        """The pane went (or was respawned): what it showed is no longer on any screen."""
        self._panes.pop(pane, None)
