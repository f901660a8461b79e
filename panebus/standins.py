"""How a tmux pane starts a stand-in agent (``python -m panebus.demo.agents NAME``).

The stand-ins themselves are the demo's (:mod:`panebus.demo.agents`); starting one is also what
``panebus layout --demo`` (and the layout wherever an agent is not installed) does, so the
command lives here, outside the demo, and the demo imports it from here.
"""

from __future__ import annotations

import shlex
import sys

AGENTS = ("codex", "claude", "monitor")


def agent_command(
    agent: str, *, seed: int = 0, fast: bool = False, extra: tuple[str, ...] = ()
) -> str:
    """The shell command a tmux pane runs to start one stand-in agent.

    ``exec`` matters: tmux names a pane after the foreground process, so the stand-in must
    replace the pane's shell instead of running as its child.
    """
    if agent not in AGENTS:
        msg = f"unknown stand-in agent {agent!r} (one of {', '.join(AGENTS)})"
        raise ValueError(msg)
    words = [sys.executable, "-m", "panebus.demo.agents", agent, "--seed", str(seed)]
    if fast:
        words.append("--fast")
    words.extend(extra)
    return "exec " + shlex.join(words)
