"""``panebus top`` in a real 80x24 tmux pane: cached values at once, live updates, q quits."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import sys
import typing as t
from pathlib import Path

from bus.clock import to_rfc3339, utcnow
from bus.publisher import Publisher
from panebus.top import TopView
from tests.sinks.frames import limit, pane, parsed, stamp
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    import libtmux

    from bus.broker import Broker
    from bus.endpoints import Endpoints
    from bus.frames import Body

H = dt.timedelta(hours=1)
PANEBUS = Path(sys.executable).with_name("panebus")


def _state(name: str, at: dt.datetime, pane_id: str = "%5") -> Body:
    return {"kind": "state", "provider": "claude",
            "source": {"kind": "screen", "confidence": "parsed"},
            "observed_at": to_rfc3339(at), "pane": pane(pane_id), "state": name, "reason": name}


def _forecast(at: dt.datetime, runs_out: dt.datetime) -> Body:
    return {"kind": "forecast", "provider": "codex",
            "source": {"kind": "report", "confidence": "estimate"},
            "observed_at": to_rfc3339(at), "window": "5h", "scope": None, "status": "runs-out",
            "used_pct": 61.0, "runs_out_at": to_rfc3339(runs_out), "points": 4}


def test_view_fits_80x24_and_shows_each_part() -> None:
    now = utcnow()
    view = TopView()
    for body in (_state("working", now - 2 * 60 * dt.timedelta(seconds=1)),
                 parsed([limit("5h", 61.0, now + 2 * H), limit("weekly", 20.0, now + 72 * H)],
                        at=now, stale_after=now + H),
                 _forecast(now, now.replace(hour=23, minute=59)),
                 {"kind": "event", "provider": "codex", "observed_at": to_rfc3339(now),
                  "source": {"kind": "report", "confidence": "parsed"},
                  "event": "limit", "text": "codex 5h at 61% (crossed 60%)"}):
        assert view.take("x", stamp(body))
    lines = view.render(now, 80, 24, dt.timezone.utc)
    text = "\n".join(lines)
    assert len(lines) <= 24 and all(len(x) <= 80 for x in lines)
    assert "codex 5h" in text and "61%" in text and "runs out ~23:59" in text
    assert "claude" in text and "working" in text and "2m" in text
    assert "⚑ codex 5h at 61% (crossed 60%)" in text
    assert view.take("x", stamp(_state("gone", now)))
    assert "working" not in "\n".join(view.render(now, 80, 24))


def test_top_in_a_tmux_pane_redraws_on_change_and_quits_on_q(
    session: libtmux.Session, endpoints: Endpoints, broker: Broker
) -> None:
    server = session.server
    now = utcnow()
    with Publisher(endpoints, name="scraper") as pub:
        assert pub.wait_ready(timeout=5.0)
        pub.send(_state("idle", now))  # cached: top shows it at once
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in os.environ.items()
                       if k.startswith(("PANEBUS_", "XDG_", "HOME")))
        tmux_window = session.new_window(window_shell=f"env {env} {PANEBUS} top", attach=False)
        tmux_window.resize(width=80, height=24)
        pane_id = str(tmux_window.active_pane.pane_id)  # type: ignore[union-attr]

        def screen() -> str:
            return "\n".join(server.cmd("capture-pane", "-p", "-t", pane_id).stdout)

        wait_for(lambda: "PANES" in screen() and "idle" in screen(), message="the first frame")
        pub.send(parsed([limit("5h", 42.0, now + 2 * H)], at=now, stale_after=now + H))
        wait_for(lambda: "codex 5h" in screen() and "42%" in screen(), message="the new figure")
        assert all(len(line) <= 80 for line in screen().splitlines())
        server.cmd("send-keys", "-t", pane_id, "q")
        wait_for(lambda: not any(p == pane_id for p in server.cmd(
            "list-panes", "-a", "-F", "#{pane_id}").stdout), message="top to quit")


def test_top_once_prints_the_cached_values(endpoints: Endpoints, broker: Broker) -> None:
    from tests.bus.test_cli import panebus

    with Publisher(endpoints, name="scraper") as pub:
        assert pub.wait_ready(timeout=5.0)
        pub.send(_state("waiting", utcnow()))
        shown = panebus("top", "--once")
    assert shown.returncode == 0 and "waiting" in shown.stdout
