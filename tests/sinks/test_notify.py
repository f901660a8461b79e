"""Notifications: what is announced (pure detector), once (across restarts), and where (real
tmux with an attached client, a user command, quiet hours)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import pty
import subprocess
import typing as t

import pytest

from bus.clock import to_rfc3339
from sinks.config import NotifyConfig
from sinks.notify import EventDetector, NotifySettings
from sinks.notify_sink import MARKER_FILE, NotifySink
from tests.sinks.frames import T0, limit, pane, parsed, stamp
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    import libtmux

    from bus.frames import Body

S = dt.timedelta(seconds=1)
H = dt.timedelta(hours=1)


def usage(used: float, at: dt.datetime, resets: dt.datetime = T0 + 4 * H) -> Body:
    return stamp(parsed([limit("5h", used, resets)], at=at, confidence="official", kind="log",
                        screen="codex.rollout"))


def state(name: str, at: dt.datetime, server: str = "default", session: str = "work") -> Body:
    where = pane("%7", server)
    where["session"] = session
    return stamp({"kind": "state", "provider": "claude",
                  "source": {"kind": "screen", "confidence": "parsed"},
                  "observed_at": to_rfc3339(at), "pane": where, "state": name,
                  "reason": "esc to interrupt" if name == "working" else name})


def kinds(events: t.Iterable[t.Any]) -> list[str]:
    return [f"{e.event}:{e.details.get('threshold', '')}" for e in events]


def test_thresholds_once_per_window_and_only_the_highest_of_a_jump() -> None:
    detector = EventDetector()
    seen = []
    for minute, used in [(0, 50), (1, 79), (2, 95), (3, 96), (4, 100)]:
        seen += detector.observe("parsed.codex.rollout", usage(used, T0 + minute * 60 * S))
    keys = [e.key for e in seen]
    assert kinds(seen) == ["limit:90.0", "limit:90.0", "limit:100.0"]
    assert keys[0] == keys[1]  # the same crossing again: the sink announces one key once
    # the window resets: a reset event, and the new window may cross 90 again
    after = T0 + 5 * H
    seen = detector.observe("parsed.codex.rollout", usage(91, after, after + 5 * H))
    assert [e.event for e in seen] == ["reset", "limit"]
    assert seen[1].key != keys[0]


def test_estimates_and_other_providers_thresholds() -> None:
    detector = EventDetector(NotifySettings(thresholds={"codex": (50.0,)}))
    guess = stamp(parsed([limit("5h", 99.0, T0 + H, estimate=True)], at=T0))
    assert detector.observe("parsed.codex.status", guess) == []
    assert kinds(detector.observe("parsed.codex.rollout", usage(55, T0 + S))) == ["limit:50.0"]


def test_finished_needs_working_then_a_settled_idle() -> None:
    detector = EventDetector(NotifySettings(settle_seconds=2))
    detector.observe("state.claude.7", state("idle", T0))
    assert detector.settle(T0 + 3 * S) == []  # idle from the start is not a finished turn
    detector.observe("state.claude.7", state("working", T0 + 4 * S))
    assert detector.settle(T0 + 7 * S) == []
    detector.observe("state.claude.7", state("idle", T0 + 8 * S))
    detector.observe("state.claude.7", state("working", T0 + 9 * S))  # a flicker
    assert detector.settle(T0 + 12 * S) == []
    detector.observe("state.claude.7", state("idle", T0 + 20 * S))
    assert detector.settle(T0 + 21 * S) == []  # not settled yet
    (event,) = detector.settle(T0 + 22 * S)
    assert event.event == "finished" and "work:1" in event.text


def test_waiting_and_repeated_probe_refusals() -> None:
    detector = EventDetector(NotifySettings(settle_seconds=0, refusals=2))
    detector.observe("state.claude.7", state("waiting", T0))
    (event,) = detector.settle(T0)
    assert event.event == "waiting"
    refusal = stamp({"kind": "sys", "provider": "unknown",
                     "source": {"kind": "report", "confidence": "official"},
                     "observed_at": to_rfc3339(T0), "what": "probe", "outcome": "refused",
                     "reason": "the user typed 1 s ago", "probe_provider": "claude",
                     "pane": pane("%7")})
    assert detector.observe("sys.probe", refusal) == []
    (event,) = detector.observe("sys.probe", dict(refusal, observed_at=to_rfc3339(T0 + S)))
    assert event.event == "probe-refused" and "typed" in event.text


def _sink(tmp_path: Path, **config: t.Any) -> NotifySink:
    settings = {"settle_seconds": 0.0, "desktop": False, **config}
    return NotifySink(NotifyConfig(**settings), tmp_path / "state", tmp_path / "alias")


def test_a_crossing_is_announced_once_even_across_a_restart(tmp_path: Path) -> None:
    out: list[Body] = []
    sink = _sink(tmp_path)
    sink.handle("parsed.codex.rollout", usage(91, T0), lambda b, topic=None: out.append(b))
    sink.handle("parsed.codex.rollout", usage(92, T0 + S), lambda b, topic=None: out.append(b))
    assert [b["event"] for b in out] == ["limit"]
    assert "codex 5h at 91% (crossed 90%)" in (tmp_path / "alias" / MARKER_FILE).read_text()
    sink.close()
    again = _sink(tmp_path)  # a restart: the broker replays the cached frame
    again.handle("parsed.codex.rollout", usage(92, T0 + S), lambda b, topic=None: out.append(b))
    assert len(out) == 1


def _attached_client(server: libtmux.Server, session: str) -> tuple[subprocess.Popen[bytes], int]:
    """A real tmux client attached to ``session`` in a pty (as a person's terminal is)."""
    primary, secondary = pty.openpty()
    client = subprocess.Popen(
        ["tmux", "-L", str(server.socket_name), "attach", "-t", session],
        stdin=secondary, stdout=secondary, stderr=secondary, close_fds=True,
        env={**os.environ, "TERM": "xterm-256color"}, start_new_session=True)
    os.close(secondary)
    os.set_blocking(primary, False)
    wait_for(lambda: bool(server.cmd("list-clients").stdout), message="the attached client")
    return client, primary


def test_finished_turn_reaches_the_attached_client_and_the_user_command(
    tmp_path: Path, session: libtmux.Session
) -> None:
    server = session.server
    client, terminal = _attached_client(server, str(session.name))
    out_file = tmp_path / "event.json"
    sink = _sink(tmp_path, command=f"cat > {out_file}")
    emitted: list[Body] = []
    try:
        for name, second in [("working", 0), ("idle", 1)]:
            sink.handle("state.claude.7",
                        state(name, T0 + second * S, str(server.socket_name), str(session.name)),
                        lambda b, topic=None: emitted.append(b))
        sink.tick(lambda b, topic=None: emitted.append(b))
        assert [b["event"] for b in emitted] == ["finished"]
        screen = bytearray()

        def shown() -> bool:
            with contextlib.suppress(BlockingIOError):
                screen.extend(os.read(terminal, 65536))
            return b"panebus: claude finished its turn" in screen

        wait_for(shown, message="the message on the attached client")
        wait_for(lambda: out_file.exists() and out_file.stat().st_size > 0,
                 message="the user command's input")
        record = json.loads(out_file.read_text())
        assert record["kind"] == "event" and record["event"] == "finished"
        assert sink.delivered == {"bus": 1, "display": 1, "command": 1}
    finally:
        sink.close()
        client.terminate()
        client.wait(timeout=5)
        os.close(terminal)


def test_quiet_hours_keep_only_the_bus_and_the_marker(tmp_path: Path) -> None:
    now = dt.datetime.now().astimezone()
    start = (now - dt.timedelta(minutes=5)).strftime("%H:%M")
    end = (now + dt.timedelta(minutes=5)).strftime("%H:%M")
    out_file = tmp_path / "never"
    sink = _sink(tmp_path, command=f"touch {out_file}", quiet_hours=(start, end))
    emitted: list[Body] = []
    sink.handle("parsed.codex.rollout", usage(100, T0), lambda b, topic=None: emitted.append(b))
    sink.close()
    assert [b["event"] for b in emitted] == ["limit"]
    assert (tmp_path / "alias" / MARKER_FILE).exists()
    assert not out_file.exists() and sink.delivered == {"bus": 1}


@pytest.mark.parametrize("text", ["22:00-07:00", "7:5-8:00"])
def test_quiet_hours_config(tmp_path: Path, text: str) -> None:
    from bus.paths import Paths
    from sinks.config import SinksConfig

    config = tmp_path / "panebus.toml"
    config.write_text(f'[notify]\nquiet_hours = "{text}"\ncommand = "true"\n'
                      '[notify.thresholds]\nclaude = [75, 95]\n')
    paths = Paths.from_env({"PANEBUS_HOME": str(tmp_path)})
    notify = SinksConfig.load(paths, config).notify
    assert notify.quiet_hours in (("22:00", "07:00"), ("07:05", "08:00"))
    assert notify.thresholds == {"claude": (75.0, 95.0)} and notify.command == "true"
