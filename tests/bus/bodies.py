"""Frame drafts and hand-stamped bodies for bus tests (valid v1 unless a test breaks them)."""

from __future__ import annotations

import hashlib
import typing as t
import uuid

from bus.clock import now_rfc3339
from bus.frames import Body, draft, source

PANE: dict[str, t.Any] = {
    "server": "test", "session": "work", "window": "1", "pane_id": "%3", "title": "codex",
    "command": "codex", "pid": 1234, "width": 120, "height": 40,
}


def parsed(provider: str = "codex", screen: str = "codex.status", used_pct: float = 42.0) -> Body:
    """A parsed draft with one 5h limit."""
    return draft(
        "parsed", provider, source("screen", "parsed"), screen=screen, raw_id=None,
        stale_after=None, warnings=[],
        limits=[{"window": "5h", "scope": None, "metric": "quota", "used_pct": used_pct,
                 "resets_at": None, "resets_text": None, "used": None, "limit": None,
                 "estimate": False}],
    )


def raw(text: str = "hello", pane_id: str = "%3") -> Body:
    """A raw draft of one pane."""
    return draft(
        "raw", "codex", source("screen", "parsed"), pane=dict(PANE, pane_id=pane_id),
        trigger="timer", text=text, sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def sys_event(what: str = "tests", **fields: t.Any) -> Body:
    """A sys draft."""
    return draft("sys", "unknown", source("manual", "parsed"), what=what, **fields)


def stamped(body: Body, seq: int, producer: str = "hand:1:made") -> Body:
    """Stamp by hand, as a foreign producer would (for raw zmq publishers in tests)."""
    return dict(body, v=1, id=uuid.uuid4().hex, seq=seq, producer=producer,
                observed_at=now_rfc3339())
