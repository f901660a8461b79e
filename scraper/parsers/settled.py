"""Whether the card a probe opened has finished drawing: ``card_settled(provider, text)``.

A probe types ``/usage`` or ``/status`` and must capture the card only once the agent has
drawn its final version (docs/parsers.md "Has the card finished drawing?"). What "final" means
is a property of each agent's screen, so it lives here beside the parsers, as a pure function
of one capture:

- Claude Code 2.1 draws ``/usage`` first with the figures it last saw and ``Refreshing…``
  under them, then redraws with the server's answer; a ``What's contributing…`` section shows
  ``Scanning local sessions…`` until its scan ends, and a first open without any cached figures
  shows ``Loading usage data…``. The card is settled when its dialog (tab header down to
  ``Esc to cancel``) is on screen with a usage row or a final error, and none of those loading
  markers is in it. ``Approximate, based on local sessions…`` is NOT a loading marker: it is
  the caption of the contributions section and stays on the settled card.
- Codex draws ``/status`` once, from the snapshot it holds (its figures can be up to a minute
  old, which the figure's observation time tells, not the render): settled as soon as a whole
  ``/status`` card is on screen.

The probe also waits for two equal captures a short interval apart; this function is the
screen half of that test.
"""

from __future__ import annotations

import logging
import re

from scraper.parsers import claude, codex
from scraper.parsers.text import clean_lines, strip_ansi

logger = logging.getLogger(__name__)

_CLAUDE_TABS = re.compile(r"^\s*Settings:?\s+Status\s+Config\s+Usage\b")
_CLAUDE_USAGE_ROW = re.compile(r"\d%\s*used\b")


def claude_usage_settled(text: str) -> bool:
    """The newest Claude Code settings dialog shows a finished ``/usage`` tab."""
    lines = clean_lines(text)
    starts = [index for index, line in enumerate(lines) if _CLAUDE_TABS.match(line)]
    if not starts:
        return False
    dialog = lines[starts[-1] :]
    ends = [index for index, line in enumerate(dialog) if claude.CARD_END.match(line)]
    if not ends:
        return False  # still drawing, or the bottom of the dialog is not on screen
    body = "\n".join(dialog[: ends[0] + 1])
    if claude.REFRESHING.search(body):
        return False  # the server's figures are still to come
    if claude.LOADING_MARKERS.search(body):
        return False
    return bool(_CLAUDE_USAGE_ROW.search(body) or claude.USAGE_ERROR.search(body)
                or claude.REFRESH_FAILED.search(body))


def codex_status_settled(text: str) -> bool:
    """A whole Codex ``/status`` card is on screen (Codex draws it once)."""
    return codex.has_status_card(text)


def card_settled(provider: str, text: str) -> bool:
    """Whether ``text`` (a capture, escapes allowed) shows ``provider``'s card fully drawn.

    ``provider`` is ``"claude"`` (the ``/usage`` tab) or ``"codex"`` (``/status``); any other
    provider has no probe card and gives False. Never raises on odd input.
    """
    plain = strip_ansi(text)
    try:
        if provider == claude.PROVIDER:
            return claude_usage_settled(plain)
        if provider == codex.PROVIDER:
            return codex_status_settled(plain)
    except Exception:  # a screen we cannot read is not settled; the probe keeps waiting
        logger.exception("card_settled failed", extra={"provider": provider})
    return False
