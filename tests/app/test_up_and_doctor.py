"""``panebus up`` as a user runs it (one line per component, clean Ctrl-C) and ``doctor``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import typing as t

from panebus.standins import agent_command
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    import libtmux

    from bus.broker import Broker

COMPONENTS = ("bus ", "sink     archive", "sink     alias", "sink     windows",
              "sink     featurelog", "rollout ", "scraper ")


def control_clients(server: libtmux.Server) -> list[str]:
    out = server.cmd("list-clients", "-F", "#{client_control_mode}").stdout
    return [line for line in out if line.strip() == "1"]


def test_up_reports_each_component_and_stops_cleanly_on_ctrl_c(
    panebus_home: Path, server: libtmux.Server
) -> None:
    server.new_session("agents", window_command=agent_command("codex"), x=120, y=40)
    log = panebus_home / "up.log"
    with log.open("w") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "panebus", "up", "-L", str(server.socket_name)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        )
    try:
        wait_for(lambda: "running" in log.read_text(), timeout=30, message="panebus up running")
        wait_for(lambda: control_clients(server), timeout=15, message="the control client")
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=30) == 0
    finally:
        if up.poll() is None:
            up.kill()
    text = log.read_text()
    for component in COMPONENTS:
        assert component in text, text
    assert "Traceback" not in text, text
    wait_for(lambda: not control_clients(server), timeout=10, message="no control client left")


def test_doctor_says_what_to_fix_and_fails_without_a_bus(
    panebus_home: Path, server: libtmux.Server
) -> None:
    server.new_session("agents", window_command=agent_command("codex"), x=120, y=40)
    wait_for(lambda: server.panes and server.panes[0].pane_current_command == "codex",
             timeout=15, message="the codex stand-in")
    result = subprocess.run(
        [sys.executable, "-m", "panebus", "doctor", "--json", "-L", str(server.socket_name)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    checks = {row["name"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert result.returncode == 1, result.stdout
    assert checks["bus"]["status"] == "fail" and "panebus up" in checks["bus"]["fix"]
    assert checks["tmux"]["status"] == "ok"
    assert checks["dirs"]["status"] == "ok"
    assert checks["panes"]["status"] == "ok" and "codex" in checks["panes"]["detail"]
    hook = checks["claude hook"]
    assert hook["status"] == "warn" and "statusLine" in hook["fix"]


def test_doctor_passes_with_a_bus_and_the_claude_hook_configured(
    panebus_home: Path, broker: Broker, server: libtmux.Server, tmp_path: Path
) -> None:
    settings = tmp_path / "home" / ".claude" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps(
        {"statusLine": {"type": "command", "command": "panebus hook claude-statusline"}}
    ))
    server.new_session("shell", x=80, y=24)
    result = subprocess.run(
        [sys.executable, "-m", "panebus", "doctor", "--json", "-L", str(server.socket_name)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    checks = {row["name"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert result.returncode == 0, result.stdout
    assert checks["bus"]["status"] == "ok"
    assert checks["claude hook"]["status"] == "ok"
    assert checks["panes"]["status"] == "warn"  # a plain shell is not an agent pane
