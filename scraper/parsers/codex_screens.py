"""Codex screens without a usage card: sign-in, update and model-upgrade prompts, ``codex exec``.

They carry no limit figures (the usage-limit error of ``codex exec`` is read by the banner
rules of :mod:`scraper.parsers.codex`), but a scraper must still know what the pane is and
whether the agent waits for the user. Each kind is recognised by the words Codex 0.169 prints
(real captures under ``tests/fixtures/screens/codex``; the model-upgrade wording comes from the
strings of the 0.169.0 binary, see ``docs/parsers-codex.md``).

- ``codex.login``, ``waiting`` (``login prompt``): ``Welcome to Codex …`` with ``Sign in with
  ChatGPT``, ``Sign in another way``, the API-key box, ``Finish signing in via your browser``.
- ``codex.update``, ``waiting`` (``update prompt``): ``Update available · 0.169.0 → 0.170.0``
  with ``Update now`` / ``Skip until next version``.
- ``codex.model-upgrade``, ``waiting`` (``model upgrade prompt``): ``Codex just got an upgrade.
  Introducing …``, ``Try new model`` / ``Use existing model``.
- ``codex.exec``: ``working`` while it runs, ``unknown`` once the shell prompt is back;
  ``OpenAI Codex v0.169.0`` over a ``--------`` rule, then ``workdir:``/``model:`` rows.
"""

from __future__ import annotations

import re
import typing as t

from scraper.parsers.text import ends_at_shell_prompt

if t.TYPE_CHECKING:
    from scraper.parsers.model import State

SCREEN_LOGIN = "codex.login"
SCREEN_UPDATE = "codex.update"
SCREEN_MODEL_UPGRADE = "codex.model-upgrade"
SCREEN_EXEC = "codex.exec"

#: How many non-blank lines at the bottom hold a prompt that waits for the user.
PROMPT_TAIL_LINES = 16

_LOGIN_RE = re.compile(
    r"Sign in with (?:ChatGPT|Device Code)|Sign in another way|Use an OpenAI API key"
    r"|Use your own OpenAI API key|Paste or type your API key|Finish signing in via your browser"
    r"|Provide your own API key",
    re.IGNORECASE,
)
_UPDATE_PROMPT_RE = re.compile(
    r"^[ \t]*Update available[ \t]*·[ \t]*\S+[ \t]*→[ \t]*\S+|Skip until next version", re.MULTILINE
)
_MODEL_UPGRADE_RE = re.compile(
    r"Codex just got an upgrade\.? Introducing|We recommend switching from"
    r"|^\W{0,4}(?:\d\.[ \t]*)?(?:Try new model|Use existing model)[ \t]*$",
    re.MULTILINE,
)
_EXEC_HEADER_RE = re.compile(r"^OpenAI Codex v(?P<version>\d[\w.+-]*)[ \t]*\n-{4,}[ \t]*$",
                             re.MULTILINE)
_EXEC_ROW_RE = re.compile(r"^(?P<key>workdir|model|provider|approval|sandbox|session id):\s+"
                          r"(?P<value>\S.*)$")
_EXEC_ONLY_RE = re.compile(r"--skip-git-repo-check was not specified")

#: Words that put a screen in this module's families (the registry's detection uses them).
DETECT = re.compile(
    r"Welcome to Codex, OpenAI|" + _LOGIN_RE.pattern + r"|" + _UPDATE_PROMPT_RE.pattern
    + r"|npm install -g @openai/codex|Codex just got an upgrade|^OpenAI Codex v\d"
    + r"|" + _EXEC_ONLY_RE.pattern,
    re.MULTILINE | re.IGNORECASE,
)


def _tail(lines: list[str]) -> str:
    return "\n".join([line for line in lines if line.strip()][-PROMPT_TAIL_LINES:])


def prompt_kind(lines: list[str]) -> tuple[str, State, str] | None:
    """A prompt at the bottom that waits for the user: (screen, state, reason), else None."""
    tail = _tail(lines)
    if _UPDATE_PROMPT_RE.search(tail):
        return SCREEN_UPDATE, "waiting", "update prompt"
    if _MODEL_UPGRADE_RE.search(tail):
        return SCREEN_MODEL_UPGRADE, "waiting", "model upgrade prompt"
    if _LOGIN_RE.search(tail):
        return SCREEN_LOGIN, "waiting", "login prompt"
    return None


def exec_start(lines: list[str]) -> int | None:
    """Index of the last ``codex exec`` header (or its lone trust error), else None."""
    text = "\n".join(lines)
    start = None
    for match in _EXEC_HEADER_RE.finditer(text):
        start = text.count("\n", 0, match.start())
    if start is None:
        only = list(_EXEC_ONLY_RE.finditer(text))
        if only:
            start = text.count("\n", 0, only[-1].start())
    return start


def exec_header(lines: list[str]) -> dict[str, str]:
    """``version`` and the ``workdir:``/``model:`` … rows of an exec header."""
    found: dict[str, str] = {}
    match = _EXEC_HEADER_RE.search("\n".join(lines))
    if match:
        found["version"] = match.group("version")
    for line in lines:
        row = _EXEC_ROW_RE.match(line)
        if row:
            found.setdefault(row.group("key"), row.group("value").strip())
    return found


def exec_state(lines: list[str]) -> tuple[State, str]:
    """``codex exec`` prints and exits: a shell prompt below it means it is done."""
    if ends_at_shell_prompt(lines):
        return "unknown", "codex exec finished (shell prompt)"
    return "working", "codex exec running"
