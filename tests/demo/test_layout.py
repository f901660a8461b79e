"""The tracker layout: the plain tmux script and the libtmux builder start every pane."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import libtmux
import pytest

from panebus.layout import TrackerCommands, build_tracker
from scraper import discovery
from scraper.classify import ProcReader, classify
from tests import REPO
from tests.waiting import wait_for

SCRIPT = REPO / "tmux" / "tracker.sh"


def providers_of(server: libtmux.Server) -> dict[str, str | None]:
    """pane id → provider, as discovery classifies the server's panes."""
    panes = discovery.sweep(lambda args: server.cmd(*args).stdout, "test").panes
    proc = ProcReader()
    return {pane.pane_id: classify(pane, (), proc).provider for pane in panes}


def agents(server: libtmux.Server) -> list[str]:
    return sorted(p for p in providers_of(server).values() if p is not None)


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    """``sh tmux/tracker.sh ARGS`` with this interpreter as the stand-ins' Python."""
    return subprocess.run(
        ["sh", str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=20,
        env={**os.environ, "PANEBUS_PYTHON": sys.executable},
        check=False,
    )


def test_tracker_script_starts_every_pane(panebus_home: Path) -> None:
    socket = f"pbtest-layout-{uuid.uuid4().hex[:8]}"
    server = libtmux.Server(socket_name=socket)
    try:
        done = run_script("-L", socket, "--demo")
        assert done.returncode == 0, done.stderr
        assert f"tmux -L {socket} attach -t tracker" in done.stdout
        wait_for(
            lambda: agents(server) == ["claude", "claude-monitor", "codex"],
            message="three stand-in agents classified",
        )
        windows = {w.window_name: len(w.panes) for w in server.sessions[0].windows}
        assert windows == {"agents": 2, "usage": 3}
        starts = server.cmd("list-panes", "-a", "-F", "#{pane_start_command}").stdout
        assert any("panebus up -L " + socket in line for line in starts)
        assert any("panebus top" in line for line in starts)
        again = run_script("-L", socket, "--demo")
        assert again.returncode == 1
        assert "exists already" in again.stderr
    finally:
        socket_path = server.cmd("display-message", "-p", "#{socket_path}").stdout
        if server.is_alive():
            server.kill()
        for path in socket_path:
            Path(path).unlink(missing_ok=True)


def test_libtmux_builder_starts_the_agents(server: libtmux.Server) -> None:
    commands = TrackerCommands.choose(demo=True, seed=5, stack=False)
    panes = build_tracker(server, commands, session_name="t", width=241, height=50)
    assert panes.up is None and panes.top is None
    wait_for(
        lambda: agents(server) == ["claude", "claude-monitor", "codex"],
        message="three stand-in agents classified",
    )
    assert int(panes.codex.pane_width or 0) >= 100
    with pytest.raises(ValueError, match="exists already"):
        build_tracker(server, commands, session_name="t")


def test_real_agents_win_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "codex"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    chosen = TrackerCommands.choose(demo=False)
    assert chosen.codex == "codex"
    assert "panebus.demo.agents claude" in chosen.claude or chosen.claude == "claude"
    assert "panebus.demo.agents codex" in TrackerCommands.choose(demo=True).codex
