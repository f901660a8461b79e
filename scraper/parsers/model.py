"""The normalized usage object every parser returns (DESIGN §4).

Parsers are pure: text + observation time + zone in, :class:`Usage` out. ``to_dict`` gives
exactly the JSON shape of DESIGN §4, which ``panebus parse --json`` prints and parsed frames
carry.
"""

from __future__ import annotations

import dataclasses
import typing as t

if t.TYPE_CHECKING:
    import datetime as dt

Window = t.Literal["5h", "weekly", "daily", "monthly", "other"]
Metric = t.Literal["quota", "tokens", "cost", "messages"]
State = t.Literal["idle", "working", "waiting", "unknown"]


@dataclasses.dataclass
class Limit:
    """One usage limit as read from a screen, log, hook or report."""

    window: Window
    used_pct: float | None
    scope: str | None = None
    metric: Metric = "quota"
    resets_at: dt.datetime | None = None
    resets_text: str | None = None
    used: float | None = None
    limit: float | None = None
    estimate: bool = False

    def to_dict(self) -> dict[str, t.Any]:
        """JSON shape of DESIGN §4 (``resets_at`` as ISO 8601 with offset)."""
        return {
            "window": self.window,
            "scope": self.scope,
            "metric": self.metric,
            "used_pct": self.used_pct,
            "resets_at": self.resets_at.isoformat() if self.resets_at else None,
            "resets_text": self.resets_text,
            "used": self.used,
            "limit": self.limit,
            "estimate": self.estimate,
        }


@dataclasses.dataclass
class Usage:
    """Everything one parser read from one screen (or log line, hook call, report)."""

    provider: str
    screen: str
    state: State = "unknown"
    state_reason: str | None = None
    version: str | None = None
    model: str | None = None
    limits: list[Limit] = dataclasses.field(default_factory=list)
    context_left_pct: float | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, t.Any]:
        """JSON shape of DESIGN §4; ``extra`` keys (account, credits, …) are merged in."""
        out: dict[str, t.Any] = {
            "provider": self.provider,
            "screen": self.screen,
            "state": self.state,
            "state_reason": self.state_reason,
            "version": self.version,
            "model": self.model,
            "limits": [limit.to_dict() for limit in self.limits],
            "context_left_pct": self.context_left_pct,
            "warnings": list(self.warnings),
        }
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out


class ScreenParser(t.Protocol):
    """A parser for one family of screens. Registered in :mod:`scraper.parsers.registry`."""

    provider: str

    def detect(self, text: str) -> bool:
        """Whether ``text`` (ANSI already stripped) is a screen of this family."""

    def parse(self, text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> Usage:
        """Read ``text``; never raise on odd input, never invent a figure."""
