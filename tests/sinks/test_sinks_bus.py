"""Each sink on a real broker: frames flow in, copies change nothing, restarts continue."""

from __future__ import annotations

import datetime as dt
import typing as t

from bus.clock import utcnow
from bus.publisher import Publisher
from bus.subscribers import Subscriber
from sinks import archive_format as fmt
from sinks.alias_cache import read_alias
from sinks.windows_sink import read_window_log
from tests.sinks.frames import limit, parsed, raw
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.endpoints import Endpoints
    from sinks.config import SinksConfig
    from tests.sinks.conftest import RunSink

H = dt.timedelta(hours=1)


def snapshot_files(config: SinksConfig) -> dict[str, bytes]:
    files = [config.window_log, config.feature_log, config.alias_dir / "occ"]
    files += fmt.segments(config.archive.root)
    return {str(path): path.read_bytes() for path in files if path.exists()}


def test_a_frame_flows_to_each_sink_and_a_copy_changes_nothing(
    endpoints: Endpoints, run_sink: RunSink, sinks_config: SinksConfig
) -> None:
    runners = {name: run_sink(name) for name in ("archive", "alias", "windows", "featurelog")}
    now = utcnow()
    capture = raw("5h limit: 77% left", at=now, trigger="probe")
    with Publisher(endpoints, name="scraper") as pub, Subscriber(
        endpoints, prefixes=["window.", "sys.sink."], name="watch"
    ) as watch:
        assert pub.wait_ready(timeout=5.0)
        stamped = pub.send(capture)
        figures = parsed(
            [limit("5h", 23.0, now + 2 * H), limit("weekly", 58.0, now + 72 * H)],
            at=now,
            raw_id=stamped["id"],
            stale_after=now + H,
            model="gpt-5.1-codex",
        )
        figures["pane"] = capture["pane"]
        pub.send(figures)

        seen: list[tuple[str, dict[str, t.Any]]] = []

        def heard(predicate: t.Callable[[str, dict[str, t.Any]], bool]) -> bool:
            item = watch.recv(timeout=0.1)
            if item is not None:
                seen.append(item)
            return any(predicate(topic, body) for topic, body in seen)

        wait_for(lambda: heard(lambda tp, b: tp == "window.codex.weekly"), message="window frame")
        wait_for(lambda: heard(lambda tp, b: "ack" in b and stamped["id"] in b["ack"]["ids"]),
                 message="archive ack")
        wait_for(lambda: heard(lambda tp, b: tp == "sys.sink.alias" and b["handled"] >= 1),
                 message="alias health")
        wait_for(lambda: "<!-- pb:probe/" in _text(sinks_config.feature_log), message="probe row")
        (segment,) = fmt.segments(sinks_config.archive.root)
        assert [b["id"] for b in fmt.read_segment(segment).bodies] == [stamped["id"]]
        (line,) = read_alias(sinks_config.alias_dir, "occ") or [""]
        assert line.startswith("codex 5h 23%") and "weekly 58%" in line
        events = [(r["window"], r["event"]) for r in read_window_log(sinks_config.window_log)]
        assert sorted(events) == [("5h", "opened"), ("weekly", "opened")]
        rows = [x for x in _text(sinks_config.feature_log).splitlines() if "<!-- pb:" in x]
        assert len(rows) == 3  # two window events and the probe capture
        assert all("week0/live/automation/" in row for row in rows)  # the capture's segment
        assert any("5h 23% · weekly 58%" in row for row in rows)

        before = snapshot_files(sinks_config)
        handled = {name: runner.handled for name, runner in runners.items()}
        # the same screen again from a restarted scraper (a new id, its first timer capture);
        # a probe or manual capture would be kept again: each is a capture the user asked for
        pub.send(dict(capture, trigger="timer"))
        pub.send(figures)
        # archive, alias and windows take one of the two frames, the feature log both
        wants = {name: handled[name] + (2 if name == "featurelog" else 1) for name in runners}

        def all_handled() -> bool:
            return all(runners[name].handled >= want for name, want in wants.items())

        wait_for(all_handled, message="every sink handled the copies")
        assert snapshot_files(sinks_config) == before


def _text(path: t.Any) -> str:
    return path.read_text() if path.exists() else ""


def test_window_rollover_over_the_bus_and_restart_continues(
    endpoints: Endpoints, run_sink: RunSink, sinks_config: SinksConfig
) -> None:
    windows = run_sink("windows")
    now = utcnow()
    start = now + H  # observations ahead of the clock: only the frames close these windows
    reset1, reset2 = start + 2 * H, start + 7 * H
    sequence = [
        parsed([limit("5h", 10.0, reset1)], at=start),
        parsed([limit("5h", 40.0, reset1)], at=start + H),
        parsed([limit("5h", 35.0, reset1)], at=start + 0.5 * H),  # out of order: ignored
        parsed([limit("5h", 5.0, reset2)], at=start + 3 * H),  # the reset passed
        # a weekly window about to reset: the sink closes it by the clock, with no frame
        parsed([limit("weekly", 70.0, now + dt.timedelta(seconds=1))], at=now),
    ]
    with Publisher(endpoints, name="parser") as pub, Subscriber(
        endpoints, prefixes=["window.codex."], name="watch"
    ) as watch:
        assert pub.wait_ready(timeout=5.0)
        for body in sequence:
            pub.send(body)
        got: list[dict[str, t.Any]] = []

        def collect(count: int) -> bool:
            item = watch.recv(timeout=0.1)
            if item is not None:
                got.append(item[1])
            return len(got) >= count

        wait_for(lambda: collect(6), message="six window events")
    five_hour = [b for b in got if b["window"] == "5h"]
    weekly = [b for b in got if b["window"] == "weekly"]
    assert [b["event"] for b in five_hour] == ["opened", "updated", "closed", "opened"]
    assert five_hour[2]["peak_pct"] == 40.0
    assert five_hour[2]["window_id"] == five_hour[0]["window_id"] != five_hour[3]["window_id"]
    assert [(b["event"], b["reason"]) for b in weekly] == [
        ("opened", "first figure"),
        ("closed", "reset passed"),
    ]
    log = read_window_log(sinks_config.window_log)
    assert [r["event_id"] for r in log] == [b["event_id"] for b in got]
    windows.stop()
    again = run_sink("windows")  # the broker hands it the cached parsed frame again
    wait_for(lambda: again.handled + again.duplicates >= 1, message="cached frame redelivered")
    assert read_window_log(sinks_config.window_log) == log
