"""Stand-in agent programs for scraper tests: real processes whose names tmux reports.

tmux's ``pane_current_command`` is the basename of ``argv[0]`` of the pane's foreground
process group leader. A symlink named ``codex`` to ``/bin/sh`` therefore shows as ``codex``
while running a tiny shell loop that prints a real fixture screen and redraws it on each line
of input: an empty line redraws the same screen (output without change), any other text adds
that line (a change).
"""

from __future__ import annotations

import dataclasses
import shlex
import typing as t

import pytest

from tests import FIXTURES

if t.TYPE_CHECKING:
    from pathlib import Path

    import libtmux

#: $1 = screen file. Clear, print the screen; per input line: redraw, then the line itself.
#: No tty echo, so a typed line shows up in one redraw, not as an echo first.
STANDIN = (
    'stty -echo 2>/dev/null; f="$1"; show() { printf "\\033[H\\033[2J"; cat "$f"; }; show; '
    'while IFS= read -r l; do show; [ -z "$l" ] || printf "%s\\n" "$l"; done'
)

CODEX_STATUS = FIXTURES / "screens/codex/codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn.txt"
CLAUDE_USAGE = FIXTURES / "screens/claude/claude-code-2.1.197-usage-tab-max-120x40.txt"
MONITOR = FIXTURES / "screens/claude/claude-monitor-4.0.0-realtime-max5-1.txt"


def need_fixtures() -> None:
    """The suite carries its fixtures: a missing one is a broken checkout, not a skip."""
    assert CODEX_STATUS.exists(), f"fixture missing: {CODEX_STATUS}"


@dataclasses.dataclass
class StandIns:
    """Symlinks named like the agents, and commands that run them in a pane."""

    bin: Path
    sleeps: Path

    def program(self, name: str) -> Path:
        """``name`` → /bin/sh (a stand-in that runs :data:`STANDIN`)."""
        link = self.bin / name
        if not link.exists():
            link.symlink_to("/bin/sh")
        return link

    def sleeper(self, name: str) -> Path:
        """``name`` → /bin/sleep (a process that only has a name)."""
        link = self.sleeps / name
        if not link.exists():
            link.symlink_to("/bin/sleep")
        return link

    def screen_command(self, name: str, screen: Path) -> str:
        """Shell command for a pane whose current command is ``name`` showing ``screen``."""
        program = self.program(name)
        return f"exec {program} -c {shlex.quote(STANDIN)} {name} {shlex.quote(str(screen))}"


@pytest.fixture(autouse=True)
def _private_home(panebus_home: Path) -> Path:
    """Every scraper test runs with a private HOME, SHELL=/bin/sh and PANEBUS_HOME, set up
    before the tmux server starts so the server inherits them too."""
    return panebus_home


@pytest.fixture
def standins(tmp_path: Path) -> StandIns:
    """A private bin dir of stand-ins."""
    bin_dir = tmp_path / "bin"
    sleeps = tmp_path / "sleeps"
    bin_dir.mkdir()
    sleeps.mkdir()
    return StandIns(bin=bin_dir, sleeps=sleeps)


def new_pane(session: libtmux.Session, command: str) -> str:
    """Open a tmux window running ``command``; return its pane id."""
    tmux_window = session.new_window(window_shell=command, attach=False)
    pane = tmux_window.active_pane
    assert pane is not None and pane.pane_id is not None
    return pane.pane_id


def wait_drawn(server: libtmux.Server, pane_id: str, text: str) -> None:
    """Wait until ``text`` is on the pane's screen."""
    from tests.waiting import wait_for

    wait_for(
        lambda: text in "\n".join(server.cmd("capture-pane", "-p", "-J", "-t", pane_id).stdout),
        message=f"{text!r} drawn in {pane_id}",
    )


def pane_sizes(server: libtmux.Server) -> dict[str, str]:
    """pane id → WxH, for checks that the scraper never resizes anything."""
    lines = server.cmd("list-panes", "-a", "-F", "#{pane_id} #{pane_width}x#{pane_height}").stdout
    return dict(line.split(" ", 1) for line in lines)


def control_clients(server: libtmux.Server) -> list[str]:
    """Control-mode clients attached to the server."""
    lines = server.cmd("list-clients", "-F", "#{client_pid} #{client_flags}").stdout
    return [line for line in lines if "control-mode" in line]


class Collector:
    """Every frame a real Subscriber receives, gathered on a thread (the socket's own)."""

    def __init__(self, endpoints: t.Any, prefixes: list[str]) -> None:
        import threading

        from bus.subscribers import Subscriber

        self.frames: list[tuple[str, dict[str, t.Any]]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()

        def run() -> None:
            with Subscriber(endpoints, prefixes=prefixes, name="test") as sub:
                self._ready.set()
                for topic, body in sub.iter(timeout=0.1, stop=self._stop):
                    with self._lock:
                        self.frames.append((topic, body))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert self._ready.wait(5)

    def bodies(self, kind: str | None = None, pane_id: str | None = None) -> list[dict[str, t.Any]]:
        with self._lock:
            frames = list(self.frames)
        return [
            body
            for _, body in frames
            if (kind is None or body["kind"] == kind)
            and (pane_id is None or body.get("pane", {}).get("pane_id") == pane_id)
        ]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def collector(broker: t.Any, endpoints: t.Any) -> t.Iterator[Collector]:
    """Frames of kinds raw, parsed and state, from a real subscriber on the test's broker."""
    from bus.publisher import Publisher

    collected = Collector(endpoints, ["raw.", "parsed.", "state."])
    # Make sure the subscription is live before the test publishes: a probe frame comes back.
    with Publisher(endpoints, name="probe") as probe:
        assert probe.wait_ready(timeout=5)
        from bus.frames import draft, source

        def seen() -> bool:
            probe.send(draft("state", "unknown", source("manual", "parsed"),
                             pane={"pane_id": "%probe"}, state="unknown", reason="probe"))
            return bool(collected.bodies("state", "%probe"))

        from tests.waiting import wait_for

        wait_for(seen, interval=0.1, message="subscriber live")
    try:
        yield collected
    finally:
        collected.close()
