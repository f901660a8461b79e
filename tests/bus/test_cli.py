"""``panebus bus``, ``publish``, ``tail`` and ``keys`` as a user runs them (real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from bus.endpoints import Endpoints
from bus.paths import Paths
from bus.publisher import Publisher
from tests.bus.bodies import sys_event
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.broker import Broker

PANEBUS = Path(sys.executable).with_name("panebus")
USAGE = 2


def panebus(
    *args: str, timeout: float = 30.0, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``panebus`` with the test's environment (PANEBUS_HOME included)."""
    return subprocess.run(
        [str(PANEBUS), *args], capture_output=True, text=True, timeout=timeout, input=stdin,
        env=dict(os.environ), check=False,
    )


def start(*args: str) -> subprocess.Popen[str]:
    """Start ``panebus`` in the background."""
    return subprocess.Popen(
        [str(PANEBUS), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ),
    )


def test_tail_and_publish_round_trip(endpoints: Endpoints, broker: Broker) -> None:
    before = broker.subscriptions
    tail = start("tail", "sys.tests", "--json", "--count", "1", "--timeout", "30")
    try:
        wait_for(lambda: broker.subscriptions >= before + 2, message="tail subscribed")
        published = panebus("publish", "sys.tests", '{"passed":3,"failed":0}')
        assert published.returncode == 0, published.stderr
        out, err = tail.communicate(timeout=30)
    finally:
        tail.kill()
    assert tail.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 1
    frame = json.loads(lines[0])
    assert frame["topic"] == "sys.tests"
    body = frame["body"]
    assert (body["passed"], body["failed"], body["what"], body["kind"]) == (3, 0, "tests", "sys")
    assert body["source"] == {"kind": "manual", "confidence": "parsed"}
    assert body["provider"] == "unknown"
    assert body["producer"].endswith(":cli-publish")


def test_publish_reads_stdin_and_fills_the_provider(endpoints: Endpoints, broker: Broker) -> None:
    result = panebus("publish", "state.codex.3", "-", "--print",
                     stdin='{"state": "idle", "reason": "test"}')
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert (body["kind"], body["provider"], body["state"]) == ("state", "codex", "idle")
    wait_for(lambda: "state.codex.3" in broker.cache, message="the state frame cached")


def test_publish_without_a_broker_exits_1(panebus_home: Path) -> None:
    result = panebus("publish", "sys.tests", "{}", "--timeout", "0.3")
    assert result.returncode == 1
    assert "not acknowledged" in result.stderr


def test_tail_timeout_first_exits_1(endpoints: Endpoints, broker: Broker) -> None:
    result = panebus("tail", "parsed.", "--count", "1", "--timeout", "0.5")
    assert result.returncode == 1
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [
        ("publish",),
        ("publish", "sys.tests", "{not json"),
        ("publish", "sys.tests", "[1, 2]"),
        ("publish", "nonsense.topic", "{}"),
        ("publish", "state.codex.3", '{"reason": "no state field"}'),
        ("tail", "--count", "many"),
        ("tail", "--count", "0"),
        ("bus", "--tcp", "0.0.0.0:7000", "--insecure"),
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2(panebus_home: Path, args: tuple[str, ...]) -> None:
    result = panebus(*args, "--timeout", "0.3") if args[0] == "publish" else panebus(*args)
    assert result.returncode == USAGE, result.stderr
    assert result.stderr.strip()


@pytest.mark.parametrize("verb", ["bus", "publish", "tail", "keys"])
def test_help(verb: str) -> None:
    result = panebus(verb, "--help")
    assert result.returncode == 0
    assert f"panebus {verb}" in result.stdout


def test_bus_runs_in_the_foreground_and_stops_on_sigterm(panebus_home: Path) -> None:
    bus = start("bus", "--heartbeat", "0.2")
    try:
        endpoints = Endpoints.default()
        with Publisher(endpoints, name="probe") as pub:
            wait_for(lambda: pub.send_acked(sys_event("probe"), timeout=0.5), message="bus up")
        tail = panebus("tail", "sys.heartbeat", "--json", "--count", "1", "--timeout", "20")
        assert tail.returncode == 0, tail.stderr
        heartbeat = json.loads(tail.stdout)["body"]
        assert heartbeat["forwarded"] >= 1
        assert {"rejected", "cache_size", "uptime_s"} <= set(heartbeat)
        bus.send_signal(signal.SIGTERM)
        _out, err = bus.communicate(timeout=10)
        assert bus.returncode == 0, err
        assert "stopped" in err
    finally:
        bus.kill()


def test_keys_writes_private_pairs_once(panebus_home: Path) -> None:
    first = panebus("keys")
    assert first.returncode == 0, first.stderr
    keys_dir = Paths.from_env().keys_dir
    assert sorted(path.name for path in keys_dir.iterdir()) == [
        "broker.key", "broker.key_secret", "client.key", "client.key_secret"
    ]
    assert all(path.stat().st_mode & 0o077 == 0 for path in keys_dir.iterdir())
    again = panebus("keys")
    assert again.returncode == 1
    assert "--force" in again.stderr
    assert panebus("keys", "--force").returncode == 0
