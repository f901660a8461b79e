"""``panebus ingest ccusage`` and ``panebus rollout`` as a user runs them (subprocesses)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import typing as t

import orjson
import pytest

from scraper.sources import locations
from tests import FIXTURES
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.broker import Broker
    from bus.endpoints import Endpoints

REPORTS = FIXTURES / "reports"
SESSIONS = FIXTURES / "codex" / "rollout" / "sessions"
WEEKLY = REPORTS / "ccusage-18.0.11-weekly.json"
CODEX_DAILY = REPORTS / "ccusage-20.0.24-codex-daily.json"


def panebus(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None,
            ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "panebus", *args], input=stdin, capture_output=True,
        timeout=60, check=False, env=env,
    )


def seed_session(prefix: str) -> Path:
    [source] = sorted(SESSIONS.rglob(f"rollout-{prefix}*.jsonl"))
    target = locations.codex_sessions_dir() / source.relative_to(SESSIONS)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


# -- ingest ccusage -------------------------------------------------------------------------


def test_ingest_prints_normalized_report_without_publishing(panebus_home: Path) -> None:
    done = panebus("ingest", "ccusage", str(WEEKLY), "--json", "--no-publish")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.decode().splitlines()
    obj = orjson.loads(line)
    assert obj["screen"] == "ccusage.weekly.claude"
    assert obj["totals"]["total_tokens"] == 285959990
    assert [p["period"] for p in obj["periods"]] == ["2026-11-15", "2026-11-22"]


def test_ingest_reads_stdin(panebus_home: Path) -> None:
    done = panebus("ingest", "ccusage", "-", "--json", "--no-publish",
                   stdin=CODEX_DAILY.read_bytes())
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["agent"] == "codex"


@pytest.mark.parametrize(
    ("stdin", "message"),
    [(b"{not json", b"not JSON"), (b'{"rows": []}', b"no ccusage report"), (b"", b"not JSON")],
)
def test_ingest_bad_input_is_a_clear_error(
    panebus_home: Path, stdin: bytes, message: bytes
) -> None:
    done = panebus("ingest", "ccusage", "-", "--no-publish", stdin=stdin)
    assert done.returncode == 1
    assert message in done.stderr
    assert done.stdout == b""


def test_ingest_run_without_ccusage_on_path(panebus_home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    done = panebus("ingest", "ccusage", "--run", "weekly", "--no-publish",
                   env=dict(os.environ, PATH=str(empty)))
    assert done.returncode == 1
    assert b"not on PATH" in done.stderr


def test_ingest_run_uses_ccusage_from_path(panebus_home: Path, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ccusage"
    fake.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/argv"\ncat "{WEEKLY}"\n')
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    done = panebus("ingest", "ccusage", "--run", "weekly", "--json", "--no-publish", env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "argv").read_text().split() == ["weekly", "--json"]
    assert orjson.loads(done.stdout)["report"] == "weekly"


def test_ingest_file_and_run_are_exclusive(panebus_home: Path) -> None:
    done = panebus("ingest", "ccusage", str(WEEKLY), "--run", "weekly")
    assert done.returncode == 1
    assert b"not both" in done.stderr


def test_ingest_without_a_bus_fails_clearly(panebus_home: Path) -> None:
    done = panebus("ingest", "ccusage", str(WEEKLY), "--timeout", "0.3")
    assert done.returncode == 1
    assert b"did not acknowledge" in done.stderr


def test_ingest_publishes_frames_a_subscriber_receives(
    endpoints: Endpoints, broker: Broker
) -> None:
    from bus.subscribers import Subscriber

    with Subscriber(endpoints, prefixes=["parsed.ccusage."], name="test") as subscriber:
        for report in (WEEKLY, CODEX_DAILY):
            done = panebus("ingest", "ccusage", str(report))
            assert done.returncode == 0, done.stderr
        received: dict[str, t.Any] = {}

        def both() -> bool:
            item = subscriber.recv(timeout=0.5)
            if item is not None:
                received[item[0]] = item[1]
            return len(received) == 2

        wait_for(both, timeout=15, message="two ccusage frames")
    weekly = received["parsed.ccusage.weekly.claude"]
    assert weekly["source"] == {"kind": "report", "confidence": "parsed"}
    assert weekly["provider"] == "ccusage"
    assert weekly["agent"] == "claude"
    assert weekly["totals"]["cost_usd"] == 124.88364849999999
    daily = received["parsed.ccusage.daily.codex"]
    assert [p["total_tokens"] for p in daily["periods"]] == [693151, 747986, 1296237]


# -- rollout --------------------------------------------------------------------------------


def test_rollout_once_prints_the_newest_figures(panebus_home: Path) -> None:
    seed_session("2025-10-14")
    newest = seed_session("2026-02-18")
    os.utime(newest, None)
    done = panebus("rollout", "--once", "--json", "--no-publish")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.decode().splitlines()
    obj = orjson.loads(line)
    assert [(lim["window"], lim["used_pct"]) for lim in obj["limits"]] == [
        ("5h", 61.0), ("weekly", 88.0)
    ]


def test_rollout_once_with_nothing_to_read(panebus_home: Path) -> None:
    done = panebus("rollout", "--once", "--no-publish")
    assert done.returncode == 0
    assert b"no Codex figures" in done.stderr


def test_rollout_once_publishes(endpoints: Endpoints, broker: Broker) -> None:
    from bus.subscribers import Subscriber

    seed_session("2026-11-03")
    with Subscriber(endpoints, prefixes=["parsed.codex."], name="test") as subscriber:
        done = panebus("rollout", "--once")
        assert done.returncode == 0, done.stderr
        item = wait_for(lambda: subscriber.recv(timeout=0.5), timeout=15,
                        message="rollout frame")
    assert item is not None
    topic, body = item
    assert topic == "parsed.codex.rollout"
    assert body["source"] == {"kind": "log", "confidence": "official"}
    assert body["observed_at"] == "2026-11-03T17:20:05.455Z"
    assert body["limits"][0]["used_pct"] == 100.0
    assert body["warnings"][0].startswith("You’ve hit your usage limit")


def test_rollout_follows_a_new_session_and_stops_on_sigterm(
    endpoints: Endpoints, broker: Broker
) -> None:
    from bus.subscribers import Subscriber

    with Subscriber(endpoints, prefixes=["parsed.codex."], name="test") as subscriber:
        process = subprocess.Popen(
            [sys.executable, "-m", "panebus", "rollout"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        lines: list[bytes] = []
        assert process.stderr is not None
        stream = process.stderr

        def read_lines() -> None:
            for line in stream:
                lines.append(line)

        reader = threading.Thread(target=read_lines, daemon=True)
        reader.start()
        try:
            wait_for(lambda: any(b"watching" in line for line in lines), timeout=15,
                     message="rollout started")
            seed_session("2026-02-18")
            item = wait_for(lambda: subscriber.recv(timeout=0.5), timeout=15,
                            message="frame from the new session")
            assert item is not None
            topic, body = item
            assert topic == "parsed.codex.rollout"
            assert body["limits"][0]["used_pct"] == 61.0
        finally:
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=15)
            reader.join(timeout=5)
    assert code == 0, b"".join(lines)
