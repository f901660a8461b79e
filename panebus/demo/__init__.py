"""The embedded demo: stand-in agent programs that draw real-looking screens, and the demo run.

The stand-ins (:mod:`panebus.demo.agents`) exist so that a new user, and every test, can see the
whole pipeline work on a machine where neither Codex nor Claude Code is installed. They draw
the screens of Codex CLI 0.169, Claude Code 2.1 and claude-monitor 4.0 with the real programs'
wording and glyphs (see ``../shared/fixtures/screens``), so the real parsers read them.

What production code needs from here lives outside the demo and the demo imports it: the
command that starts a stand-in (:mod:`panebus.standins`), the tracker layout
(:mod:`panebus.layout`) and the one-shot publisher (:mod:`panebus.oneshot`).
"""

from __future__ import annotations

import logging

__all__ = ["PROCESS_NAMES"]

logging.getLogger(__name__).addHandler(logging.NullHandler())

PROCESS_NAMES = {"codex": "codex", "claude": "claude", "monitor": "claude-monitor"}
