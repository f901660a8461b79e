"""The embedded demo: stand-in agent programs that draw real-looking screens, and the demo run.

The stand-ins (:mod:`panebus.demo.agents`) exist so that a new user, and every test, can see the
whole pipeline work on a machine where neither Codex nor Claude Code is installed. They draw
the screens of Codex CLI 0.169, Claude Code 2.1 and claude-monitor 4.0 with the real programs'
wording and glyphs (see ``../shared/fixtures/screens``), so the real parsers read them.
"""

from __future__ import annotations

import logging
import shlex
import sys

logging.getLogger(__name__).addHandler(logging.NullHandler())

AGENTS = ("codex", "claude", "monitor")
PROCESS_NAMES = {"codex": "codex", "claude": "claude", "monitor": "claude-monitor"}


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
