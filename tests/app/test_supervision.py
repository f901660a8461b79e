"""The supervisor of ``panebus up``: real parts fail for real, restart, and the rest delivers."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import typing as t

import libtmux
import pytest

from bus.paths import Paths
from bus.publisher import Publisher
from bus.subscribers import Subscriber
from panebus.app import Stack, StackOptions
from panebus.doctor import check_health
from panebus.standins import agent_command
from panebus.supervisor import BasePart, Context, Policy, Supervisor, read_health, view_health
from scraper.config import ScraperConfig, ServerSpec
from scraper.control import ControlClient
from sinks.base import BUILTIN_SINKS
from tests.sinks.frames import raw
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

FAST = Policy(backoff_min=0.05, backoff_max=0.2, loop_crashes=3, loop_period=60.0,
              write_interval=0.2)


@pytest.fixture
def test_sinks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the test's sinks the way built-in sinks are registered."""
    monkeypatch.setitem(BUILTIN_SINKS, "flaky", "tests.app.flaky_sinks:FlakySink.build")
    monkeypatch.setitem(BUILTIN_SINKS, "broken", "tests.app.flaky_sinks:build_broken")


def part(stack: Stack, name: str) -> dict[str, t.Any]:
    return next(row.__dict__ for row in stack.health() if row.name == name)


