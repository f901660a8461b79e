"""``codex app-server`` as an official source: the mapping of its answer, and every way a peer
can fail, against real subprocesses (a small JSON-RPC peer script, not a mock). The real
app-server of the installed Codex is tested in tests/live/test_codex_appserver.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import os
import subprocess
import sys
import threading
import typing as t

import pytest

from bus.frames import validate
from panebus.app import _ProbeSchedule
from scraper.config import ScraperConfig, ServerSpec
from scraper.sources.codex_appserver import (
    LOCK_FILE,
    AppServerUnavailable,
    CodexAppServer,
    appserver_frame,
    usage_from_rate_limits,
)
from scraper.sources.stdio_rpc import MAX_GARBAGE
from tests.sinks.frames import stamp
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

NOW = dt.datetime(2026, 12, 3, 15, 48, tzinfo=dt.timezone.utc)
RESET_5H = 1796324489  # 2026-12-03T19:01:29Z
RESET_WEEK = 1796676509
#: What the real 0.169.0 app-server answered the live harness (set-limits 5h=40 weekly=15).
REAL_ANSWER: dict[str, t.Any] = {
    "ordinaryUsageAllowed": None,
    "rateLimits": {
        "limitId": "codex", "limitName": None, "normalModelSlug": None,
        "primary": {"usedPercent": 40, "windowDurationMins": 300, "resetsAt": RESET_5H},
        "secondary": {"usedPercent": 15, "windowDurationMins": 10080, "resetsAt": RESET_WEEK},
        "credits": {"hasCredits": False, "unlimited": False, "balance": "0"},
        "individualLimit": None, "spendControlReached": None, "planType": "plus",
        "rateLimitReachedType": None,
    },
    "rateLimitsByLimitId": None,
    "rateLimitResetCredits": None, "accountId": None, "rateLimitUpsell": None,
}

#: The peer: ``$1`` is its mode. It speaks JSON lines like the app-server does.
PEER = r'''
import json, os, signal, sys, time
mode = os.environ.get("PEER_MODE") or sys.argv[-1]
answer = json.loads(os.environ["PEER_ANSWER"])
if mode == "spawn":  # a grandchild that leaves the process group and would live on
    pid = os.fork()
    if pid == 0:
        os.setsid()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(300)  # lives on (the scenario); bounded so a broken test leaks nothing forever
        os._exit(0)
    open(os.environ["PEER_PIDS"], "w").write(f"{os.getpid()} {pid}")
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # and the peer itself ignores SIGTERM
if mode == "exit":
    sys.stderr.write("error: not logged in (run codex login)\n")
    sys.exit(3)
if mode == "garbage":  # an endless flood at a pace (the scenario), not a wait
    while True:
        sys.stdout.write("Welcome to Codex!\n"); sys.stdout.flush(); time.sleep(0.001)
def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n"); sys.stdout.flush()
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg or "method" not in msg:
        continue  # notifications, and our answer to the peer's own request
    if mode in ("silent", "spawn"):
        continue
    if msg["method"] == "initialize":
        print("a stray line that is not JSON", flush=True)
        send({"method": "configWarning", "params": {"summary": "no bubblewrap"}})
        send({"id": 99, "method": "item/tool/requestUserInput", "params": {}})
        send({"id": msg["id"], "result": {"userAgent": "fake", "codexHome": "/x",
                                          "platformFamily": "unix", "platformOs": "linux"}})
    elif msg["method"] == "account/rateLimits/read":
        if mode == "error":
            send({"id": msg["id"], "error": {"code": -32600, "message": "not signed in"}})
        else:
            update = {"rateLimits": answer["rateLimits"]}
            send({"method": "account/rateLimits/updated", "params": update})
            send({"id": msg["id"], "result": answer})
'''


@pytest.fixture
def peer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, panebus_home: Path) -> Path:
    """An executable JSON-RPC peer named ``codex`` (it answers REAL_ANSWER unless changed);
    a private PANEBUS_HOME, HOME and XDG dirs, so the read lock is never the user's."""
    path = tmp_path / "bin" / "codex"
    path.parent.mkdir()
    path.write_text(f"#!{sys.executable}\n{PEER}")
    path.chmod(0o755)
    monkeypatch.setenv("PEER_ANSWER", __import__("json").dumps(REAL_ANSWER))
    monkeypatch.setenv("PEER_PIDS", str(tmp_path / "pids"))
    return path


