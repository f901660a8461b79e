"""Stand-in agents in panes of a private tmux server (libtmux's ``server`` fixture).

Every pane runs the real stand-in program (``python -m panebus.demo.agents``), 120x40 like
the fixture renders, with spontaneous working phases off unless a test asks for them.
"""

from __future__ import annotations

import typing as t

import pytest

from panebus.standins import agent_command
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    import libtmux

WIDTH, HEIGHT = 120, 40
READY_MARKERS = {
    "codex": "› Ask Codex to do anything",
    "claude": "? for shortcuts",
    "monitor": "CLAUDE CODE USAGE MONITOR",
}


def screen(pane: libtmux.Pane, *, escapes: bool = False) -> str:
    """The visible screen, joined lines, trailing blanks removed (like the scraper)."""
    lines = pane.capture_pane(join_wrapped=True, escape_sequences=escapes) or []
    return "\n".join(line.rstrip() for line in lines).rstrip("\n")


def pane_format(pane: libtmux.Pane, fmt: str) -> str:
    """One tmux format of the pane (read now, not from libtmux's cached attributes)."""
    out = pane.cmd("display-message", "-p", "-t", pane.pane_id, fmt).stdout
    return out[0] if out else ""


class StartAgent(t.Protocol):
    def __call__(
        self, agent: str, *extra: str, seed: int = 7, width: int = WIDTH, height: int = HEIGHT
    ) -> libtmux.Pane: ...


@pytest.fixture
def start_agent(server: libtmux.Server) -> StartAgent:
    """Start one stand-in in its own session and wait until it drew its first screen."""
    count = 0

    def start(
        agent: str, *extra: str, seed: int = 7, width: int = WIDTH, height: int = HEIGHT
    ) -> libtmux.Pane:
        nonlocal count
        count += 1
        args = ("--busy", "0", *extra)
        session = server.new_session(
            f"{agent}{count}",
            window_command=agent_command(agent, seed=seed, extra=args),
            x=width,
            y=height,
        )
        pane = session.active_window.active_pane
        assert pane is not None
        wait_for(lambda: READY_MARKERS[agent] in screen(pane), message=f"{agent} screen")
        return pane

    return start


def screen_with(pane: libtmux.Pane, marker: str) -> str:
    """The screen when it shows ``marker``, else "" (for ``wait_for``)."""
    text = screen(pane)
    return text if marker in text else ""
