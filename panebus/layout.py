"""The tracker layout, built with libtmux: agents side by side, the monitor, panebus itself.

tmux window ``agents``: Codex | Claude Code. tmux window ``usage``: claude-monitor on top,
``panebus up`` and ``panebus top`` below. The same layout exists as
``tmux/tracker.tmuxp.yaml`` (tmuxp) and ``tmux/tracker.sh`` (plain tmux); this module is what
``panebus layout`` and ``panebus demo`` use, so neither needs tmuxp. Real agents are used
when their commands are on PATH (unless ``demo``), the stand-ins of :mod:`panebus.demo.agents`
otherwise (started by the command of :mod:`panebus.standins`; nothing of the demo is imported).
"""

from __future__ import annotations

import dataclasses
import logging
import shlex
import shutil
import sys
import typing as t

from libtmux.constants import PaneDirection

from panebus.standins import agent_command

if t.TYPE_CHECKING:
    from pathlib import Path

    from libtmux import Pane, Server, Session

logger = logging.getLogger(__name__)

LAYOUTS = ("tracker",)
REAL_COMMANDS = {
    "codex": "codex",
    "claude": "claude",
    "monitor": "claude-monitor --plan max5 --view realtime",
}


def panebus_command(*args: str) -> str:
    """``panebus ARGS`` through this interpreter (works without the console script on PATH)."""
    return "exec " + shlex.join([sys.executable, "-m", "panebus", *args])


@dataclasses.dataclass(frozen=True)
class TrackerCommands:
    """The command each pane of the tracker layout runs."""

    codex: str
    claude: str
    monitor: str
    up: str | None
    top: str | None

    @classmethod
    def choose(
        cls,
        *,
        demo: bool,
        server_args: t.Sequence[str] = (),
        seed: int = 0,
        fast: bool = False,
        stack: bool = True,
        codex_rollout_dir: Path | None = None,
    ) -> TrackerCommands:
        """Real agents when installed (and not ``demo``), stand-ins otherwise; the stand-in
        Codex writes its session log under ``codex_rollout_dir`` when one is given."""

        def pick(agent: str) -> str:
            program = REAL_COMMANDS[agent].split()[0]
            if not demo and shutil.which(program):
                return REAL_COMMANDS[agent]
            extra: tuple[str, ...] = ()
            if agent == "codex" and codex_rollout_dir is not None:
                # a turn long enough to be seen working on a busy machine, then its log line
                extra = ("--rollout-dir", str(codex_rollout_dir), "--work-seconds", "5")
            return agent_command(agent, seed=seed, fast=fast, extra=extra)

        return cls(
            codex=pick("codex"),
            claude=pick("claude"),
            monitor=pick("monitor"),
            up=panebus_command("up", *server_args) if stack else None,
            top=panebus_command("top") if stack else None,
        )


@dataclasses.dataclass(frozen=True)
class TrackerPanes:
    """The panes of a started tracker layout."""

    session: Session
    codex: Pane
    claude: Pane
    monitor: Pane
    up: Pane | None
    top: Pane | None


def build_tracker(
    server: Server,
    commands: TrackerCommands,
    *,
    session_name: str = "tracker",
    environment: dict[str, str] | None = None,
    width: int = 241,
    height: int = 50,
) -> TrackerPanes:
    """Start the tracker layout as a new session of ``server``.

    Raises ``ValueError`` when the session exists already: a layout never takes over panes a
    person is using.
    """
    if server.has_session(session_name):
        msg = f"tmux session {session_name!r} exists already (tmux attach -t {session_name})"
        raise ValueError(msg)
    env = dict(environment or {})
    session = server.new_session(
        session_name,
        window_name="agents",
        window_command=commands.codex,
        x=width,
        y=height,
        environment=env or None,
    )
    agents = session.active_window
    codex = agents.active_pane
    assert codex is not None  # a new session always has its first pane
    claude = codex.split(direction=PaneDirection.Right, shell=commands.claude, environment=env)
    usage = session.new_window("usage", window_shell=commands.monitor, environment=env or None)
    usage.set_option("remain-on-exit", "on")
    monitor = usage.active_pane
    assert monitor is not None
    up = top = None
    if commands.up is not None:
        up = monitor.split(direction=PaneDirection.Below, shell=commands.up, environment=env)
    if commands.top is not None and up is not None:
        top = up.split(direction=PaneDirection.Right, shell=commands.top, environment=env)
    agents.select()
    logger.info("tracker layout started", extra={"session": session_name})
    return TrackerPanes(session, codex, claude, monitor, up, top)
