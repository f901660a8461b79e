"""Reading an agent's screen for a probe: where the composer is and what it holds, whether the
probe's card is drawn, and whether that card has settled.

Pure functions over captures (``capture-pane -p -e`` rows, one per screen row, unjoined so a
row index is the screen row tmux's own search reports).
"""

from __future__ import annotations

import dataclasses
import re

from scraper.parsers.settled import card_settled as parsers_card_settled
from scraper.parsers.text import strip_ansi

_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
_ESCAPE = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_RULE = re.compile(r"^─{8,}\s*$")
_CLAUDE_ROW_TITLE = re.compile(r"^\s*Current (?:session|week)\b")
_CODEX_LIMIT_ROW = re.compile(
    r"^\s*(?:[•·]\s*)?(?:5h limit|Weekly limit|Monthly credit limit|Limits:|Credits:)", re.I
)
_CLAUDE_TABS = re.compile(r"^\s*Settings:?\s+Status\s+Config\s+Usage\b", re.M)
PROMPT_GLYPHS = {"codex": "›", "claude": "❯"}

# A card that is still being drawn: Claude Code 2.1 first renders its cached figures with
# "Refreshing…", then the server's; "Scanning local sessions…" and "Loading usage data…" while
# parts load (docs/parsers.md "Has the card finished drawing?"). "Approximate, based on local
# sessions" is a caption that can stay on a settled card, so it is not a marker.
UNSETTLED_MARKERS = (
    "Refreshing…",
    "Scanning local sessions",
    "Loading usage data",
    "Loading remote cost",
)
# Lines that tick by themselves while a card is open (Claude's wall-clock duration).
_TICKING = re.compile(r"^(\s*Total duration \(wall\):).*$", re.M)


@dataclasses.dataclass(frozen=True)
class Composer:
    """The agent's input line as the screen shows it."""

    row: int  # 0-based screen row
    line: str  # the row as plain text (trailing blanks kept as captured)
    prefix: str  # the glyph and what follows it up to the text (``› ``, ``❯\xa0``)
    typed: str  # characters a person typed (dimmed placeholder left out; spaces left out)
    single_line: bool  # nothing of the draft continues on the next row

    @property
    def text(self) -> str:
        """Everything after the prefix, as plain text (for exact comparisons)."""
        return self.line[len(self.prefix) :].rstrip(" ")


def _visible_typed_chars(ansi_line: str, start: int) -> str:
    """Characters of ``ansi_line`` after plain-text column ``start`` that are not dimmed."""
    typed: list[str] = []
    dim = False
    column = 0
    index = 0
    while index < len(ansi_line):
        match = _SGR.match(ansi_line, index)
        if match:
            for param in (match.group(1) or "0").replace(":", ";").split(";"):
                if param in ("", "0", "22"):
                    dim = False
                elif param == "2":
                    dim = True
            index = match.end()
            continue
        other = _ESCAPE.match(ansi_line, index)
        if other:
            index = other.end()
            continue
        char = ansi_line[index]
        if column >= start and not dim and not char.isspace():
            typed.append(char)
        column += 1
        index += 1
    return "".join(typed)


def find_composer(provider: str, ansi_rows: list[str]) -> Composer | None:
    """The composer of ``provider`` on screen, or None (a dialog or menu covers it).

    Codex: the lowest row starting with ``›`` (older ones are the transcript); its draft goes
    on when the next row is not blank. Claude: the ``❯`` row right below a horizontal rule
    (the ``❯ /usage`` echo of an open dialog has no rule above it); the draft goes on when the
    next row is not the closing rule.
    """
    plain = [strip_ansi(row) for row in ansi_rows]
    glyph = PROMPT_GLYPHS.get(provider)
    if glyph is None:
        return None
    for index in range(len(plain) - 1, -1, -1):
        stripped = plain[index].lstrip(" ")
        if not stripped.startswith(glyph):
            continue
        if provider == "claude" and not (index > 0 and _RULE.match(plain[index - 1].strip() + " ")):
            continue
        indent = len(plain[index]) - len(stripped)
        after = plain[index][indent + 1 :]
        gap = after[: len(after) - len(after.lstrip(" \u00a0"))][:1]
        prefix = plain[index][: indent + 1] + gap
        following = plain[index + 1] if index + 1 < len(plain) else ""
        if provider == "claude":
            single = bool(_RULE.match(following.strip() + " "))
        else:
            single = not following.strip()
        typed = _visible_typed_chars(ansi_rows[index], indent + 1)
        return Composer(index, plain[index], prefix, typed, single)
    return None


def prompt_text(provider: str, ansi_text: str) -> str | None:
    """What a person has typed at the agent's prompt: ``""`` when empty, None when no prompt."""
    composer = find_composer(provider, ansi_text.split("\n"))
    return None if composer is None else composer.typed


def card_on_screen(provider: str, text: str) -> bool:
    """Whether the probe's card is drawn completely in ``text`` (plain)."""
    lines = text.split("\n")
    if provider == "codex":
        # The echoed "/status" starts the card; in a short pane it may have scrolled away.
        echo = max((i for i, line in enumerate(lines) if line.strip() == "/status"), default=-1)
        return any(_CODEX_LIMIT_ROW.match(line) for line in lines[echo + 1 :])
    # The Usage tab (Settings · Status · Config · Usage) ends with "Esc to cancel"; in a short
    # pane its top (the tab line) is cut, and the first row title starts what is left.
    start = max(
        (
            i
            for i, line in enumerate(lines)
            if ("Usage" in line and "Status" in line and "Config" in line)
            or _CLAUDE_ROW_TITLE.match(line)
        ),
        default=-1,
    )
    return start >= 0 and any("Esc to cancel" in line for line in lines[start + 1 :])


def unsettled_marker(text: str) -> str | None:
    """The loading marker still on screen, or None when none is."""
    return next((marker for marker in UNSETTLED_MARKERS if marker in text), None)


def card_settled(provider: str, text: str) -> bool:
    """Whether the probe's card in ``text`` is drawn completely and finished loading: the
    parsers' rule (:func:`scraper.parsers.settled.card_settled`). That rule reads Claude's
    dialog from its tab line; in a short pane the tab line has scrolled off, and then the card
    counts as settled when all of it below is on screen with no loading marker."""
    if parsers_card_settled(provider, text):
        return True
    cut = provider == "claude" and not _CLAUDE_TABS.search(text)
    return cut and card_on_screen(provider, text) and unsettled_marker(text) is None


def steady_text(text: str) -> str:
    """``text`` with the lines that tick on their own blanked, to compare two captures."""
    return _TICKING.sub(r"\1", text)


def removable_suffix(draft: str, command: str) -> bool:
    """Whether deleting the last ``len(command)`` characters of ``draft`` removes exactly what
    the probe typed, whichever of its possible places the command really took.

    The composer was empty when the probe typed, so the draft is ``before + command + after``
    where ``before`` and ``after`` are a person's keys that raced the probe. Backspaces only
    remove a tail; that is right for every split the draft allows only when each occurrence of
    ``command`` leaves the same remainder as cutting the tail.
    """
    if not draft.endswith(command):
        return False
    keep = draft[: len(draft) - len(command)]
    start = draft.find(command)
    while start != -1:
        if draft[:start] + draft[start + len(command) :] != keep:
            return False
        start = draft.find(command, start + 1)
    return True
