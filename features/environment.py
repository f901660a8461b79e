"""Behave fixtures: every scenario gets a private PANEBUS_HOME, HOME and tmux socket name.

Nothing a scenario does reaches the user's real dirs or default tmux server; whatever a
scenario starts is stopped in ``after_scenario``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import typing as t
import uuid
from pathlib import Path

if t.TYPE_CHECKING:
    from behave.model import Scenario
    from behave.runner import Context

# The steps share the test suite's helpers (tests.waiting, tests.FIXTURES): one of each.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import FIXTURES, USER_SETTING_PREFIXES


def before_scenario(context: Context, scenario: Scenario) -> None:
    root = Path(tempfile.mkdtemp(prefix="panebus-behave-"))
    home = root / "home"
    home.mkdir()
    runtime = root / "run"
    runtime.mkdir(mode=0o700)
    bin_dir = Path(sys.executable).parent
    context.root = root
    context.fixtures = FIXTURES
    context.tmux_socket = f"panebus-behave-{uuid.uuid4().hex[:8]}"
    context.processes: list[subprocess.Popen[str]] = []
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith((*USER_SETTING_PREFIXES, "TMUX"))
    }
    context.env = {
        **inherited,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PANEBUS_HOME": str(root / "pbhome"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "CODEX_HOME": str(home / ".codex"),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "SHELL": "/bin/sh",
    }


def after_scenario(context: Context, scenario: Scenario) -> None:
    if not hasattr(context, "root"):
        return  # skipped before it started anything
    for process in getattr(context, "processes", []):
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
    subprocess.run(
        ["tmux", "-L", context.tmux_socket, "kill-server"],
        capture_output=True,
        check=False,
        timeout=10,
    )
    # kill-server leaves the socket file behind; remove it so no trace of the scenario stays.
    socket_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
    (socket_dir / context.tmux_socket).unlink(missing_ok=True)
    shutil.rmtree(context.root, ignore_errors=True)
