"""Turn captured pane text into clean lines every screen parser can read.

A pane capture comes as plain text (``capture-pane -p``) or with escapes kept (``-e``), with
stray carriage returns, non-breaking spaces and, for older cards, ``│ … │`` borders. Parsers
must read both captures the same way, so they all start here instead of each cleaning text in
its own way. Nothing in this module raises on odd input: binary noise just comes out as text.
"""

from __future__ import annotations

import logging
import re
import typing as t

logger = logging.getLogger(__name__)

# ECMA-48 escape sequences, in the order a terminal would recognise them:
# OSC (ESC ] … BEL | ESC \), DCS/SOS/PM/APC strings (ESC P|X|^|_ … ESC \), CSI (ESC [ params
# intermediates final), 8-bit CSI (0x9b), charset designations (ESC ( B), two-byte escapes.
_ANSI_RE = re.compile(
    r"""
      \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?           # OSC, terminated by BEL or ST (or cut off)
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?                # DCS / SOS / PM / APC strings
    | (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?             # CSI (7-bit or 8-bit introducer)
    | \x1b[ -/]+[0-~]?                              # nF: charset designation such as ESC ( B
    | \x1b[0-~]?                                    # two-byte escapes (ESC 7, ESC =, …) or lone ESC
    """,
    re.VERBOSE,
)
# C0/C1 control characters other than newline and tab: they carry no text.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")

#: Characters that draw the left/right edge of a bordered card (Codex < 0.159, other TUIs).
BORDER_CHARS = "│┃║╭╮╰╯┌┐└┘"
_LEFT_BORDER_RE = re.compile(rf"^\s*[{BORDER_CHARS}]")
_RIGHT_BORDER_RE = re.compile(rf"[{BORDER_CHARS}]\s*$")
_SPACES = {"\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u3000": " "}
_SPACES_RE = re.compile("[" + "".join(_SPACES) + "]")

_PERCENT_RE = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s?%")
#: A shell prompt alone on a line (``$``, ``bash-5.2#``, ``user@host:~/x$``, ``[u@h dir]$``):
#: the program that drew the screen above it has exited.
SHELL_PROMPT_RE = re.compile(r"^[\w@.:~/()\[\]-]*(?: [\w@.:~/()\[\]-]+)?\s?[$#%]\s*$")


def _as_text(text: str | bytes | None) -> str:
    """Accept bytes too (a capture read from disk): decode without ever failing."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    return str(text)


def strip_ansi(text: str | bytes | None) -> str:
    """Remove terminal escapes and control characters, keep every printable glyph.

    ``\\r\\n`` becomes ``\\n``; a lone ``\\r`` is dropped (tmux captures do not overwrite lines).

    >>> strip_ansi("\\x1b[2m  5h limit:\\x1b[0m [██░] 42% used\\r")
    '  5h limit: [██░] 42% used'
    >>> strip_ansi("\\x1b]0;title\\x07⚠ hi")
    '⚠ hi'
    """
    plain = _ANSI_RE.sub("", _as_text(text))
    plain = plain.replace("\r\n", "\n")
    return _CONTROL_RE.sub("", plain)


def normalize_spaces(line: str) -> str:
    """Non-breaking and other fixed-width spaces become plain spaces."""
    return _SPACES_RE.sub(" ", line)


def strip_border(line: str) -> str:
    """Drop one card border character at each edge of ``line`` (``│  Model: x  │``).

    The text between keeps its indentation relative to the border, so wrapped continuation
    lines (deeper indent) stay recognisable.
    """
    line = _LEFT_BORDER_RE.sub("", line, count=1)
    return _RIGHT_BORDER_RE.sub("", line, count=1)


def clean_lines(text: str | bytes | None) -> list[str]:
    """Split a capture into parser-ready lines.

    Escapes stripped, NBSP made plain, borders of bordered cards dropped, trailing spaces
    removed. Line count is kept (blank lines stay) so "below" and "above" still mean newer and
    older.

    >>> clean_lines("│  Model:  gpt-5 │\\n╰────╯\\n")
    ['  Model:  gpt-5', '────', '']
    """
    lines = []
    for raw in strip_ansi(text).split("\n"):
        line = strip_border(normalize_spaces(raw).rstrip())
        lines.append(line.rstrip())
    return lines


def ends_at_shell_prompt(lines: list[str]) -> bool:
    """Whether the last non-blank line is a bare shell prompt (the program has exited).

    >>> ends_at_shell_prompt(["report", "bash-5.2# ", ""])
    True
    """
    for line in reversed(lines):
        if line.strip():
            return SHELL_PROMPT_RE.match(line.strip()) is not None
    return False


def squeeze(line: str) -> str:
    """Collapse runs of whitespace to one space and trim (for comparing phrases)."""
    return " ".join(line.split())


def parse_percent(fragment: str) -> float | None:
    """The first exact percentage in ``fragment`` (``"42% used"`` → 42.0), else ``None``.

    Inexact forms (``<1%``, ``over 90%``) are not exact figures: callers decide what they mean;
    this helper only refuses ``<``/``>`` prefixed numbers, and values above 100.

    >>> parse_percent("[███░] 77% left")
    77.0
    >>> parse_percent("only <1% left") is None
    True
    """
    for match in _PERCENT_RE.finditer(fragment):
        before = fragment[: match.start()].rstrip()
        if before.endswith(("<", ">", "≤", "≥", "~")):
            continue
        value = float(match.group(1))
        if 0.0 <= value <= 100.0:
            return value
    return None


def percent_literals(text: str) -> set[str]:
    """Every ``N%`` number literally present in ``text`` (as written), for never-invent checks."""
    return {m.group(1) for m in _PERCENT_RE.finditer(strip_ansi(text))}


def used_from(value: float, sense: t.Literal["used", "left"]) -> float:
    """The percentage USED from a figure printed as "% used" or "% left" (77% left → 23.0)."""
    used = value if sense == "used" else 100.0 - value
    return round(used, 4)
