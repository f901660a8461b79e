"""Debounce, the output gate and file triggers on real threads and a real watchdog observer."""

from __future__ import annotations

import threading
import typing as t

from scraper.changes import known_from
from scraper.config import WatchedPath
from scraper.triggers import Debouncer, FileTrigger, OutputGate, default_watch_paths
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path


def test_burst_fires_once_per_key() -> None:
    fired: list[str] = []
    debouncer: Debouncer[str] = Debouncer(fired.append, quiet=0.05, max_wait=5.0)
    debouncer.start()
    try:
        for _ in range(50):
            debouncer.poke("a")
        debouncer.poke("b")
        wait_for(lambda: sorted(fired) == ["a", "b"], message="both keys fired")
        wait_for(lambda: debouncer.pending() == 0, message="nothing pending")
        assert sorted(fired) == ["a", "b"]
    finally:
        debouncer.stop()


def test_max_wait_fires_during_endless_output() -> None:
    fired = threading.Event()
    debouncer: Debouncer[str] = Debouncer(lambda key: fired.set(), quiet=10.0, max_wait=0.1)
    debouncer.start()
    stop = threading.Event()

    def keep_poking() -> None:
        while not stop.is_set():
            debouncer.poke("busy")
            stop.wait(0.01)  # the output's pace (the scenario), not a wait

    poker = threading.Thread(target=keep_poking)
    poker.start()
    try:
        # quiet=10s would never elapse while pokes keep coming; max_wait fires anyway.
        wait_for(fired.is_set, timeout=5, message="max-wait fire")
    finally:
        stop.set()
        poker.join()
        debouncer.stop()


def test_min_gap_spaces_calls_per_key() -> None:
    """A key poked again within its gap waits, while another key fires: no clock is read."""
    fired: list[str] = []
    debouncer: Debouncer[str] = Debouncer(fired.append, quiet=0.01, max_wait=0.02, min_gap=3600)
    debouncer.start()
    try:
        debouncer.poke("k")
        wait_for(lambda: fired == ["k"], message="first call")
        debouncer.poke("k")
        debouncer.poke("other")
        wait_for(lambda: "other" in fired, message="the other key's call")
        assert fired == ["k", "other"]
        assert debouncer.pending() == 1  # "k" is held back by its gap, not dropped
    finally:
        debouncer.stop()
    spaced: list[str] = []
    debouncer = Debouncer(spaced.append, quiet=0.01, max_wait=0.02, min_gap=0.05)
    debouncer.start()
    try:
        debouncer.poke("k")
        wait_for(lambda: spaced == ["k"], message="first call")
        debouncer.poke("k")
        wait_for(lambda: spaced == ["k", "k"], message="the held call once its gap is over")
    finally:
        debouncer.stop()


def test_a_failing_action_does_not_stop_the_debouncer() -> None:
    calls: list[str] = []

    def action(key: str) -> None:
        calls.append(key)
        if key == "bad":
            raise RuntimeError("boom")

    debouncer: Debouncer[str] = Debouncer(action, quiet=0.01, max_wait=0.05)
    debouncer.start()
    try:
        debouncer.poke("bad")
        wait_for(lambda: calls == ["bad"], message="bad fired")
        debouncer.poke("good")
        wait_for(lambda: calls == ["bad", "good"], message="good fired after a failure")
    finally:
        debouncer.stop()


