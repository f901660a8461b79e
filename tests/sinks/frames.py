"""Frame bodies for sink tests: complete, valid v1 bodies built the way producers build them."""

from __future__ import annotations

import datetime as dt
import hashlib
import typing as t
import uuid

from bus.clock import to_rfc3339
from bus.frames import Body, validate

T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)


def stamp(body: Body, seq: int = 0, producer: str = "test:1:scraper") -> Body:
    """Fill in the envelope fields a Publisher would stamp (for tests without a bus)."""
    body = dict(body)
    body.setdefault("v", 1)
    body.setdefault("id", uuid.uuid4().hex)
    body.setdefault("seq", seq)
    body.setdefault("producer", producer)
    return validate(body)


def pane(pane_id: str = "%3", server: str = "default") -> dict[str, t.Any]:
    """A pane object as the scraper publishes it."""
    return {
        "server": server,
        "session": "work",
        "window": "1",
        "pane_id": pane_id,
        "title": "codex",
        "command": "codex",
        "pid": 1234,
        "width": 120,
        "height": 40,
    }


def raw(
    text: str,
    *,
    at: dt.datetime = T0,
    provider: str = "codex",
    pane_id: str = "%3",
    trigger: str = "timer",
) -> Body:
    """A raw frame draft (no envelope stamps)."""
    return {
        "kind": "raw",
        "provider": provider,
        "source": {"kind": "screen", "confidence": "parsed"},
        "observed_at": to_rfc3339(at),
        "pane": pane(pane_id),
        "trigger": trigger,
        "text": text,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def limit(
    window: str,
    used: float | None,
    resets: dt.datetime | None = None,
    *,
    scope: str | None = None,
    metric: str = "quota",
    estimate: bool = False,
) -> Body:
    """One limit of a parsed frame (docs/wire.md "parsed")."""
    return {
        "window": window,
        "scope": scope,
        "metric": metric,
        "used_pct": used,
        "resets_at": resets.isoformat() if resets else None,
        "resets_text": None,
        "used": None,
        "limit": None,
        "estimate": estimate,
    }


def parsed(
    limits: list[Body],
    *,
    at: dt.datetime = T0,
    provider: str = "codex",
    screen: str = "codex.status",
    confidence: str = "parsed",
    kind: str = "screen",
    stale_after: dt.datetime | None = None,
    model: str | None = None,
    raw_id: str | None = None,
) -> Body:
    """A parsed frame draft."""
    return {
        "kind": "parsed",
        "provider": provider,
        "source": {"kind": kind, "confidence": confidence},
        "observed_at": to_rfc3339(at),
        "screen": screen,
        "raw_id": raw_id,
        "stale_after": to_rfc3339(stale_after) if stale_after else None,
        "state": "idle",
        "version": None,
        "model": model,
        "limits": limits,
        "context_left_pct": None,
        "warnings": [],
    }
