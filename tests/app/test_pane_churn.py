"""Panes, tmux windows and sessions that come and go by the hundred leave no state behind.

``panebus up`` runs for days while the user opens and closes agent panes. Everything it keeps
per pane — the broker's cached ``state.*`` topic, the scraper's watch list, the pipeline's last
hash/parse/activity, the output trigger's timers, the control clients per session — must go
when the pane goes, or it grows without bound.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from bus.frames import draft, source
from bus.paths import Paths
from bus.publisher import Publisher
from bus.subscribers import Subscriber
from panebus.app import Stack, StackOptions
from scraper.config import ScraperConfig, ServerSpec, TargetRule
from sinks import archive_format as fmt
from sinks.archive import MAX_OPEN_SEGMENTS, ArchiveWriter
from sinks.config import ArchiveConfig
from tests.sinks.frames import raw, stamp
from tests.waiting import wait_for

if t.TYPE_CHECKING:

    import libtmux

    from bus.broker import Broker
    from bus.endpoints import Endpoints
    from bus.frames import Body

ROUNDS = 10
TMUX_WINDOWS = 5  # per round, each split in two: 10 panes a round, 100 in all
ONE_PANE = {"broker state topics": 1, "watched panes": 1, "pipeline hashes": 1,
            "pipeline parses": 1, "pipeline activity": 1, "output trigger keys": 1,
            "control clients": 1}
MAY_BE_EMPTY = {"pipeline parses", "pipeline activity", "output trigger keys"}
PANE = "printf 'churn pane %s\\n' \"$TMUX_PANE\"; exec sleep 100000"


def output_keys(gate: t.Any) -> int:
    """Panes the output trigger keeps something for (timers, last capture, known figures)."""
    return len(gate._panes)


def sizes(stack: Stack) -> dict[str, int]:
    """Every per-pane structure of the running stack, by size."""
    broker, scraper = stack.broker, stack.scraper
    assert broker is not None and scraper is not None
    pipeline = scraper.pipeline
    return {
        "broker state topics": sum(topic.startswith("state.") for topic in list(broker.cache)),
        "watched panes": len(scraper.watched()),
        "pipeline hashes": len(pipeline._last_hash),
        "pipeline parses": len(pipeline._last_parsed),
        "pipeline activity": len(pipeline._last_activity),
        "output trigger keys": output_keys(scraper._output),
        "control clients": sum(len(link.client_pids()) for link in scraper.links.values()),
    }


@pytest.mark.slow
def test_a_hundred_panes_that_come_and_go_leave_nothing_behind(
    panebus_home: Path, server: libtmux.Server
) -> None:
    server.new_session("churn-base", window_command=PANE, x=100, y=30)
    config = ScraperConfig(
        servers=(ServerSpec(socket_name=server.socket_name),),
        targets=(TargetRule(provider="codex", session="churn-*"),),
        sweep_interval=0.5,
    )
    stack = Stack(Paths.from_env(), config,
                  StackOptions(rollout=False, sinks=("archive",), heartbeat_interval=0))
    stack.start()
    try:
        scraper = stack.scraper
        assert scraper is not None
        wait_for(lambda: len(scraper.watched()) == 1, timeout=20, message="the base pane")
        wait_for(lambda: sizes(stack)["broker state topics"] == 1
                 and sizes(stack)["pipeline hashes"] == 1, timeout=20,
                 message="the base pane's state cached and its screen published")
        seen_at_peak: list[dict[str, int]] = []
        for number in range(ROUNDS):
            session = server.new_session(f"churn-{number}", window_command=PANE, x=100, y=30)
            session.windows[0].split(shell=PANE)
            for _ in range(TMUX_WINDOWS - 1):
                tmux_window = session.new_window(window_shell=PANE)
                tmux_window.split(shell=PANE)
            wait_for(lambda: sizes(stack)["broker state topics"] == 1 + 2 * TMUX_WINDOWS
                     and len(scraper.watched()) == 1 + 2 * TMUX_WINDOWS, timeout=90,
                     message=f"round {number}: ten new panes watched and cached")
            for pane in session.panes:  # the tty echoes: %output for each pane
                pane.send_keys("typed", enter=False)
            wait_for(lambda: sizes(stack)["output trigger keys"] >= 2 * TMUX_WINDOWS, timeout=90,
                     message=f"round {number}: output triggers for the ten panes")
            seen_at_peak.append(sizes(stack))
            # Half the panes go one by one, then the session with the rest.
            for tmux_window in session.windows[1:]:
                tmux_window.panes[-1].kill()
            session.kill()
            wait_for(lambda: len(scraper.watched()) == 1, timeout=90,
                     message=f"round {number}: the panes are gone from the watch list")
        # What is left is what the one live pane holds: one entry at most, one client.
        wait_for(lambda: sizes(stack) == {**ONE_PANE, **{k: v for k, v in sizes(stack).items()
                                                        if k in MAY_BE_EMPTY and v == 0}},
                 timeout=90, message=f"per-pane structures of one pane, not {sizes(stack)}")
        assert all(peak["broker state topics"] == 11 for peak in seen_at_peak)
        assert all(peak["control clients"] >= 2 for peak in seen_at_peak), seen_at_peak
    finally:
        stack.stop()


def test_the_broker_drops_the_cached_state_of_a_pane_that_is_gone(
    broker: Broker, endpoints: Endpoints
) -> None:
    pane = {"server": "default", "session": "s", "window": "1", "pane_id": "%7", "title": "",
            "command": "codex", "pid": 1, "width": 80, "height": 24}

    def state(name: str) -> Body:
        return draft("state", "codex", source("screen", "parsed"), pane=pane, state=name,
                     reason="test")

    with Publisher(endpoints, name="scraper") as pub:
        pub.wait_ready(timeout=5.0)
        pub.send_acked(state("added"), timeout=5.0)
        assert "state.codex.7" in broker.cache
        with Subscriber(endpoints, prefixes=["state."], name="live") as live:
            wait_for(lambda: live.recv(timeout=0.1) is not None, timeout=10,
                     message="the cached state replayed to a subscriber")
            pub.send_acked(state("gone"), timeout=5.0)

            def gone_delivered() -> bool:
                item = live.recv(timeout=0.1)
                return item is not None and item[1]["state"] == "gone"

            wait_for(gone_delivered, timeout=10, message="live subscribers still see 'gone'")
            assert "state.codex.7" not in broker.cache
            assert live.snapshot("state.") == []


def open_descriptors() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


def test_the_archive_keeps_a_bounded_number_of_segments_open_across_many_panes(
    tmp_path: Path,
) -> None:
    writer = ArchiveWriter(ArchiveConfig(root=tmp_path / "archive", fsync="always")).open()
    before = open_descriptors()
    panes = range(3 * MAX_OPEN_SEGMENTS)  # each written twice, the second time reopened
    shown = [(number, screen) for screen in range(2) for number in panes]
    bodies = [stamp(raw(f"pane {number} screen {screen}", pane_id=f"%{number}"), seq=index)
              for index, (number, screen) in enumerate(shown)]
    for body in bodies:
        assert writer.write(body)
        writer.sync_if_due()
    assert open_descriptors() - before <= MAX_OPEN_SEGMENTS
    writer.close()
    archived = [body["id"] for segment in fmt.segments(tmp_path / "archive")
                for body in fmt.read_segment(segment).bodies]
    assert sorted(archived) == sorted(body["id"] for body in bodies)