def test_output_gate_figures_jump_the_queue_and_a_changed_screen_brings_a_pane_forward() -> None:
    fired: list[str] = []
    # Spinner output waits up to an hour here; only figures, new panes and the end of a
    # spinner-only streak bring a capture forward.
    gate: OutputGate[str] = OutputGate(fired.append, quiet=0.001, max_wait=0.01, busy=0.01,
                                       max_busy=3600.0, settle=3600.0)
    gate.start()
    try:
        card = known_from("5h limit: 40% used\n\u2022 Working (12s)")
        gate.poke("a", b"first output")  # a pane never captured: at once
        wait_for(lambda: fired == ["a"], message="the first output of a pane")
        for _ in range(20):  # capture after capture found only a spinner tick: back off
            gate.captured("a", card, spinner_only=True)
        for tick in range(13, 40):
            gate.poke("a", f"\\033[2;1H\\342\\200\\242 Working ({tick}s)".encode())
        assert gate.pending() == 1 and fired == ["a"]  # held back
        gate.poke("b", b"another pane")  # due before "a": wakes the timer thread
        gate.poke("a", b"5h limit: 41% used")  # a figure the pane did not show: at once
        wait_for(lambda: sorted(fired) == ["a", "a", "b"], message="the figure and pane b")
        for tick in range(40, 45):
            gate.poke("a", f"Working ({tick}s)".encode())
        assert gate.pending() == 1 and len(fired) == 3
        gate.captured("a", card, spinner_only=False)  # something else changed: 10 ms again
        wait_for(lambda: len(fired) == 4 and gate.pending() == 0, message="brought forward")
        gate.poke("gone", b"x")
        gate.forget("gone")  # a pane that went away is never captured
        gate.poke("b", b"5h limit: 99% used")
        wait_for(lambda: fired.count("b") == 2, message="b's figure")
        assert "gone" not in fired and gate.pokes == 27 + 5 + 5
    finally:
        gate.stop()


def test_output_gate_sends_coalesced_captures_together_and_figures_alone() -> None:
    """Spinner output of many panes falls due together and goes out as one batch (one
    pipelined capture); a figure goes to ``fire`` on its own, never waiting in a batch."""
    urgent: list[str] = []
    batches: list[list[str]] = []
    gate: OutputGate[str] = OutputGate(urgent.append, quiet=0.001, max_wait=0.01, busy=0.05,
                                       max_busy=0.05, settle=3600.0, fire_routine=batches.append)
    gate.start()
    try:
        card = known_from("5h limit: 40% used\n\u2022 Working (12s)")
        panes = [f"%{index}" for index in range(5)]
        for pane in panes:  # the first output after a quiet spell: at once
            gate.poke(pane, b"\\033[2;1HWorking (12s)")
        wait_for(lambda: sorted(urgent) == panes, message="the first captures")
        urgent.clear()
        for pane in panes:
            gate.captured(pane, card, spinner_only=True)
            gate.poke(pane, b"\\033[2;1HWorking (13s)")  # a timer tick: coalesced
        gate.poke("%0", b"5h limit: 41% used")  # a new figure: at once, alone
        wait_for(lambda: urgent == ["%0"], message="the figure's capture")
        wait_for(lambda: sorted(key for batch in batches for key in batch) == panes[1:],
                 message="the coalesced captures")
        assert len(batches) == 1  # one grid tick, one batch
        assert gate.fired == 10 and gate.urgent_fired == 6
    finally:
        gate.stop()


def test_default_paths_honour_agent_variables(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "CODEX_HOME": str(tmp_path / "cx"),
           "CLAUDE_CONFIG_DIR": str(tmp_path / "cl")}
    assert default_watch_paths(env) == [
        ("codex", tmp_path / "cx" / "sessions"),
        ("claude", tmp_path / "cl" / "projects"),
    ]


def test_file_event_fires_provider_and_late_dirs_are_picked_up(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "CODEX_HOME": str(tmp_path / "cx"),
           "CLAUDE_CONFIG_DIR": str(tmp_path / "cl")}
    extra = tmp_path / "extra"
    extra.mkdir()
    fired: list[str] = []
    trigger = FileTrigger(
        fired.append, extra=[WatchedPath("claude-monitor", extra)], debounce=0.05, environ=env
    )
    trigger.start()
    try:
        assert trigger.watching() == [extra]  # the agents' dirs do not exist yet
        (extra / "x.json").write_text("{}", encoding="utf-8")
        wait_for(lambda: fired == ["claude-monitor"], message="extra path event")
        sessions = tmp_path / "cx" / "sessions" / "2026" / "11" / "25"
        sessions.mkdir(parents=True)
        trigger.refresh()
        assert tmp_path / "cx" / "sessions" in trigger.watching()
        (sessions / "rollout-2026-11-25T10-00-00-x.jsonl").write_text("{}\n", encoding="utf-8")
        wait_for(lambda: "codex" in fired, message="codex session event")
    finally:
        trigger.stop()
