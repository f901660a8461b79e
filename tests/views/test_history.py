"""``panebus history``: series per limit from the window log, chart, JSON, errors."""

from __future__ import annotations

import datetime as dt
import json
import typing as t

from bus.clock import to_rfc3339, utcnow
from panebus.history import chart, histories
from sinks.windows_sink import WindowsSink, read_window_log
from tests.bus.test_cli import panebus

if t.TYPE_CHECKING:
    from pathlib import Path

M = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


def _fill(log: Path, now: dt.datetime) -> None:
    """Two 5h windows of Codex (the first reset, the second open) and one Claude weekly."""
    sink = WindowsSink(log)

    def feed(provider: str, window: str, at: dt.datetime, used: float, resets: dt.datetime) -> None:
        body = {"kind": "parsed", "provider": provider, "observed_at": to_rfc3339(at),
                "id": f"{provider}{window}{at.timestamp()}",
                "source": {"kind": "log", "confidence": "official"},
                "limits": [{"window": window, "scope": None, "metric": "quota",
                            "used_pct": used, "resets_at": to_rfc3339(resets),
                            "estimate": False}]}
        sink.handle("parsed.x", body, lambda b, topic=None: None)

    start = now - 7 * H
    for minute in range(0, 280, 20):
        feed("codex", "5h", start + minute * M, minute / 4, start + 5 * H)
    second = start + 5 * H + 10 * M
    for minute in range(0, 100, 10):
        feed("codex", "5h", second + minute * M, 5 + minute / 2, second + 5 * H)
    feed("claude", "weekly", now - H, 30, now + 48 * H)


def test_histories_chart_and_forecast(tmp_path: Path) -> None:
    now = utcnow()
    log = tmp_path / "windows.jsonl"
    _fill(log, now)
    found = histories(read_window_log(log))
    assert [h.label for h in found] == ["claude weekly", "codex 5h"]
    codex = found[1]
    assert len(codex.resets) == 1 and codex.open_window is not None
    assert {wid for _, _, wid in codex.points} == {codex.open_window, codex.points[0][2]}
    lines = chart(codex, now, width=50, height=6, zone=dt.timezone.utc)
    assert lines[0].startswith("codex 5h · 50% · runs out ~")
    assert len(lines) == 9 and all(len(x) == 56 for x in lines[1:8])
    assert lines[7].count("^") == 1  # the reset, under the axis
    assert "░" in "".join(lines[1:7])  # the forecast ahead of now
    only = histories(read_window_log(log), provider="claude", window="weekly")
    assert [h.label for h in only] == ["claude weekly"]
    later = histories(read_window_log(log), since=now - 2 * H)
    assert all(at >= now - 2 * H for h in later for at, _, _ in h.points)


def test_history_cli(panebus_home: Path) -> None:
    assert panebus("history").returncode == 1  # no window log yet
    from bus.paths import Paths

    log = Paths.from_env().window_log
    log.parent.mkdir(parents=True, exist_ok=True)
    _fill(log, utcnow())
    shown = panebus("history", "--provider", "codex", "--width", "40")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0].startswith("codex 5h · 50%")
    out = panebus("history", "--json", "--since", "8h").stdout
    records = [json.loads(x) for x in out.splitlines()]
    assert [(r["provider"], r["window"]) for r in records] == [
        ("claude", "weekly"), ("codex", "5h")]
    assert records[1]["forecast"]["status"] == "runs-out" and len(records[1]["resets"]) == 1
    assert panebus("history", "--since", "yesterday").returncode == 2
