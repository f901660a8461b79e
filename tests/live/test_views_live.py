"""Issue 16 on the real Codex CLI: a limit crossing is announced once on the bus and on the
tmux client attached to the agents' session; `panebus forecast`, `top` and `history` show the
turn's figures."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import typing as t

from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from tests.live.conftest import Harness, Panebus


@contextlib.contextmanager
def attached_client(harness: Harness) -> t.Iterator[t.Callable[[], bytes]]:
    """A real ``tmux attach`` to the harness's session in a 120x40 pty (a person's terminal);
    yields a function returning what the client drew so far."""
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    client = subprocess.Popen(
        ["tmux", "-L", harness.name, "attach", "-t", "agents"], stdin=secondary,
        stdout=secondary, stderr=secondary, env={**os.environ, "TERM": "xterm-256color"},
        start_new_session=True)
    os.close(secondary)
    os.set_blocking(primary, False)
    drawn = bytearray()

    def read() -> bytes:
        with contextlib.suppress(BlockingIOError, OSError):
            drawn.extend(os.read(primary, 1 << 16))
        return bytes(drawn)

    try:
        yield read
    finally:
        client.terminate()
        client.wait(timeout=10)
        os.close(primary)


def test_crossing_is_announced_and_the_views_show_the_turn(
    harness: Harness, panebus: Panebus
) -> None:
    events_file = panebus.home / "events.jsonl"
    with events_file.open("wb") as out:
        tail = subprocess.Popen(
            [sys.executable, "-m", "panebus", "tail", "event.", "--json"], env=panebus.env,
            stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        with attached_client(harness) as terminal:
            harness.set_limits("codex", "5h=85", "weekly=31")
            harness.turn("codex", "hello from the notification scenario")

            def crossing() -> dict[str, t.Any] | None:
                for line in events_file.read_bytes().splitlines():
                    with contextlib.suppress(ValueError):
                        body: dict[str, t.Any] = json.loads(line)["body"]
                        if body.get("event") == "limit" and body.get("used_pct") == 85.0:
                            return body
                return None

            event = wait_for(crossing, timeout=90, message="event.limit for codex 5h at 85%")
            assert event["threshold"] == 80.0 and event["window"] == "5h"
            wait_for(lambda: b"codex 5h at 85% (crossed 80%)" in terminal(),
                     timeout=30, message="the message on the attached client")
    finally:
        tail.terminate()
        tail.wait(timeout=10)
    announced = [json.loads(x)["body"]["key"] for x in events_file.read_bytes().splitlines()]
    assert len(announced) == len(set(announced)), announced  # each event once

    top = panebus.cli("top", "--once")
    assert top.returncode == 0 and "codex 5h" in top.stdout and "85%" in top.stdout, top.stdout
    forecast = panebus.cli("forecast", "--provider", "codex")
    assert forecast.returncode == 0, forecast.stderr
    assert "codex 5h 85%" in forecast.stdout, forecast.stdout  # one turn: "too few points"
    history = panebus.cli("history", "--provider", "codex", "--width", "60")
    assert history.returncode == 0, history.stderr
    assert history.stdout.startswith("codex 5h"), history.stdout