def server(peer: Path, mode: str, tmp_path: Path, timeout: float = 5.0) -> CodexAppServer:
    return CodexAppServer(str(peer), timeout=timeout, lock_dir=tmp_path / "locks",
                          args=("app-server", mode))


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended (a zombie waiting for its reaper has ended too)."""
    try:
        stat = open(f"/proc/{pid}/stat", "rb").read()  # noqa: PTH123, SIM115
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 :].split()[0] in (b"Z", b"X")


def test_the_real_answer_maps_to_official_5h_and_weekly() -> None:
    usage = usage_from_rate_limits(REAL_ANSWER, NOW)
    assert usage is not None
    got = [(lim.window, lim.scope, lim.used_pct, lim.resets_at) for lim in usage.limits]
    assert got == [
        ("5h", None, 40.0, dt.datetime.fromtimestamp(RESET_5H, dt.timezone.utc)),
        ("weekly", None, 15.0, dt.datetime.fromtimestamp(RESET_WEEK, dt.timezone.utc)),
    ]
    body = stamp(appserver_frame(usage))
    assert validate(body) is body
    assert body["source"] == {"kind": "api", "confidence": "official"}
    assert body["screen"] == "codex.app-server"
    assert body["observed_at"] == "2026-12-03T15:48:00.000Z"
    assert body["stale_after"] == "2026-12-03T19:01:29.000Z"
    assert body["plan_type"] == "plus"


def test_other_families_are_scoped_and_nothing_is_invented() -> None:
    other = {"limitId": "codex_bengalfox", "limitName": "GPT-5.3-Codex-Spark limit",
             "primary": {"usedPercent": 7, "windowDurationMins": 300, "resetsAt": RESET_5H}}
    main = dict(REAL_ANSWER["rateLimits"], rateLimitReachedType="rate_limit_reached",
                individualLimit={"limit": "100", "used": "25", "remainingPercent": 75,
                                 "resetsAt": RESET_WEEK})
    answer = dict(REAL_ANSWER, rateLimits=main,
                  rateLimitsByLimitId={"codex": main, "codex_bengalfox": other})
    usage = usage_from_rate_limits(answer, NOW)
    assert usage is not None
    got = [(lim.window, lim.scope, lim.used_pct) for lim in usage.limits]
    assert got == [("5h", None, 40.0), ("weekly", None, 15.0), ("monthly", "credits", 25.0),
                   ("5h", "gpt-5.3-codex-spark", 7.0)]
    assert "rate limit reached (rate_limit_reached)" in usage.warnings
    broken = {"rateLimits": {"primary": {"usedPercent": 400, "windowDurationMins": 300},
                             "secondary": {"windowDurationMins": 10080}}}
    assert usage_from_rate_limits(broken, NOW) is None  # out of range, missing: no figure
    assert usage_from_rate_limits("garbage", NOW) is None


def test_a_read_through_a_real_peer_skips_noise_and_leaves_nothing(
    peer: Path, tmp_path: Path
) -> None:
    reading = server(peer, "ok", tmp_path).read()
    assert [(lim.window, lim.used_pct) for lim in reading.usage.limits] == [
        ("5h", 40.0), ("weekly", 15.0)]
    assert reading.notifications == ("configWarning", "account/rateLimits/updated")


@pytest.mark.parametrize(
    ("mode", "reason", "says"),
    [
        ("silent", "timeout", "no answer to initialize"),
        ("exit", "exited", "exited with code 3: error: not logged in"),
        ("garbage", "protocol", f"({MAX_GARBAGE + 1})"),
        ("error", "error", "account/rateLimits/read: not signed in"),
    ],
)
def test_each_failure_is_named(
    peer: Path, tmp_path: Path, mode: str, reason: str, says: str
) -> None:
    with pytest.raises(AppServerUnavailable) as caught:
        # only the silent peer may run into the timeout; the others answer (a busy machine
        # must not turn their failure into a timeout)
        server(peer, mode, tmp_path, timeout=1.0 if mode == "silent" else 30.0).read()
    assert caught.value.reason == reason
    assert says in str(caught.value)


def test_an_answer_without_limits_and_a_missing_binary(
    peer: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PEER_ANSWER", '{"rateLimits": {"limitId": "codex", "primary": null}}')
    with pytest.raises(AppServerUnavailable, match="without any limit") as caught:
        server(peer, "ok", tmp_path).read()
    assert caught.value.reason == "empty"
    missing = CodexAppServer(str(tmp_path / "nowhere" / "codex"), lock_dir=tmp_path)
    with pytest.raises(AppServerUnavailable, match="not found") as caught:
        missing.read()
    assert caught.value.reason == "unavailable"


def test_no_process_survives_a_stubborn_peer_and_its_escaped_child(
    peer: Path, tmp_path: Path
) -> None:
    """The peer ignores SIGTERM and never answers; its child left the process group (setsid)
    and ignores SIGTERM too. After the timeout both are gone."""
    with pytest.raises(AppServerUnavailable, match="no answer"):
        server(peer, "spawn", tmp_path, timeout=1.0).read()
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert len(pids) == 2
    wait_for(lambda: all(gone(pid) for pid in pids), timeout=10,
             message=f"peer and escaped child {pids} ended")


def test_one_read_at_a_time_across_processes(peer: Path, tmp_path: Path) -> None:
    lock_dir = tmp_path / "locks"
    lock_dir.mkdir(mode=0o700)
    fd = os.open(lock_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another process's read in progress
        with pytest.raises(AppServerUnavailable) as caught:
            server(peer, "ok", tmp_path, timeout=0.3).read()
        assert caught.value.reason == "busy"
    finally:
        os.close(fd)
    assert server(peer, "ok", tmp_path).read().usage.limits


def test_cancel_ends_a_read_in_progress_with_its_process(peer: Path, tmp_path: Path) -> None:
    reader = server(peer, "spawn", tmp_path, timeout=60.0)
    failures: list[AppServerUnavailable] = []

    def run() -> None:
        try:
            reader.read()
        except AppServerUnavailable as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    pids_file = tmp_path / "pids"
    wait_for(lambda: pids_file.exists() and len(pids_file.read_text().split()) == 2,
             message="peer started")
    reader.cancel()
    thread.join(30)
    assert not thread.is_alive()
    assert [f.reason for f in failures] == ["exited"]
    pids = [int(p) for p in pids_file.read_text().split()]
    wait_for(lambda: all(gone(pid) for pid in pids), timeout=10, message="peer tree ended")
    with pytest.raises(AppServerUnavailable, match="cancelled"):
        reader.read()


def test_probe_cli_reads_the_appserver_and_falls_back_to_the_pane(
    peer: Path, tmp_path: Path
) -> None:
    env = dict(os.environ, PANEBUS_CODEX_BIN=str(peer))
    argv = [sys.executable, "-m", "panebus", "probe", "codex", "-L", f"none-{os.getpid()}",
            "--no-publish"]
    ok = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("codex app-server (") and "5h 40% used" in ok.stdout
    env["PEER_MODE"] = "exit"
    down = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "exited with code 3: error: not logged in" in down.stderr
    assert "reading the pane instead" in down.stderr
    assert down.returncode == 3, down.stderr  # the pane probe: no tmux server, nothing typed


def test_up_every_publishes_the_appserver_figures_and_stop_cancels(
    peer: Path, tmp_path: Path, endpoints: t.Any, broker: t.Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.scraper.conftest import Collector

    monkeypatch.setenv("PANEBUS_CODEX_BIN", str(peer))
    collector = Collector(endpoints, ["parsed."])
    config = dataclasses.replace(
        ScraperConfig(), servers=(ServerSpec(socket_name=f"none-{os.getpid()}"),)
    )
    schedule = _ProbeSchedule(config, endpoints, minutes=0.2 / 60)
    schedule.start()
    try:
        frames = wait_for(lambda: collector.bodies("parsed"), timeout=20,
                          message="an app-server frame from the schedule")
    finally:
        schedule.stop()
        collector.close()
    assert frames[0]["screen"] == "codex.app-server"
    assert frames[0]["source"] == {"kind": "api", "confidence": "official"}
    assert not schedule._thread.is_alive()
