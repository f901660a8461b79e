"""Fixtures shared by every test: a private PANEBUS_HOME, endpoints and a running broker.

Nothing here touches the user's real dirs or tmux server: HOME, XDG_*, CODEX_HOME and
CLAUDE_CONFIG_DIR all point into the test's temp dir, and tmux runs on private sockets
(libtmux's pytest plugin provides ``server`` and ``session``).
"""

from __future__ import annotations

import os
import typing as t

import pytest

from tests import USER_SETTING_PREFIXES

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.broker import Broker
    from bus.endpoints import Endpoints


@pytest.fixture
def panebus_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private PANEBUS_HOME; the user's HOME and XDG dirs are hidden from the test."""
    home = tmp_path / "pbhome"
    user_home = tmp_path / "home"
    runtime = tmp_path / "xdg-run"
    for directory in (home, user_home, runtime):
        directory.mkdir(mode=0o700)
    monkeypatch.setenv("PANEBUS_HOME", str(home))
    monkeypatch.setenv("HOME", str(user_home))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user_home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_home / ".cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(user_home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(user_home / ".local" / "state"))
    monkeypatch.setenv("CODEX_HOME", str(user_home / ".codex"))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(user_home / ".claude"))
    monkeypatch.setenv("SHELL", "/bin/sh")
    for name in [n for n in os.environ if n.startswith(USER_SETTING_PREFIXES)]:
        monkeypatch.delenv(name)
    return home


@pytest.fixture
def endpoints(panebus_home: Path) -> Endpoints:
    """Default ipc endpoints inside the test's PANEBUS_HOME."""
    from bus.endpoints import Endpoints

    return Endpoints.default()


@pytest.fixture
def broker(endpoints: Endpoints) -> t.Iterator[Broker]:
    """A broker running in a background thread for the duration of the test."""
    from bus.broker import Broker

    running = Broker(endpoints)
    running.start()
    try:
        yield running
    finally:
        running.stop(timeout=5.0)
