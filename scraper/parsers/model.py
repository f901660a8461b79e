"""The normalized usage object every parser returns (docs/parsers.md).

Parsers are pure: text + observation time + zone in, :class:`Usage` out. ``to_dict`` gives
exactly the JSON shape of docs/parsers.md, which ``panebus parse --json`` prints and parsed frames
carry.
"""

from __future__ import annotations

import dataclasses
import math
import typing as t

if t.TYPE_CHECKING:
    import datetime as dt

Window = t.Literal["5h", "weekly", "daily", "monthly", "other"]
Metric = t.Literal["quota", "tokens", "cost", "messages"]
State = t.Literal["idle", "working", "waiting", "unknown"]


@dataclasses.dataclass
class Limit:
    """One usage limit as read from a screen, log, hook or report.

    A limit always carries a figure: ``used_pct`` is a finite number, never ``None`` (a limit
    whose figure cannot be read is left out instead, docs/parsers.md). The constructor refuses
    anything else, so no source can publish an entry that says "a limit, value unknown".
    """

    window: Window
    used_pct: float
    scope: str | None = None
    metric: Metric = "quota"
    resets_at: dt.datetime | None = None
    resets_text: str | None = None
    used: float | None = None
    limit: float | None = None
    estimate: bool = False

    def __post_init__(self) -> None:
        if not has_figure(self):
            msg = f"a limit needs a finite used_pct >= 0, got {self.used_pct!r} ({self.window})"
            raise ValueError(msg)
        self.used_pct = float(self.used_pct)

    def to_dict(self) -> dict[str, t.Any]:
        """JSON shape of docs/parsers.md (``resets_at`` as ISO 8601 with offset)."""
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


def has_figure(limit: Limit) -> bool:
    """Whether ``limit.used_pct`` is a real figure (a finite number, not negative)."""
    value: object = limit.used_pct
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value) and value >= 0.0


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
        """JSON shape of docs/parsers.md; ``extra`` keys (account, credits, …) are merged in."""
        out: dict[str, t.Any] = {
            "provider": self.provider,
            "screen": self.screen,
            "state": self.state,
            "state_reason": self.state_reason,
            "version": self.version,
            "model": self.model,
            # A limit whose figure was cleared after construction is dropped, never sent null.
            "limits": [limit.to_dict() for limit in self.limits if has_figure(limit)],
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
