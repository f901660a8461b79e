"""The stand-in Codex's session log: ``rollout-*.jsonl`` lines as Codex 0.169 writes them.

Real Codex appends an ``event_msg`` / ``token_count`` line carrying ``rate_limits`` after each
turn; panebus's rollout tailer turns those into official figures. The stand-in does the same
(only when the demo gives it a directory: it never writes into a real ``~/.codex``), so the
demo exercises that source too. At start it writes the turns of the last
:data:`BACKFILL_MINUTES` of its session, as a session that has been running a while has them,
which gives the forecast enough points to show a run-out time within a short demo.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path

    from panebus.demo.figures import Clock, Window

BACKFILL_MINUTES = 20
BACKFILL_EVERY = 4  # minutes between the earlier turns (the last is 8 minutes before now)
PACE_PER_MINUTE = 1.0  # percentage points of the 5h window an earlier turn used per minute


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


class RolloutWriter:
    """Appends session_meta and token_count lines to one rollout file under ``sessions``."""

    def __init__(self, sessions: Path, session_id: str, clock: Clock, cwd: str) -> None:
        self.clock = clock
        self.session_id = session_id
        self.cwd = cwd
        self.ordinal = 0
        self.path: Path | None = None
        self.sessions = sessions

    def _line(self, moment: dt.datetime, kind: str, payload: dict[str, t.Any]) -> None:
        if self.path is None:
            day = moment.astimezone(dt.timezone.utc)
            folder = self.sessions / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}"
            folder.mkdir(parents=True, exist_ok=True)
            self.path = folder / f"rollout-{day:%Y-%m-%dT%H-%M-%S}-{self.session_id}.jsonl"
        record = {"timestamp": _stamp(moment), "ordinal": self.ordinal, "type": kind,
                  "payload": payload}
        self.ordinal += 1
        with self.path.open("a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")

    @staticmethod
    def _limits(five: Window, weekly: Window) -> dict[str, t.Any]:
        return {
            "limit_id": "codex", "limit_name": None,
            "primary": {"used_percent": float(five.used_pct), "window_minutes": 300,
                        "resets_at": int(five.resets_at.timestamp())},
            "secondary": {"used_percent": float(weekly.used_pct), "window_minutes": 10080,
                          "resets_at": int(weekly.resets_at.timestamp())},
            "credits": {"has_credits": False, "unlimited": False, "balance": None},
            "plan_type": None,
        }

    def _token_count(self, moment: dt.datetime, five: Window, weekly: Window) -> None:
        self._line(moment, "event_msg", {
            "type": "token_count", "info": None, "rate_limits": self._limits(five, weekly)})

    def backfill(self, now: dt.datetime) -> None:
        """The session's meta line and its earlier turns, ending a minute before ``now``."""
        start = now - dt.timedelta(minutes=BACKFILL_MINUTES)
        self._line(start, "session_meta", {
            "id": self.session_id, "timestamp": _stamp(start), "cwd": self.cwd,
            "originator": "codex-tui", "cli_version": "0.169.0"})
        five, weekly = self.clock.codex_five_hour(now), self.clock.codex_weekly(now)
        # the last earlier turn ends BACKFILL_EVERY minutes or more before now: at start the
        # tailer reports only a log's newest figures, so that is the one the stack sees
        for back in range(BACKFILL_MINUTES - BACKFILL_EVERY, BACKFILL_EVERY, -BACKFILL_EVERY):
            used = max(0, five.used_pct - round(back * PACE_PER_MINUTE))
            earlier = dataclasses.replace(five, used_pct=used)
            self._token_count(now - dt.timedelta(minutes=back), earlier, weekly)

    def turn(self, now: dt.datetime) -> None:
        """One finished turn: the figures of ``now``."""
        self._token_count(now, self.clock.codex_five_hour(now), self.clock.codex_weekly(now))