def status_json() -> tuple[int, dict[str, t.Any]]:
    done = subprocess.run([sys.executable, "-m", "panebus", "status", "--json"],
                          capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, json.loads(done.stdout)


def archived(stack: Stack) -> int:
    runner = stack.sink_runners.get("archive")
    return 0 if runner is None else runner.handled


def bus_only(sinks: tuple[str, ...]) -> StackOptions:
    return StackOptions(scraper=False, rollout=False, sinks=sinks, policy=FAST)


@pytest.mark.usefixtures("test_sinks")
def test_a_crashing_sink_restarts_and_the_others_keep_delivering(
    panebus_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="panebus.supervisor")
    stack = Stack(Paths.from_env(), ScraperConfig(), bus_only(("archive", "flaky")))
    stack.start()
    try:
        with Publisher(stack.endpoints, name="test") as pub:
            pub.wait_ready(timeout=5.0)
            pub.send(raw("before", pane_id="%1"))
            pub.send(raw("boom", pane_id="%2"))
            wait_for(lambda: part(stack, "sink.flaky")["restarts"] >= 1
                     and part(stack, "sink.flaky")["state"] == "running",
                     timeout=20, message="the flaky sink restarted")
            for number in range(5):
                pub.send(raw(f"after {number}", pane_id="%3"))
            wait_for(lambda: archived(stack) == 7, timeout=10, message="7 frames archived")
            wait_for(lambda: stack.sink_runners["flaky"].handled == 5, timeout=10,
                     message="the restarted flaky sink handles the new frames")
        flaky = part(stack, "sink.flaky")
        assert flaky["crashes"] == 1
        assert "SinkFailed: told to fail" in flaky["last_error"]
        assert part(stack, "sink.archive")["restarts"] == 0
        assert part(stack, "broker")["restarts"] == 0
        health_file = stack.supervisor.status_path
        assert health_file is not None
        wait_for(lambda: (document := read_health(health_file))
                 and any(row["name"] == "sink.flaky" and row["restarts"] == 1
                         for row in document["parts"]),
                 timeout=5, message="the restart in health.json")
        code, status = status_json()
        assert code == 0, status
        assert status["up"] == "running"
        assert {row["name"]: row["state"] for row in status["parts"]} == {
            "broker": "running", "sink.archive": "running", "sink.flaky": "running",
            "memory": "running"}
        memory = next(row for row in status["parts"] if row["name"] == "memory")
        assert memory["detail"]["rss_kb"] > 0  # `panebus status` says what up holds
    finally:
        stack.stop()
    crashes = [r for r in caplog.records if "crashed" in r.getMessage()]
    assert len(crashes) == 1 and "told to fail" in crashes[0].getMessage()
    assert crashes[0].exc_info is not None  # the cause, with its traceback, once
    code, status = status_json()
    assert code == 3 and status["up"] == "not running"


@pytest.mark.usefixtures("test_sinks")
def test_a_crash_loop_is_visible_and_logged_once_while_the_rest_runs(
    panebus_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="panebus.supervisor")
    stack = Stack(Paths.from_env(), ScraperConfig(), bus_only(("archive", "broken")))
    stack.start()
    try:
        wait_for(lambda: part(stack, "sink.broken")["state"] == "crash-loop", timeout=20,
                 message="the broken sink in a crash loop")
        with Publisher(stack.endpoints, name="test") as pub:
            pub.wait_ready(timeout=5.0)
            for number in range(3):
                pub.send(raw(f"frame {number}", pane_id="%1"))
            wait_for(lambda: archived(stack) == 3, timeout=10, message="the archive delivers")
        wait_for(lambda: part(stack, "sink.broken")["restarts"] >= 5, timeout=20,
                 message="restarts go on at the capped backoff")
        wait_for(lambda: status_json()[1]["unwell"] == ["sink.broken"], timeout=10,
                 message="status names the broken part")
        code, status = status_json()
        assert code == 1
        broken = next(row for row in status["parts"] if row["name"] == "sink.broken")
        assert broken["state"] == "crash-loop"
        assert broken["last_error"] == "RuntimeError: the broken sink cannot start"
        doctor = check_health(Paths.from_env())
        assert doctor.status == "fail" and "sink.broken crash-loop" in doctor.detail
        assert part(stack, "sink.archive")["state"] == "running"
    finally:
        stack.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len([m for m in errors if "crashed:" in m]) == 1, errors
    assert len([m for m in errors if "crash loop" in m]) == 1, errors


def control_clients(server: libtmux.Server) -> list[str]:
    try:
        out = server.cmd("list-clients", "-F", "#{client_control_mode}").stdout
    except libtmux.exc.LibTmuxException:
        return []
    return [line for line in out if line.strip() == "1"]


def test_a_killed_tmux_server_is_a_crash_of_its_link_and_captures_resume(
    panebus_home: Path, server: libtmux.Server
) -> None:
    server.new_session("agents", window_command=agent_command("codex"), x=120, y=40)
    config = ScraperConfig(servers=(ServerSpec(socket_name=server.socket_name),))
    options = StackOptions(rollout=False, sinks=("archive",), policy=FAST)
    stack = Stack(Paths.from_env(), config, options)
    link = f"tmux.{config.servers[0].label}"
    stack.start()
    try:
        with Subscriber(stack.endpoints, prefixes=["raw."], name="test") as sub:
            wait_for(lambda: part(stack, link)["state"] == "running", timeout=20,
                     message="the control link")
            server.kill()
            wait_for(lambda: part(stack, link)["crashes"] == 1, timeout=20,
                     message="the lost link counted as a crash")
            again = libtmux.Server(socket_name=server.socket_name)
            session = again.new_session("back", window_command=agent_command("codex"),
                                        x=120, y=40)
            new_pane = session.windows[0].panes[0].pane_id
            wait_for(lambda: part(stack, link)["state"] == "running", timeout=30,
                     message="the link attached to the new server")

            def new_pane_captured() -> bool:
                item = sub.recv(timeout=0.2)
                return item is not None and item[1]["pane"]["pane_id"] == new_pane

            wait_for(new_pane_captured, timeout=30, message="a capture of the new pane")
        assert part(stack, link)["restarts"] == 1
        assert part(stack, "scraper")["restarts"] == 0
        assert part(stack, "sink.archive")["restarts"] == 0
    finally:
        stack.stop()
    wait_for(lambda: not control_clients(again), timeout=10, message="no control client left")


def test_a_control_client_that_cannot_be_spawned_is_a_failed_attach_not_a_crash(
    tmp_path: Path,
) -> None:
    client = ControlClient(ServerSpec(socket_name="nowhere"), "agents",
                           tmux=str(tmp_path / "no-such-tmux"))
    assert client.start(timeout=1.0) is False
    assert client.exit_reason is not None and "cannot start" in client.exit_reason
    assert not client.alive


@pytest.mark.usefixtures("test_sinks")
def test_a_failure_on_every_frame_is_logged_once_and_counted(
    panebus_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="sinks.base")
    stack = Stack(Paths.from_env(), ScraperConfig(), bus_only(("flaky",)))
    stack.start()
    try:
        with Publisher(stack.endpoints, name="test") as pub:
            pub.wait_ready(timeout=5.0)
            for number in range(20):
                pub.send(raw(f"full {number}", pane_id="%1"))
            pub.send(raw("fine", pane_id="%1"))
            runner = stack.sink_runners["flaky"]
            wait_for(lambda: runner.handled == 21, timeout=10, message="every frame handled")
        assert runner.errors == 20
        assert part(stack, "sink.flaky")["crashes"] == 0  # one bad frame is not a crash
    finally:
        stack.stop()
    failures = [r for r in caplog.records if "sink failed on a frame" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert "No space left" in str(failures[0].exc_info[1])


class _Counter(BasePart):
    """A part that runs until stopped and shows one figure."""

    name = "counter"

    def __init__(self) -> None:
        self.figure = 0

    def run(self, ctx: Context) -> None:
        ctx.ready()
        ctx.stop.wait()

    def detail(self) -> dict[str, t.Any]:
        return {"figure": self.figure}


def test_the_health_file_is_rewritten_when_a_figure_moves_and_only_touched_otherwise(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run" / "health.json"
    supervisor = Supervisor(path, Policy(write_interval=0.05))
    counter = _Counter()
    supervisor.add(counter)
    try:
        wait_for(lambda: (doc := read_health(path)) and doc["parts"][0]["state"] == "running",
                 message="running in the file")
        written = path.stat()
        # Nothing moved: the same file, a newer modification time (what readers judge by).
        wait_for(lambda: path.stat().st_mtime_ns > written.st_mtime_ns, message="touched")
        assert path.stat().st_ino == written.st_ino
        assert view_health(path).up == "running"
        counter.figure = 7
        wait_for(lambda: (read_health(path) or {"parts": [{}]})["parts"][0].get("detail")
                 == {"figure": 7}, message="the new figure written")
        assert path.stat().st_ino != written.st_ino and path.stat().st_mode & 0o777 == 0o600
    finally:
        supervisor.stop()
    assert view_health(path).up == "not running"
