"""``panebus hook claude-statusline`` as Claude Code runs it: a subprocess fed on stdin."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t

import orjson
import pytest

from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.broker import Broker
    from bus.endpoints import Endpoints

FIVE_HOUR_RESET = 1795701600  # 2026-11-26T14:00:00Z
STATUSLINE = {
    "session_id": "5b3a9c1e",
    "cwd": "/home/u/src/app",
    "model": {"id": "claude-opus-4-5-20251101", "display_name": "Opus 4.5"},
    "workspace": {"current_dir": "/home/u/src/app", "project_dir": "/home/u/src/app"},
    "version": "2.1.197",
    "cost": {"total_cost_usd": 1.2345},
    "rate_limits": {
        "five_hour": {"used_percentage": 23.0, "resets_at": FIVE_HOUR_RESET},
        "seven_day": {"used_percentage": 41.0, "resets_at": 1796040000},
    },
}
NO_LIMITS = {key: value for key, value in STATUSLINE.items() if key != "rate_limits"}


def run_hook(stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, TZ="UTC")
    return subprocess.run(
        [sys.executable, "-m", "panebus", "hook", "claude-statusline", *args],
        input=stdin, capture_output=True, timeout=30, check=False, env=env,
    )


class HookCase(t.NamedTuple):
    test_id: str
    stdin: bytes
    line: str


CASES = [
    HookCase("good", orjson.dumps(STATUSLINE), "Opus 4.5 · 5h 23% (resets 14:00) · wk 41%"),
    HookCase("no-rate-limits", orjson.dumps(NO_LIMITS), "Opus 4.5 · $1.23"),
    HookCase(
        "partial", orjson.dumps({"rate_limits": {"seven_day": {"used_percentage": 5}}}),
        "Claude · wk 5%",
    ),
    HookCase("broken-json", b'{"model": {"display_name": "Op', "panebus: no status data"),
    HookCase("empty", b"", "panebus: no status data"),
    HookCase("not-an-object", b"[1, 2, 3]", "panebus: no status data"),
    HookCase("binary", b"\x00\xff\xfe garbage", "panebus: no status data"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_hook_prints_one_line_and_exits_0_without_a_bus(
    panebus_home: Path, case: HookCase
) -> None:
    done = run_hook(case.stdin)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8") == case.line + "\n"


def test_hook_foreground_without_a_bus_still_exits_0(panebus_home: Path) -> None:
    done = run_hook(orjson.dumps(STATUSLINE), "--foreground", "--timeout", "0.2")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode("utf-8") == "Opus 4.5 · 5h 23% (resets 14:00) · wk 41%\n"


@pytest.mark.parametrize("mode", [(), ("--foreground",)], ids=["detached", "foreground"])
def test_hook_publishes_an_official_statusline_frame(
    endpoints: Endpoints, broker: Broker, mode: tuple[str, ...]
) -> None:
    from bus.subscribers import Subscriber

    with Subscriber(endpoints, prefixes=["parsed.claude."], name="test") as subscriber:
        done = run_hook(orjson.dumps(STATUSLINE), *mode, "--timeout", "5")
        assert done.returncode == 0, done.stderr
        item = wait_for(lambda: subscriber.recv(timeout=0.5), timeout=15, message="hook frame")
    assert item is not None
    topic, body = item
    assert topic == "parsed.claude.statusline"
    assert body["source"] == {"kind": "hook", "confidence": "official"}
    assert body["model"] == "Opus 4.5"
    assert body["session_id"] == "5b3a9c1e"
    assert [(lim["window"], lim["used_pct"], lim["resets_at"]) for lim in body["limits"]] == [
        ("5h", 23.0, "2026-11-26T14:00:00+00:00"),
        ("weekly", 41.0, "2026-11-30T12:00:00+00:00"),
    ]
    assert body["stale_after"] == "2026-11-26T14:00:00.000Z"


def test_hook_does_not_hang_on_a_stdin_left_open(panebus_home: Path) -> None:
    env = dict(os.environ, TZ="UTC")
    process = subprocess.Popen(
        [sys.executable, "-m", "panebus", "hook", "claude-statusline", "--no-publish"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
    )
    assert process.stdin is not None
    try:
        process.stdin.write(b'{"model": {"display_name": "Opus 4.5"}')  # never closed
        process.stdin.flush()
        code = process.wait(timeout=30)
        assert process.stdout is not None
        out = process.stdout.read()
    finally:
        process.stdin.close()
    assert code == 0
    assert out == b"panebus: no status data\n"
