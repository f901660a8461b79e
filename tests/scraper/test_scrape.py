"""The scraper service end to end: real tmux (private socket), real broker, real watchdog."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from bus.publisher import Publisher
from scraper.config import ScraperConfig, ServerSpec
from scraper.scrape import Scraper
from tests.scraper.conftest import (
    CLAUDE_USAGE,
    CODEX_STATUS,
    MONITOR,
    control_clients,
    need_fixtures,
    new_pane,
    pane_sizes,
    wait_drawn,
)
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    import libtmux

    from tests.scraper.conftest import Collector, StandIns

pytestmark = pytest.mark.slow


def make_config(server: libtmux.Server, **changes: t.Any) -> ScraperConfig:
    base = ScraperConfig(
        servers=(ServerSpec(socket_name=server.socket_name),),
        intervals={"codex": 3600.0, "claude": 3600.0, "claude-monitor": 3600.0},
        sweep_interval=3600.0,
        output_debounce=0.1,
        output_max_wait=1.0,
        output_min_interval=0.0,
        file_debounce=0.05,
    )
    return dataclasses.replace(base, **changes)


def type_line(server: libtmux.Server, pane_id: str, text: str) -> None:
    """Type a line into a stand-in in one tmux command (one write to the pane)."""
    server.cmd("send-keys", "-t", pane_id, *([text] if text else []), "Enter")


@pytest.fixture
def publisher(endpoints: t.Any, broker: t.Any) -> t.Iterator[Publisher]:
    with Publisher(endpoints, name="scraper") as pub:
        assert pub.wait_ready(timeout=5)
        yield pub


@pytest.fixture
def run_scraper(publisher: Publisher) -> t.Iterator[t.Callable[..., Scraper]]:
    """Start scrapers for a test; stop them after it and check no control client is left."""
    started: list[tuple[Scraper, libtmux.Server]] = []

    def start(server: libtmux.Server, **kwargs: t.Any) -> Scraper:
        config = make_config(server, **kwargs.pop("config", {}))
        scraper = Scraper(config, publisher, **kwargs)
        scraper.start()
        started.append((scraper, server))
        return scraper

    yield start
    for scraper, server in started:
        scraper.stop()
        assert not control_clients(server)


def test_agent_panes_found_and_classified_with_the_rule(
    session: libtmux.Session,
    standins: StandIns,
    run_scraper: t.Callable[..., Scraper],
    collector: Collector,
) -> None:
    need_fixtures()
    server = session.server
    codex = new_pane(session, standins.screen_command("codex", CODEX_STATUS))
    claude = new_pane(session, standins.screen_command("claude", CLAUDE_USAGE))
    monitor = new_pane(session, standins.screen_command("claude-monitor", MONITOR))
    shell = new_pane(session, "/bin/sh")
    wait_drawn(server, codex, "5h limit")
    wait_drawn(server, claude, "Current session")
    run_scraper(server, file_triggers=False)
    wait_for(lambda: len(collector.bodies("raw")) >= 3, message="startup raw frames")
    added = {b["pane"]["pane_id"]: b for b in collector.bodies("state") if b["state"] == "added"}
    assert added[codex]["provider"] == "codex"
    assert added[codex]["reason"].startswith("command:")
    assert added[claude]["provider"] == "claude"
    assert added[monitor]["provider"] == "claude-monitor"
    assert shell not in added
    raw = collector.bodies("raw", codex)[0]
    assert raw["trigger"] == "startup"
    assert "5h limit" in raw["text"]
    assert raw["pane"]["command"] == "codex"
    assert not collector.bodies("raw", shell)
    # Wiring: each raw frame is parsed; the parsed frame points at it and carries the pane.
    parsed = wait_for(lambda: collector.bodies("parsed", claude), message="parsed claude frame")
    claude_raw = collector.bodies("raw", claude)[0]
    assert parsed[0]["raw_id"] == claude_raw["id"]
    assert parsed[0]["provider"] == "claude"
    assert parsed[0]["stale_after"] > parsed[0]["observed_at"]
    assert parsed[0]["pane"]["pane_id"] == claude


def codex_on_timer(
    session: libtmux.Session,
    standins: StandIns,
    run_scraper: t.Callable[..., Scraper],
    interval: float,
) -> tuple[str, Scraper]:
    """A Codex pane showing its card and a scraper with only the timer trigger (``interval``)."""
    need_fixtures()
    codex = new_pane(session, standins.screen_command("codex", CODEX_STATUS))
    wait_drawn(session.server, codex, "5h limit")
    timers = {"codex": interval, "claude": 3600.0, "claude-monitor": 3600.0}
    scraper = run_scraper(session.server, config={"intervals": timers}, file_triggers=False,
                          output_triggers=False)
    return codex, scraper


def test_timer_change_gives_one_frame_and_no_change_none(
    session: libtmux.Session,
    standins: StandIns,
    run_scraper: t.Callable[..., Scraper],
    collector: Collector,
) -> None:
    server = session.server
    codex, scraper = codex_on_timer(session, standins, run_scraper, 0.1)
    wait_for(lambda: collector.bodies("raw", codex), message="first raw frame")
    before = scraper.captures_by_trigger.get("timer", 0)
    wait_for(lambda: scraper.captures_by_trigger.get("timer", 0) >= before + 3,
             message="three unchanged timer captures")
    assert len(collector.bodies("raw", codex)) == 1
    type_line(server, codex, "a change")
    wait_for(lambda: len(collector.bodies("raw", codex)) == 2, message="frame for the change")
    after = scraper.captures_by_trigger["timer"]
    wait_for(lambda: scraper.captures_by_trigger["timer"] >= after + 3,
             message="more timer captures")
    raws = collector.bodies("raw", codex)
    assert len(raws) == 2
    assert raws[1]["trigger"] == "timer"
    assert raws[1]["text"].endswith("a change")


def test_timer_skips_a_pane_captured_within_its_interval(
    session: libtmux.Session,
    standins: StandIns,
    run_scraper: t.Callable[..., Scraper],
) -> None:
    """The timer is the safety net: a pane other triggers keep capturing is left to them."""
    server = session.server
    codex, scraper = codex_on_timer(session, standins, run_scraper, 1.0)
    wait_for(lambda: scraper.captures_by_trigger.get("startup"), message="startup capture")

    def captured_often() -> bool:
        scraper.request_capture(server.socket_name or "default", codex)
        return scraper.timer_skipped >= 3

    # Captured every 0.1 s (the scenario's pace): each 1 s tick finds it fresh (< 0.9 s old).
    wait_for(captured_often, interval=0.1, message="three timer ticks that skipped the pane")
    assert scraper.captures_by_trigger.get("timer", 0) == 0
    assert scraper.health()["timer_skipped"] >= 3
    wait_for(lambda: scraper.captures_by_trigger.get("timer", 0) >= 1,
             message="a timer capture once nothing else captures the pane")


def test_output_trigger_change_gives_one_frame_and_redraw_none(
    session: libtmux.Session,
    standins: StandIns,
    run_scraper: t.Callable[..., Scraper],
    collector: Collector,
) -> None:
    need_fixtures()
    server = session.server
    codex = new_pane(session, standins.screen_command("codex", CODEX_STATUS))
    wait_drawn(server, codex, "5h limit")
    scraper = run_scraper(server, file_triggers=False)
    wait_for(lambda: collector.bodies("raw", codex), message="startup frame")
    wait_for(lambda: scraper.wait_connected(0.1), message="control client up")
    type_line(server, codex, "")  # output that redraws the same screen
    wait_for(lambda: scraper.captures_by_trigger.get("output", 0) >= 1,
             message="output-triggered capture")
    assert len(collector.bodies("raw", codex)) == 1
    type_line(server, codex, "changed by output")
    wait_for(lambda: len(collector.bodies("raw", codex)) == 2, message="output frame")
    done = scraper.captures_by_trigger["output"]
    type_line(server, codex, "changed by output")  # redraws the same changed screen
    wait_for(lambda: scraper.captures_by_trigger["output"] > done, message="redraw capture")
    raws = collector.bodies("raw", codex)
    assert len(raws) == 2
    assert raws[1]["trigger"] == "output"


def test_codex_session_file_event_captures_the_codex_pane(
    session: libtmux.Session,
    standins: StandIns,
    run_scraper: t.Callable[..., Scraper],
    collector: Collector,
    panebus_home: Path,
) -> None:
    need_fixtures()
    server = session.server
    sessions_dir = Path(os.environ["CODEX_HOME"]) / "sessions" / "2026" / "11" / "25"
    sessions_dir.mkdir(parents=True)
    codex = new_pane(session, standins.screen_command("codex", CODEX_STATUS))
    claude = new_pane(session, standins.screen_command("claude", CLAUDE_USAGE))
    wait_drawn(server, claude, "Current session")
    run_scraper(server, output_triggers=False)
    wait_for(lambda: collector.bodies("raw", codex) and collector.bodies("raw", claude),
             message="startup frames")
    type_line(server, codex, "turn finished")
    type_line(server, claude, "claude changed too")
    wait_drawn(server, codex, "turn finished")
    wait_drawn(server, claude, "claude changed too")
    rollout = sessions_dir / "rollout-2026-11-25T10-00-00-abc.jsonl"
    rollout.write_text('{"type":"event_msg"}\n', encoding="utf-8")
    wait_for(lambda: len(collector.bodies("raw", codex)) == 2, message="file-triggered frame")
    frame = collector.bodies("raw", codex)[1]
    assert frame["trigger"] == "file"
    assert "turn finished" in frame["text"]
    # A Codex file event captures the Codex panes only.
    assert len(collector.bodies("raw", claude)) == 1


def test_capturing_resumes_after_tmux_server_restart(
    server: libtmux.Server,
    standins: StandIns,
    run_scraper: t.Callable[..., Scraper],
    collector: Collector,
) -> None:
    need_fixtures()
    server.new_session(
        session_name="one", window_command=standins.screen_command("codex", CODEX_STATUS)
    )
    scraper = run_scraper(server, config={"sweep_interval": 0.2}, file_triggers=False)
    wait_for(lambda: collector.bodies("raw"), message="frame before restart")
    wait_for(lambda: scraper.wait_connected(0.1), message="control client up")
    server.kill()
    wait_for(lambda: any(b["state"] == "gone" for b in collector.bodies("state")),
             message="panes gone")
    server.new_session(
        session_name="two", window_command=standins.screen_command("codex", CLAUDE_USAGE)
    )
    sizes = pane_sizes(server)
    wait_for(lambda: any("Current session" in b["text"] for b in collector.bodies("raw")),
             timeout=20, message="capture after restart")
    wait_for(lambda: scraper.wait_connected(0.1), timeout=20, message="control client back")
    assert len(control_clients(server)) == 1
    assert pane_sizes(server) == sizes


def test_hostile_panes_do_not_stop_the_scraper(
    session: libtmux.Session,
    standins: StandIns,
    run_scraper: t.Callable[..., Scraper],
    collector: Collector,
) -> None:
    need_fixtures()
    server = session.server
    sleeper = standins.sleeper("codex")
    key = "sk-proj-" + "Z" * 48
    garbage = new_pane(session, f"head -c 20000 /dev/urandom; exec {sleeper} 100000")
    flood = new_pane(session, f"seq 100000; exec {sleeper} 100000")
    planted = new_pane(session, f"echo 'OPENAI_API_KEY={key}'; exec {sleeper} 100000")
    dying = new_pane(session, f"exec {sleeper} 100000")
    healthy = new_pane(session, standins.screen_command("claude", CLAUDE_USAGE))
    wait_drawn(server, flood, "100000")
    sizes = pane_sizes(server)
    timers = {"codex": 0.05, "claude": 3600.0, "claude-monitor": 3600.0}
    scraper = run_scraper(server, config={"intervals": timers}, file_triggers=False)
    wait_for(lambda: all(collector.bodies("raw", p) for p in (garbage, flood, planted, healthy)),
             timeout=20, message="every pane captured")
    server.cmd("kill-pane", "-t", dying)
    wait_for(lambda: any(b["state"] == "gone" and b["pane"]["pane_id"] == dying
                         for b in collector.bodies("state")), message="dying pane gone")
    type_line(server, healthy, "still alive")
    wait_for(lambda: any("still alive" in b["text"] for b in collector.bodies("raw", healthy)),
             message="scraper still working")
    assert "99999" in collector.bodies("raw", flood)[0]["text"]
    assert pane_sizes(server) == {k: v for k, v in sizes.items() if k != dying}
    assert scraper.stats.secrets_masked >= 1
    for _, body in collector.frames:
        assert key not in str(body)
    assert "[REDACTED:openai-project-key]" in collector.bodies("raw", planted)[0]["text"]


def test_scrape_cli_once_and_foreground(
    session: libtmux.Session,
    standins: StandIns,
    collector: Collector,
    capsys: pytest.CaptureFixture[str],
) -> None:
    need_fixtures()
    from panebus.cli import main

    server = session.server
    codex = new_pane(session, standins.screen_command("codex", CODEX_STATUS))
    wait_drawn(server, codex, "5h limit")
    socket = ["-L", str(server.socket_name)]
    assert main(["scrape", *socket, "--once"]) == 0
    assert "1 agent pane(s)" in capsys.readouterr().out
    wait_for(lambda: collector.bodies("raw", codex), message="--once frame")

    process = subprocess.Popen(
        [sys.executable, "-m", "panebus", "scrape", *socket, "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for(lambda: control_clients(server), message="control client of panebus scrape")
        type_line(server, codex, "seen by the service")
        wait_for(lambda: any("seen by the service" in b["text"]
                             for b in collector.bodies("raw", codex)), message="service frame")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "agent pane(s)" in out
    assert not control_clients(server)


def test_snap_cli_publishes_one_manual_frame(
    session: libtmux.Session,
    standins: StandIns,
    collector: Collector,
) -> None:
    need_fixtures()
    from panebus.cli import main

    server = session.server
    codex = new_pane(session, standins.screen_command("codex", CODEX_STATUS))
    wait_drawn(server, codex, "5h limit")
    assert main(["snap", "-L", str(server.socket_name), codex]) == 0
    wait_for(lambda: collector.bodies("raw", codex), message="snap frame")
    assert collector.bodies("raw", codex)[0]["trigger"] == "manual"
    assert main(["snap", "-L", str(server.socket_name), "%999"]) == 1


def test_respawned_pane_publishes_state_and_is_captured_again(
    session: libtmux.Session,
    standins: StandIns,
    run_scraper: t.Callable[..., Scraper],
    collector: Collector,
) -> None:
    need_fixtures()
    server = session.server
    codex = new_pane(session, standins.screen_command("codex", CODEX_STATUS))
    wait_drawn(server, codex, "5h limit")
    timers = {"codex": 0.2, "claude": 3600.0, "claude-monitor": 3600.0}
    run_scraper(server, config={"sweep_interval": 0.1, "intervals": timers},
                file_triggers=False, output_triggers=False)
    wait_for(lambda: collector.bodies("raw", codex), message="first frame")
    server.cmd("respawn-pane", "-k", "-t", codex, standins.screen_command("codex", CLAUDE_USAGE))
    wait_for(lambda: any(b["state"] == "respawned" for b in collector.bodies("state", codex)),
             message="respawned state")
    # Captured again at once (trigger startup: a respawned pane is a new pane)…
    wait_for(lambda: [b["trigger"] for b in collector.bodies("raw", codex)].count("startup") == 2,
             message="startup capture after respawn")
    # …and the new program's screen is what gets published from then on.
    wait_for(lambda: any("Current session" in b["text"] for b in collector.bodies("raw", codex)),
             message="new program captured")
