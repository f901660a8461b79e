"""The live-agents harness (``../shared/live-agents/live-agents.sh``) as the tests drive it:
start, set-limits, turn and stop, and reading or typing into its tmux panes like a person."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import REPO
from tests.waiting import WaitTimeout, wait_for

#: The harness: ``PANEBUS_LIVE_AGENTS`` if set, else ``../shared/live-agents`` beside the clone
#: (the user's current copy), else the copy kept in the repo (``tests/live/agents``, unchanged
#: from it), so a clone alone runs the live suite too.
SHARED_HARNESS_DIR = REPO.parent / "shared" / "live-agents"
HARNESS_DIR = Path(
    os.environ.get("PANEBUS_LIVE_AGENTS")
    or (SHARED_HARNESS_DIR if (SHARED_HARNESS_DIR / "live-agents.sh").is_file()
        else Path(__file__).resolve().parent / "agents")
)
HARNESS = HARNESS_DIR / "live-agents.sh"
MISSING = (
    f"live-agents harness not found at {HARNESS} (PANEBUS_LIVE_AGENTS names a missing copy)"
    if not HARNESS.is_file()
    else "node and npm are needed to install the real agents (apt-get install nodejs npm)"
    if shutil.which("node") is None or shutil.which("npm") is None
    else None
)
#: A cold start installs ~1.3 GB from npm; warm it takes seconds.
START_TIMEOUT = 900.0
PANE_SIZE = "120x40"
WINDOWS = ("codex", "claude", "monitor")
IDLE = {"codex": "› Ask Codex to do anything", "claude": "for shortcuts"}


@dataclasses.dataclass
class Harness:
    """One running live-agents harness: its name, state and the KEY=VALUE block of ``start``."""

    name: str
    live_state: Path
    run_env: dict[str, str]
    info: dict[str, str] = dataclasses.field(default_factory=dict)

    def run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """``live-agents.sh ARGS…`` (not checked: callers say what a failure means)."""
        return subprocess.run(
            ["bash", str(HARNESS), *args], env=self.run_env, capture_output=True, text=True,
            timeout=timeout, check=False, stdin=subprocess.DEVNULL,
        )

    def checked(self, *args: str, timeout: float = 120.0) -> str:
        result = self.run(*args, timeout=timeout)
        assert result.returncode == 0, (
            f"live-agents {' '.join(args)} failed (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
        return result.stdout

    def start(self) -> None:
        result = self.run("start", self.name, timeout=START_TIMEOUT)
        if result.returncode != 0:
            pytest.fail(
                f"live-agents start {self.name} failed (exit {result.returncode}):\n"
                f"{result.stderr}{result.stdout}",
                pytrace=False,
            )
        self.info = dict(re.findall(r"^([A-Z_]+)=(.*)$", result.stdout, re.M))

    def stop(self) -> subprocess.CompletedProcess[str]:
        return self.run("stop", self.name, timeout=120.0)

    @property
    def state_dir(self) -> Path:
        return Path(self.info["LIVE_STATE_DIR"])

    @property
    def codex_home(self) -> Path:
        return Path(self.info["CODEX_HOME"])

    @property
    def claude_config_dir(self) -> Path:
        return Path(self.info["CLAUDE_CONFIG_DIR"])

    def standin_log(self, agent: str) -> str:
        path = self.state_dir / "logs" / f"{agent}-standin.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def set_limits(self, agent: str, *figures: str) -> str:
        """``set-limits NAME AGENT k=v…``; returns what the screens should then show."""
        return self.checked("set-limits", self.name, agent, *figures)

    def turn(self, agent: str, text: str, *, wait: bool = True) -> str:
        """A real turn; with ``wait`` it returns once the agent is idle again."""
        args = ["turn", self.name, agent, text] + ([] if wait else ["--no-wait"])
        return self.checked(*args, timeout=150.0)

    # -- tmux on the harness's socket

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.name, *args], capture_output=True, text=True, timeout=10,
            check=False,
        )
        assert result.returncode == 0, f"tmux {' '.join(args)}: {result.stderr}"
        return result.stdout

    def screen(self, tmux_window: str) -> str:
        """The visible screen of ``agents:WINDOW``, wrapped lines joined."""
        return self.tmux("capture-pane", "-p", "-J", "-t", f"agents:{tmux_window}")

    def pane_sizes(self) -> dict[str, str]:
        out = self.tmux("list-panes", "-a", "-F", "#{window_name} #{pane_width}x#{pane_height}")
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def control_clients(self) -> list[str]:
        """Control-mode clients attached to the harness's server (panebus's scraper is one)."""
        out = self.tmux("list-clients", "-F", "#{client_pid} #{client_flags}")
        return [line for line in out.splitlines() if "control-mode" in line]

    def type_line(self, tmux_window: str, text: str) -> None:
        """Type ``text`` as a person would and press Enter once the agent shows it (a slash
        command also in its popup: Enter before the popup filters picks the wrong command)."""
        before = self.screen(tmux_window).count(text)
        shown = before + (2 if text.startswith("/") else 1)
        self.tmux("send-keys", "-t", f"agents:{tmux_window}", "-l", text)
        wait_for(lambda: self.screen(tmux_window).count(text) >= shown, timeout=10,
                 message=f"{text!r} typed into {tmux_window}")
        self.tmux("send-keys", "-t", f"agents:{tmux_window}", "Enter")

    def wait_idle(self, agent: str, timeout: float = 30.0) -> str:
        """The screen once the agent is at its prompt and not working."""

        def idle() -> str:
            text = self.screen(agent)
            working = "esc to interrupt" in text.lower()
            return text if IDLE[agent] in text and not working else ""

        return wait_for(idle, timeout=timeout, message=f"{agent} idle at its prompt")

    def clear(self, agent: str) -> None:
        """``/clear``: nothing of an earlier test (a card, a banner, a reply) left on screen.
        A draft an earlier test left in the composer goes first (Ctrl-U), as a person would
        empty it: ``/clear`` typed behind a draft is no command."""
        self.wait_idle(agent)
        self.tmux("send-keys", "-t", f"agents:{agent}", "C-u")
        try:
            self.type_line(agent, "/clear")
        except WaitTimeout:  # a dialog kept the keys: close it (the agent is idle) and retry
            self.tmux("send-keys", "-t", f"agents:{agent}", "Escape")
            self.wait_idle(agent)
            self.tmux("send-keys", "-t", f"agents:{agent}", "C-u")
            self.type_line(agent, "/clear")

        def cleared() -> bool:
            text = self.screen(agent)
            if agent == "codex":  # the whole history goes; the composer empties
                return "/clear" not in text and IDLE[agent] in text
            above = text.split("❯ /clear")[0]  # Claude echoes the command under its header
            return "❯ /clear" in text and not any(m in above for m in ("●", "⎿", "❯ "))

        wait_for(cleared, timeout=20, message=f"{agent} cleared by /clear")
        self.wait_idle(agent)


def run_env(live_state: Path) -> dict[str, str]:
    """The harness's environment, fixed at session start: tests later point HOME and XDG at
    temp dirs, and the install cache must stay the warm one."""
    env = dict(os.environ)
    env["LIVE_STATE"] = str(live_state)
    env.setdefault("LIVE_CACHE", str(Path.home() / ".cache" / "live-agents"))
    return env
