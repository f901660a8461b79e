"""Usage figures for the stand-in agents: deterministic from a seed and the elapsed time.

A demo must show figures that move (so the window log and the alias cache have something to
track), yet two runs with the same seed must draw the same numbers so that tests can assert
them. Everything here is a pure function of ``(seed, started, now, fast)``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

FIVE_HOURS = dt.timedelta(hours=5)
WEEK = dt.timedelta(days=7)


@dataclasses.dataclass(frozen=True)
class Window:
    """One limit window as an agent would show it: percent used and when it resets."""

    used_pct: int
    resets_at: dt.datetime

    @property
    def left_pct(self) -> int:
        """Codex since 0.58 shows what is left."""
        return 100 - self.used_pct


@dataclasses.dataclass(frozen=True)
class Monitor:
    """claude-monitor's local estimates for the current session."""

    cost_used: float
    cost_limit: float
    tokens_used: int
    tokens_limit: int
    messages_used: int
    messages_limit: int
    resets_at: dt.datetime
    burn_rate: float


@dataclasses.dataclass(frozen=True)
class Clock:
    """Seed, start time and speed of one stand-in; figures are derived from it."""

    seed: int
    started: dt.datetime
    fast: bool = False

    def _rng(self, salt: str) -> random.Random:
        return random.Random(f"{self.seed}:{salt}")

    def _step(self) -> float:
        """Seconds per percentage point of use: fast mode moves visibly within a demo."""
        return 4.0 if self.fast else 90.0

    def _window(self, salt: str, now: dt.datetime, length: dt.timedelta, slow: int) -> Window:
        rng = self._rng(salt)
        base = rng.randint(8, 45)
        first_reset = (self.started + length * rng.uniform(0.3, 0.9)).replace(
            second=0, microsecond=0
        )
        reset = first_reset
        elapsed_in_window = (now - self.started).total_seconds()
        while now >= reset:  # the window rolled over: a fresh window starts low
            elapsed_in_window = (now - reset).total_seconds()
            reset += length
            base = rng.randint(0, 5)
        used = min(100, base + int(max(elapsed_in_window, 0.0) / (self._step() * slow)))
        return Window(used_pct=used, resets_at=reset)

    def codex_five_hour(self, now: dt.datetime) -> Window:
        """Codex ``5h limit``."""
        return self._window("codex-5h", now, FIVE_HOURS, 1)

    def codex_weekly(self, now: dt.datetime) -> Window:
        """Codex ``Weekly limit``."""
        return self._window("codex-weekly", now, WEEK, 4)

    def claude_session(self, now: dt.datetime) -> Window:
        """Claude ``Current session``."""
        return self._window("claude-session", now, FIVE_HOURS, 1)

    def claude_week_all(self, now: dt.datetime) -> Window:
        """Claude ``Current week (all models)``."""
        return self._window("claude-week", now, WEEK, 4)

    def claude_week_sonnet(self, now: dt.datetime) -> Window:
        """Claude ``Current week (Sonnet only)``: shares the weekly reset."""
        week = self.claude_week_all(now)
        sonnet = self._window("claude-sonnet", now, WEEK, 8)
        return Window(used_pct=min(sonnet.used_pct, week.used_pct), resets_at=week.resets_at)

    def monitor(self, now: dt.datetime) -> Monitor:
        """claude-monitor ``--plan max5`` estimates, moving with the Claude session."""
        session = self.claude_session(now)
        rng = self._rng("monitor")
        share = session.used_pct / 100.0
        tokens_limit = 88_000
        return Monitor(
            cost_used=round(35.0 * share * rng.uniform(0.8, 1.1), 2),
            cost_limit=35.0,
            tokens_used=int(tokens_limit * share * rng.uniform(0.9, 1.2)),
            tokens_limit=tokens_limit,
            messages_used=int(1000 * share * rng.uniform(0.3, 0.6)),
            messages_limit=1000,
            resets_at=session.resets_at,
            burn_rate=round(rng.uniform(120.0, 480.0), 1),
        )
