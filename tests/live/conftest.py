"""The live suite: panebus against the REAL Codex CLI, Claude Code and claude-monitor.

The agents run under ``../shared/live-agents/live-agents.sh`` (``PANEBUS_LIVE_AGENTS`` names
another copy): a private tmux server, offline, each agent talking to a loopback stand-in of its
backend that serves the usage figures a test sets (``set-limits``). One harness runs per test
session (start takes ~6 s warm, ~35 s cold); every test starts its own ``panebus up`` with a
fresh ``PANEBUS_HOME`` on the harness's tmux socket, so no test sees another's cache.

The harness is ``../shared/live-agents`` when it is beside the clone, else the copy in
``tests/live/agents`` (a clone alone runs the live suite; a cold start installs the agents from
npm). Only without node and npm is the suite one skip with one reason; a harness that cannot
start is a failure that shows the harness's own message, so a skip never hides a broken run.

The harness is driven by :mod:`tests.live.harness`, panebus under test by :mod:`tests.live.stack`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import typing as t
from pathlib import Path

import pytest

from tests.demo.test_demo_run import processes_with
from tests.live.harness import MISSING, PANE_SIZE, WINDOWS, Harness, run_env
from tests.live.stack import QUIET_CONFIG, Panebus, panebus_env
from tests.waiting import wait_for

__all__ = ["MISSING", "PANE_SIZE", "WINDOWS", "Harness", "Panebus", "StartPanebus"]

LIVE_DIR = Path(__file__).resolve().parent
#: Without the harness only ``test_harness.py`` is collected, and it skips with the reason:
#: the whole suite is one skip, one line, instead of one per test.
collect_ignore = [
    "agents",  # the harness's own scripts (a copy of ../shared/live-agents), not tests
    *(
        [path.name for path in LIVE_DIR.glob("test_*.py") if path.name != "test_harness.py"]
        if MISSING
        else []
    ),
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here ``live`` (``-m "not live"`` leaves the suite out)."""
    for item in items:
        if LIVE_DIR in item.path.parents:
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def harness() -> t.Iterator[Harness]:
    """One harness per session; always stopped, and nothing it started may be left."""
    live_state = Path(tempfile.mkdtemp(prefix="panebus-live-"))
    running = Harness(f"pbl{os.getpid()}{secrets.token_hex(2)}", live_state, run_env(live_state))
    problems: list[str] = []
    try:
        running.start()
        sizes = running.pane_sizes()
        assert sizes == dict.fromkeys(WINDOWS, PANE_SIZE), f"harness panes at start: {sizes}"
        yield running
        after = running.pane_sizes()
        if after != sizes:
            problems.append(f"pane sizes changed during the session: {sizes} -> {after}")
    finally:
        stopped = running.stop()
        if stopped.returncode != 0 or "no recorded process alive" not in stopped.stderr:
            problems.append(
                f"live-agents stop {running.name} (exit {stopped.returncode}) left something:\n"
                f"{stopped.stdout}{stopped.stderr}"
            )
        if not problems and not os.environ.get("PANEBUS_LIVE_KEEP"):
            shutil.rmtree(live_state, ignore_errors=True)  # ~410 MB per state dir
    assert not problems, "\n".join(problems)


class StartPanebus(t.Protocol):
    def __call__(self, *, codex_home: Path | None = None) -> Panebus: ...


@pytest.fixture
def start_panebus(harness: Harness, tmp_path: Path) -> t.Iterator[StartPanebus]:
    """Start ``panebus up`` on the harness (once per test). On the way out it must stop
    cleanly and leave the agents as it found them: panes 120x40, no control client, no process
    of its own (e.g. a ``codex app-server``) still running."""
    started: list[Panebus] = []

    def start(*, codex_home: Path | None = None) -> Panebus:
        home = tmp_path / f"pbhome{len(started)}"
        (home / "config").mkdir(parents=True, mode=0o700)
        (home / "config" / "config.toml").write_text(QUIET_CONFIG)
        running = Panebus(harness, home, panebus_env(home, harness, codex_home))
        started.append(running)
        running.start()
        return running

    yield start
    for running in started:
        running.stop()
    for running in started:
        entry = f"PANEBUS_HOME={running.home}".encode()
        wait_for(lambda entry=entry: not processes_with(entry), timeout=15,
                 message=f"no process of panebus ({entry.decode()}) left")
    wait_for(lambda: not harness.control_clients(), timeout=10,
             message="no control client left on the harness's tmux server")
    assert harness.pane_sizes() == dict.fromkeys(WINDOWS, PANE_SIZE)


@pytest.fixture
def panebus(start_panebus: StartPanebus) -> Panebus:
    """``panebus up`` on the harness with the harness's CODEX_HOME."""
    return start_panebus()
