"""The central view of several hosts: alias lines per host, ``alias --host``, ``top``."""

from __future__ import annotations

import datetime as dt
import typing as t

from bus.clock import utcnow
from panebus.cli.alias import print_host_lines
from panebus.top import TopView
from sinks import alias_cache
from tests.sinks.frames import limit, parsed, stamp

if t.TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from bus.frames import Body

H = dt.timedelta(hours=1)


def _figures(host: str, used: float) -> Body:
    now = utcnow()
    body = parsed([limit("5h", used, now + 2 * H), limit("weekly", 20.0, now + 72 * H)],
                  at=now, stale_after=now + H)
    return stamp(body, producer=f"{host}:1:scraper")


def test_a_central_cache_shows_each_host_on_its_own_line(tmp_path: Path) -> None:
    alias_cache.update(tmp_path, [_figures("hub", 12.0), _figures("laptop", 61.0)],
                       local_host="hub")
    lines = alias_cache.read_alias(tmp_path, "os") or []
    assert [line.split(" 5h ")[0] for line in lines] == ["hub: codex", "laptop: codex"]
    # (neither host has Claude figures: no "claude: no data yet" line per host)
    assert "12%" in lines[0] and "61%" in lines[1]
    state = alias_cache.load_state(tmp_path)
    assert set(state["hosts"]) == {"laptop"}


def test_one_host_keeps_the_plain_lines(tmp_path: Path) -> None:
    alias_cache.update(tmp_path, [_figures("laptop", 61.0), _figures("hub", 12.0)])
    lines = alias_cache.read_alias(tmp_path, "os") or []
    assert lines[0].startswith("codex 5h ")  # no split: one line, no host names
    assert lines[1:] == ["claude: no data yet"]


def test_alias_host_prints_one_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PANEBUS_HOST", "hub")
    alias_cache.update(tmp_path, [_figures("hub", 12.0), _figures("laptop", 61.0)],
                       local_host="hub")
    assert print_host_lines("occ", tmp_path, "laptop") == 0
    out = capsys.readouterr().out
    assert out.startswith("codex 5h 61%") and "hub" not in out
    assert print_host_lines("occ", tmp_path, "hub") == 0
    assert capsys.readouterr().out.startswith("codex 5h 12%")
    assert print_host_lines("occ", tmp_path, "nowhere") == 1
    assert "known: hub, laptop" in capsys.readouterr().err


def test_top_names_the_host_once_there_are_several() -> None:
    now = utcnow()
    view = TopView()
    view.take("parsed.codex.status", _figures("hub", 12.0))
    single = "\n".join(view.render(now, 100, 24, dt.timezone.utc))
    assert " codex 5h " in single and "hub" not in single
    view.take("parsed.codex.status", _figures("laptop", 61.0))
    both = "\n".join(view.render(now, 100, 24, dt.timezone.utc))
    assert " hub codex 5h " in both and " laptop codex 5h " in both
    only = TopView(host="laptop")
    assert not only.take("parsed.codex.status", _figures("hub", 12.0))
    assert only.take("parsed.codex.status", _figures("laptop", 61.0))
    text = "\n".join(only.render(now, 100, 24, dt.timezone.utc))
    assert "61%" in text and "12%" not in text


def test_a_central_window_log_keeps_other_hosts_apart(tmp_path: Path) -> None:
    from panebus.history import histories
    from sinks.windows_sink import WindowsSink, read_window_log

    log = tmp_path / "windows.jsonl"
    sink = WindowsSink(log, local_host="hub")
    assert "window." in sink.prefixes
    emitted: list[Body] = []
    sink.handle("parsed.codex.status", _figures("laptop", 61.0), emitted.append)
    assert emitted == [] and not log.exists()  # the laptop's own sink tracks its windows
    sink.handle("parsed.codex.status", _figures("hub", 12.0), emitted.append)
    assert emitted  # this host's windows opened here
    now = utcnow()
    laptop_window = stamp({
        "kind": "window", "provider": "codex",
        "source": {"kind": "screen", "confidence": "parsed"},
        "observed_at": now.isoformat().replace("+00:00", "Z"), "window": "5h",
        "event": "opened", "scope": None, "used_pct": 61.0, "metric": "quota",
        "window_id": "codex/5h/laptop", "resets_at": (now + 2 * H).isoformat()},
        producer="laptop:1:windows")
    sink.handle("window.codex.5h", laptop_window, emitted.append)
    records = read_window_log(log)
    assert [r.get("host") for r in records if r.get("window") == "5h"].count("laptop") == 1
    mine = histories(records, host="hub", local_host="hub")
    theirs = histories(records, host="laptop", local_host="hub")
    assert mine and all(h.host is None for h in mine)
    assert [h.label for h in theirs] == ["laptop codex 5h"]
    restored = WindowsSink(log, local_host="hub").tracker.windows
    assert restored and all("laptop" not in str(key) for key in restored)  # only hub's
