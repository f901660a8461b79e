"""The README's main job: ``panebus demo`` runs to the end by itself and cleans up after itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.waiting import wait_for


@pytest.mark.slow
def test_demo_prints_alias_figures_and_leaves_nothing_behind(panebus_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "panebus", "demo", "--seconds", "3"],
        capture_output=True, text=True, timeout=240, check=False, stdin=subprocess.DEVNULL,
    )
    out = result.stdout
    assert result.returncode == 0, (out, result.stderr)
    assert re.search(r"^\s*occ\s+codex 5h \d+% .*weekly \d+%", out, re.M), out
    assert re.search(r"^\s*acm\s+claude session \d+%", out, re.M), out
    assert re.search(r"^\s*os\s+codex 5h \d+%", out, re.M), out
    assert re.search(r"== archive files \([1-9]", out), out
    assert re.search(r"== window log \([1-9]", out), out
    assert "refused" in out  # the demo shows a probe refusing to type over a draft
    assert re.search(r"^\s*occ\s+codex 5h \d+% \(resets [^,()]+, runs out ~", out, re.M), out
    assert re.search(r"== forecasts \([1-9].*\n\s+codex 5h \d+% · [\d.]+%/h · runs out ~", out), out
    assert re.search(r"== notifications \([1-9].*\n\s+⚑ codex finished its turn", out), out
    socket = re.search(r"tmux server -L (\S+):", out)
    assert socket is not None, out
    alive = subprocess.run(["tmux", "-L", socket.group(1), "has-session"],
                           capture_output=True, check=False, timeout=10)
    assert alive.returncode != 0, "the demo's tmux server is still running"
    socket_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
    assert not (socket_dir / socket.group(1)).exists()

    def no_stand_in_left() -> bool:
        # Stand-ins rename themselves (`codex`, …), so find them by what they inherit: this
        # demo's PANEBUS_HOME. No process of this run (server, stand-in, stack) may carry it.
        return not processes_with(f"PANEBUS_HOME={panebus_home}".encode())

    # Stand-ins get SIGHUP from the killed server; give them time to exit before calling one
    # a leftover.
    wait_for(no_stand_in_left, timeout=15, message="no stand-in agent process left")


def processes_with(entry: bytes) -> list[str]:
    """Other processes whose environment holds ``entry`` (``NAME=value``)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        if environ.parent.name == str(os.getpid()):
            continue
        try:
            entries = environ.read_bytes().split(b"\0")
        except OSError:
            continue  # exited, or not ours to read
        if entry in entries:
            found.append(environ.parent.name)
    return found
