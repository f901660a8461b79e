"""Claude Code screens: the ``/usage`` card, ``/status``, limit banners and the pane state.

What is read (and why the rules look the way they do):

- ``/usage`` (2.0 ``Settings:  Status   Config   Usage`` and 2.1 ``Settings  Status … Stats``
  tabs). Each row is a title, a bar with ``N% used`` and an optional ``Resets …`` line. Panes
  narrower than about 64 columns print ``Title · Resets …`` on one line, then the bar, then
  ``N% used`` on its own line, so a row is read as a block of lines, not as fixed positions.
  ``Current session`` → window ``5h``; ``Current week (all models)`` → ``weekly`` with scope
  null; ``Current week (Sonnet only)`` → scope ``sonnet only`` (any other model likewise);
  ``Usage credits`` / ``Extra usage`` with a percentage → ``monthly`` scope ``credits``.
- Screen order is time order: the last card counts, and a banner below it is newer.
  ``You've used 91% of your session limit · resets 3pm`` is exact and replaces the card's
  figure. ``You've hit your session limit`` / ``… limit reached`` says the limit was reached
  but not by how much the card is off: the banner goes to ``warnings`` and, when the card above
  says less than 100%, that card figure is stale and left out (``used_pct`` null, the reset
  time from the banner kept) — docs/parsers.md "Never guess". A card at 100% agrees and stays.
- ``/status``: version, model, login method, account, organization, cwd, session id.
- Pane state from the bottom of the screen: a dialog asking the user (trust, permission,
  login, model switch) → ``waiting``; ``esc to interrupt`` or a spinner line → ``working``;
  the prompt box, a ``/usage`` or ``/status`` dialog or the slash menu → ``idle``.

Screen names: ``claude.usage`` (a ``/usage`` card was read), ``claude.status`` (the ``/status``
tab), ``claude.banner`` (no card, but a limit banner), ``claude.main`` (anything else).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import typing as t

from scraper.parsers.model import Limit, Usage
from scraper.parsers.resets import resolve_reset
from scraper.parsers.text import SHELL_PROMPT_RE, clean_lines, strip_ansi

if t.TYPE_CHECKING:
    import datetime as dt

    from scraper.parsers.model import State, Window

logger = logging.getLogger(__name__)

PROVIDER = "claude"
SCREEN_USAGE = "claude.usage"
SCREEN_STATUS = "claude.status"
SCREEN_BANNER = "claude.banner"
SCREEN_MAIN = "claude.main"

#: How many non-blank lines at the bottom decide the pane state (older lines are scrollback).
STATE_TAIL_LINES = 30

_SEP = r"\s*[·•∙]\s*"
_NUMBER = r"(?<![\w.,+\-])(\d{1,3}(?:\.\d+)?)"  # not the tail of 1e308, x42 or -5
_TAB_HEADER = re.compile(r"^\s*Settings:?\s+Status\s+Config\s+Usage\b")
_ROW_TITLE = re.compile(
    r"^\s*(?P<title>Current session|Current week(?:\s*\((?P<scope>[^)]*)\))?|Usage credits"
    r"|Extra usage)\s*(?:" + _SEP + r"(?:(?P<spent>[^·•∙]{1,40}\bspent\b)\s*(?:" + _SEP + r")?)?"
    r"(?P<reset>Resets\b.*)?)?$"
)
#: The credits row's subtext, ``$12.34 / $50.00 spent`` (any currency sign before the amounts).
_SPENT = re.compile(
    r"(?P<used>\d[\d,]*(?:\.\d+)?)\s*/\s*\D{0,3}?(?P<limit>\d[\d,]*(?:\.\d+)?)\s+spent\b"
)
_SPENT_LINE = re.compile(
    r"^\s*(?P<spent>[^·•∙]{1,40}\bspent\b)\s*(?:" + _SEP + r"(?P<reset>Resets\b.*))?$"
)
#: What Claude Code 2.1 prints under ``/usage`` while the figures on the card are its cached
#: snapshot and the server's answer is still to come.
REFRESHING = re.compile(r"^[ \t]*Refreshing(?:…|\.\.\.)", re.MULTILINE)
#: What it prints when that refresh failed: the snapshot stays (settled, but not current).
REFRESH_FAILED = re.compile(
    r"^[ \t]*(?:Could not refresh usage data|Per-model breakdown unavailable\b)", re.MULTILINE
)
#: Either: the card's figures are estimates, never exact.
STALE_MARKERS = re.compile(f"{REFRESHING.pattern}|{REFRESH_FAILED.pattern}", re.MULTILINE)
#: What Claude Code prints while part of the card is still loading (the figures may be final).
LOADING_MARKERS = re.compile(
    r"^[ \t]*(?:Scanning local sessions(?:…|\.\.\.)|Loading usage data(?:…|\.\.\.)"
    r"|Loading remote cost(?:…|\.\.\.))",
    re.MULTILINE,
)
#: A /usage tab that gave up: no figures will come (settled, nothing to read).
USAGE_ERROR = re.compile(
    r"^[ \t]*(?:Error: [^\n]*usage data|Usage endpoint is rate limited)", re.MULTILINE
)
_USED = re.compile(_NUMBER + r"%\s*used\b")
# Patterns avoid lazy ".*?" before "\s*$" and unbounded nested repeats: a pane can hold a
# 100,000-character line and every pattern must stay linear on it.
_RESETS_LINE = re.compile(r"^\s*(?:[·•∙]\s*)?Resets\b(?:\s+(?P<phrase>\S.*))?$")
#: A piece of a reset phrase a narrow pane wrapped onto the next line (``11:59am (Area/City)``):
#: words, digits, commas, colons and a zone in parentheses, never a bar or a percentage.
_RESET_FRAGMENT = re.compile(r"^\s*[\w ,:()/+.-]+$")
MAX_RESET_CONTINUATIONS = 2
#: A limit the agent says was hit is used up: 100 % (docs/parsers.md).
HIT_PCT = 100.0
#: A zone a narrow pane wrapped onto the line below a banner (``(America/New_York)``).
_ZONE_LINE = re.compile(r"^\s*\([A-Za-z_]+(?:/[A-Za-z_+-]+){0,2}\)\s*$")
# "r to retry · Esc to cancel" when a fetch failed (the retry hint comes first)
_CARD_END = re.compile(r"^\s*(?:\w+ to retry\s*·\s*)?Esc to (?:cancel|close|exit)\b",
                       re.IGNORECASE)
CARD_END = _CARD_END

_BANNER_USED = re.compile(
    r"You(?:'|’)ve used " + _NUMBER + r"% of your (?P<which>[\w .-]{1,40}?) limit"
    r"(?:" + _SEP + r"resets\s+(?P<reset>\S.*))?",
    re.IGNORECASE,
)
_BANNER_HIT = re.compile(
    r"(?:You(?:'|’)ve hit your (?P<which>[\w .'’-]{1,40}?) limit"
    # "5-hour limit reached", "Opus weekly limit reached": a banner starts the line (after
    # gutter glyphs) or a footer segment, so prose that mentions a limit is not one.
    r"|(?:^|[·•∙|])\s{0,8}(?:[^\w\s]\s{0,8}){0,3}(?P<which2>(?:[\w-]+ ){0,2}[\w-]+) limit reached)"
    r"(?:" + _SEP + r"resets\s+(?P<reset>\S.*))?",
    re.IGNORECASE,
)
_BANNER_APPROACHING = re.compile(r"Approaching (?P<which>[\w .-]{1,40}?) limit\b", re.IGNORECASE)

_VERSION_HEADER = re.compile(r"Claude Code v(\d+\.\d+\.\d+[\w.-]*)")
_PLAN = r"(?:Claude (?:Max|Pro|Team|Enterprise)\b[\w ]*|API Usage Billing)"
_MODEL_PLAN = re.compile(r"(?P<model>[A-Z][\w .()-]{0,60}?)" + _SEP + r"(?P<plan>" + _PLAN + r")")
_SET_MODEL = re.compile(r"Set model to (?P<model>\S.*)$")
_MODEL_ID = re.compile(r"\(claude-[\w.-]+\)")
_STATUS_FIELD = re.compile(
    r"^\s*(?:[└L⎿]\s*)?(?P<key>Version|Session ID|Session name|cwd|Login method|Organization"
    r"|Email|Model|Auth token|API key)\s*:\s*(?P<value>\S.*)$",
    re.IGNORECASE,
)
_CONTEXT_LEFT = re.compile(
    r"Context left until auto-compact:\s*" + _NUMBER + r"%"
    r"|Context low \(" + _NUMBER + r"% remaining",
    re.IGNORECASE,
)
_TOTAL_COST = re.compile(r"^\s*Total cost:\s*\$(\d+(?:\.\d+)?)\s*$")
_LOGO_AND_BOX_CHARS = " \t│▐▛█▜▌▝▘▙▟*"

_WAITING: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Do you trust the files in this folder|trust this folder|Is this a project you "
                r"(?:created|trust)", re.IGNORECASE), "trust prompt"),
    (re.compile(r"Do you want to (?:proceed|make this edit|create|allow|run|fetch|use)"
                r"|Yes, and don't ask again|No, and tell Claude what to do", re.IGNORECASE),
     "permission prompt"),
    (re.compile(r"Select login method|Paste code here|Browser didn't open"
                r"|Login (?:successful|failed)"
                r"|Claude account with subscription", re.IGNORECASE), "login"),
    (re.compile(r"Select model\b|Switch between Claude models|Would you like to switch to"
                r"|switch to \w+ (?:to keep working|for the rest)", re.IGNORECASE), "model switch"),
    (re.compile(r"Choose the text style|Press Enter to continue", re.IGNORECASE), "setup dialog"),
)
_ESC_TO_INTERRUPT = re.compile(r"esc to interrupt", re.IGNORECASE)
_SPINNER = re.compile(r"^\s*[✻✽✶✳✢·*]\s?[A-Z][a-z]+(?:ing)?…")
_PROMPT = re.compile(r"^\s*[❯>](?:\s|$)")
_SLASH_ITEM = re.compile(r"^\s+/[\w:-]+\s{2,}\S")
_DETECT = re.compile(
    r"Claude Code v\d|Welcome to Claude Code|← for agents|⏵⏵ \w|Context left until auto-compact"
    r"|Settings:?\s+Status\s+Config\s+Usage"
    r"|of your (?:session|weekly) limit|You(?:'|’)ve hit your \w+ limit"
    r"|Current week \((?:all models|[\w .-]+ only)\)"
    # with the header scrolled away: the ❯ prompt under a rule, or Claude's spinner line
    # ([ \t], not \s: a run of blank lines must not be rescanned from every line start)
    r"|^─{20,}\n[ \t]*❯|^[ \t]*[✻✽✶✢·][ \t]?[A-Z][a-z]+…[ \t]*\(.*esc to interrupt",
    re.MULTILINE,
)
#: Other programs whose screens can quote Claude's words: never a Claude Code pane.
_OTHER_PROGRAM = re.compile(r"CLAUDE CODE USAGE MONITOR|>_ OpenAI Codex")

@dataclasses.dataclass
class _Row:
    """One ``/usage`` row as read."""

    window: Window
    scope: str | None
    used_pct: float | None
    resets_text: str | None
    spent: tuple[float, float] | None = None  # credits: (used, limit) in the account's currency


def _spent(text: str | None) -> tuple[float, float] | None:
    """``$12.34 / $50.00 spent`` → (12.34, 50.0)."""
    match = _SPENT.search(text or "")
    if match is None:
        return None
    return float(match.group("used").replace(",", "")), float(match.group("limit").replace(",", ""))


@dataclasses.dataclass
class _Card:
    line: int
    kind: t.Literal["usage", "status"]
    rows: list[_Row] = dataclasses.field(default_factory=list)
    fields: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _Banner:
    line: int
    text: str
    window: Window | None
    scope: str | None
    used_pct: float | None  # the figure ("hit"/"reached" is 100), None for "approaching"
    resets_text: str | None
    hit: bool


def _lines(text: str) -> list[str]:
    return clean_lines(text)


def _row_key(title: str, scope_text: str | None) -> tuple[Window, str | None]:
    if title == "Current session":
        return "5h", None
    if title in ("Usage credits", "Extra usage"):
        return "monthly", "credits"
    scope = (scope_text or "").strip().lower()
    if scope in ("", "all models", "all"):
        return "weekly", None
    return "weekly", scope


def _reset_phrase(raw: str) -> str:
    """The phrase after ``Resets`` (empty when a narrow pane wrapped all of it away)."""
    return re.sub(r"^\s*(?:[·•∙]\s*)?Resets\b\s*", "", raw).strip()


def _read_row(lines: list[str], start: int) -> tuple[_Row, int] | None:
    """Read the row whose title is at ``start``; return it and the index after its block."""
    title_match = _ROW_TITLE.match(lines[start])
    if title_match is None:
        return None
    window, scope = _row_key(title_match.group("title"), title_match.group("scope"))
    spent = _spent(title_match.group("spent"))
    reset_part = title_match.group("reset")
    resets_text = _reset_phrase(reset_part) if reset_part is not None else None
    used_pct: float | None = None
    index = start + 1
    blanks = 0
    # Lines right after a reset phrase may finish it: narrow panes wrap it at any space.
    wrapped = MAX_RESET_CONTINUATIONS if resets_text is not None else 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            # Rows are separated by a blank line, but in narrow panes an empty bar (0%) is
            # blank too: one blank line is skipped while the percentage is still to come.
            blanks += 1
            if used_pct is not None or blanks > 1:
                break
            index += 1
            continue
        if _ROW_TITLE.match(line) or _CARD_END.match(line) or _TAB_HEADER.match(line):
            break
        used = _USED.search(line)
        if used and used_pct is None:
            used_pct = float(used.group(1))
            wrapped = 0
        elif _RESETS_LINE.match(line) and resets_text is None:
            resets_text = _reset_phrase(line)
            wrapped = MAX_RESET_CONTINUATIONS
        elif (spent_line := _SPENT_LINE.match(line)) and spent is None:
            # the credits row's subtext: "$12.34 / $50.00 spent · Resets Jan 1, 2027 (UTC)"
            spent = _spent(spent_line.group("spent"))
            if spent_line.group("reset") and resets_text is None:
                resets_text = _reset_phrase(spent_line.group("reset"))
                wrapped = MAX_RESET_CONTINUATIONS
        elif resets_text is not None and wrapped and _RESET_FRAGMENT.match(line):
            resets_text = f"{resets_text} {line.strip()}".strip()
            wrapped -= 1
        else:
            wrapped = 0
        index += 1
    return _Row(window, scope, used_pct, resets_text or None, spent), index


#: Words around a limit's name in a banner that never name a model.
_NOT_MODEL_WORDS = frozenset(
    {"weekly", "week", "usage", "claude", "your", "you", "have", "has", "been", "the", "a", "an",
     "all", "models", "model"}
)
#: Words of limits that are no per-model weekly quota: a monthly spend cap, an org's cap, the
#: fast-mode limit, a plain "usage limit". A banner naming one is a warning, never an entry.
_NOT_A_QUOTA_WORDS = frozenset(
    {"monthly", "month", "spend", "org's", "org’s", "org", "fast", "credit", "credits",
     "allocation", "daily"}
)


def _banner_window(
    which: str, card_scopes: t.Iterable[str | None]
) -> tuple[Window | None, str | None]:
    """Map the words of a banner (``session``, ``weekly``, ``Opus weekly``, ``Opus``) to a key.

    A model-only banner ("your Opus limit") is a weekly scoped limit: Claude's only per-model
    limits are weekly. Its scope takes the card's spelling ("sonnet only") when one matches.
    """
    words = which.lower().replace("-", " ").split()
    if any(word in ("session", "5h") for word in words) or "5 hour" in " ".join(words):
        return "5h", None
    if any(word in _NOT_A_QUOTA_WORDS for word in words):
        return None, None
    model_words = [w for w in words if w not in _NOT_MODEL_WORDS]
    if not model_words:
        return ("weekly", None) if any(w in ("weekly", "week") for w in words) else (None, None)
    model = " ".join(model_words)
    for scope in card_scopes:
        if scope is not None and scope.split()[0] == model_words[0]:
            return "weekly", scope
    return "weekly", model


def _banner_text(line: str) -> str:
    """The banner as the user reads it, without the transcript's gutter glyphs."""
    return line.strip().lstrip("⎿⚠⏺✻ ").strip()


def _banner_reset(phrase: str | None) -> str | None:
    """The reset phrase alone: a banner can go on after it (``… · /upgrade to increase``)."""
    if not phrase:
        return None
    return re.split(_SEP, phrase)[0].strip().rstrip(".") or None


def _with_wrapped_zone(lines: list[str], index: int) -> str:
    """A banner line with the zone a narrow pane wrapped onto the next line put back."""
    line = lines[index]
    if index + 1 < len(lines) and _ZONE_LINE.match(lines[index + 1]) and "resets" in line:
        return f"{line.rstrip()} {lines[index + 1].strip()}"
    return line


def _read_banner(line: str, index: int, card_scopes: list[str | None]) -> _Banner | None:
    used = _BANNER_USED.search(line)
    if used:
        window, scope = _banner_window(used.group("which"), card_scopes)
        return _Banner(index, _banner_text(line), window, scope, float(used.group(1)),
                       _banner_reset(used.group("reset")), hit=False)
    hit = _BANNER_HIT.search(line)
    if hit:
        which = hit.group("which") or hit.group("which2") or ""
        window, scope = _banner_window(which, card_scopes)
        return _Banner(
            index, _banner_text(line), window, scope, HIT_PCT, _banner_reset(hit.group("reset")),
            hit=True,
        )
    approaching = _BANNER_APPROACHING.search(line)
    if approaching:
        return _Banner(index, _banner_text(line), None, None, None, None, hit=False)
    return None


def _cards(lines: list[str]) -> list[_Card]:
    """Every ``/usage`` or ``/status`` card on screen, oldest first."""
    cards: list[_Card] = []
    current: _Card | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        if _TAB_HEADER.match(line):
            current = None
            index += 1
            continue
        row = _read_row(lines, index) if _ROW_TITLE.match(line) else None
        if row is not None:
            start = index
            read, index = row
            keys = {(r.window, r.scope) for r in current.rows} if current else set()
            if current is None or current.kind != "usage" or (read.window, read.scope) in keys:
                current = _Card(start, "usage")
                cards.append(current)
            current.rows.append(read)
            continue
        field = _STATUS_FIELD.match(line)
        if field:
            if current is None or current.kind != "status":
                current = _Card(index, "status")
                cards.append(current)
            current.fields.setdefault(field.group("key").lower(), field.group("value").strip())
        index += 1
    return [card for card in cards if card.kind == "usage" or _is_status(card)]


def _is_status(card: _Card) -> bool:
    """A ``/status`` tab shows a version and at least one more field (a lone ``Model:`` is not)."""
    return "version" in card.fields or len(card.fields) >= 3


def pane_state(text: str) -> tuple[State, str]:
    """Idle / working / waiting / unknown for a Claude Code screen, with the reason."""
    return _state(_lines(text))


def _state(lines: list[str]) -> tuple[State, str]:
    tail = [line for line in lines if line.strip()][-STATE_TAIL_LINES:]
    if not tail:
        return "unknown", "empty screen"
    if SHELL_PROMPT_RE.match(tail[-1].strip()):
        return "unknown", "shell prompt (Claude Code is not running)"
    joined = "\n".join(tail)
    for pattern, reason in _WAITING:
        if pattern.search(joined):
            return "waiting", reason
    if _ESC_TO_INTERRUPT.search(joined):
        return "working", "esc to interrupt"
    if any(_SPINNER.match(line) for line in tail[-8:]):
        return "working", "spinner"
    card_ends = [i for i, line in enumerate(tail) if _CARD_END.match(line)]
    prompts = [i for i, line in enumerate(tail) if _PROMPT.match(line)]
    if card_ends and (not prompts or card_ends[-1] > prompts[-1]):
        dialog = tail[: card_ends[-1]]
        if any(_ROW_TITLE.match(line) for line in dialog):
            return "idle", "/usage dialog"
        if any(_STATUS_FIELD.match(line) for line in dialog):
            return "idle", "/status dialog"
        if any(_TAB_HEADER.match(line) for line in dialog):
            return "idle", "settings dialog"
    if prompts:
        after = tail[prompts[-1] + 1 :]
        if tail[prompts[-1]].strip().lstrip("❯>").strip().startswith("/") and any(
            _SLASH_ITEM.match(line) for line in after
        ):
            return "idle", "slash menu"
        return "idle", "prompt"
    return "unknown", "no prompt, dialog or spinner recognised"


class ClaudeParser:
    """:class:`~scraper.parsers.model.ScreenParser` for Claude Code panes."""

    provider = PROVIDER

    def detect(self, text: str) -> bool:
        """Claude Code's header, prompt footer, ``/usage`` tabs or limit banners."""
        plain = strip_ansi(text)
        return bool(_DETECT.search(plain)) and not _OTHER_PROGRAM.search(plain)

    def pane_state(self, text: str) -> tuple[State, str]:
        """See :func:`pane_state`."""
        return pane_state(text)

    def parse(self, text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> Usage:
        """Read a Claude Code screen; figures not read with certainty are left out."""
        lines = _lines(text)
        state, reason = _state(lines)
        usage = Usage(provider=PROVIDER, screen=SCREEN_MAIN, state=state, state_reason=reason)
        _read_identity(lines, usage)
        cards = _cards(lines)
        usage_cards = [card for card in cards if card.kind == "usage" and card.rows]
        last_card = cards[-1] if cards else None
        if last_card is not None and last_card.kind == "status":
            usage.screen = SCREEN_STATUS
            _apply_status(last_card, usage)
        card = usage_cards[-1] if usage_cards else None
        scopes = [row.scope for row in card.rows] if card else []
        banners = [
            banner
            for index, line in enumerate(lines)
            if (banner := _read_banner(_with_wrapped_zone(lines, index), index, scopes))
            is not None
        ]
        limits: dict[tuple[Window, str | None], Limit] = {}
        if card is not None:
            newest = last_card is not None and card.line > last_card.line
            if usage.screen == SCREEN_MAIN or newest:
                usage.screen = SCREEN_USAGE
            stale = _stale_marker(lines, card.line)
            if stale is not None:
                usage.warnings.append(f"/usage figures not yet refreshed ({stale}): estimates")
            for row in card.rows:
                if row.used_pct is None:
                    continue
                limits[(row.window, row.scope)] = Limit(
                    window=row.window,
                    scope=row.scope,
                    used_pct=row.used_pct,
                    resets_at=_resolve(row.resets_text, observed_at, zone),
                    resets_text=row.resets_text,
                    used=row.spent[0] if row.spent else None,
                    limit=row.spent[1] if row.spent else None,
                    estimate=stale is not None,
                )
        card_line = card.line if card is not None else -1
        for banner in banners:
            if banner.line < card_line:
                continue  # older than the card: the card is current
            _apply_banner(banner, limits, usage, observed_at, zone)
        if banners and card is None and usage.screen == SCREEN_MAIN:
            usage.screen = SCREEN_BANNER
        usage.limits = list(limits.values())
        return usage


def _card_lines(lines: list[str], start: int) -> list[str]:
    """The lines of the dialog a card starts in: from ``start`` to its ``Esc to cancel``."""
    for index in range(start, len(lines)):
        if _CARD_END.match(lines[index]):
            return lines[start : index + 1]
    return lines[start:]


def _stale_marker(lines: list[str], start: int) -> str | None:
    """``Refreshing…`` (or a failed refresh) in the card's dialog: its figures are a snapshot.

    Claude Code 2.1 opens ``/usage`` with the figures it last saw (from the last reply's
    headers or the last fetch) and ``Refreshing…`` under them, then redraws with the server's
    answer. Those first figures can be far off (a 100% session shown while the server says
    42%), so they are estimates, never exact.
    """
    match = STALE_MARKERS.search("\n".join(_card_lines(lines, start)))
    return match.group(0).strip() if match else None


def _resolve(phrase: str | None, observed_at: dt.datetime, zone: dt.tzinfo) -> dt.datetime | None:
    if not phrase or phrase.endswith(","):
        return None  # "Nov 28," cut by a wrap we could not join: the time is unknown
    try:
        return resolve_reset(phrase, observed_at, zone)
    except Exception:  # a reset we cannot read is unknown, never a reason to fail the screen
        logger.debug("unreadable reset phrase %r", phrase, exc_info=True)
        return None


def _apply_banner(
    banner: _Banner,
    limits: dict[tuple[Window, str | None], Limit],
    usage: Usage,
    observed_at: dt.datetime,
    zone: dt.tzinfo,
) -> None:
    """A banner below the card is newer: exact figures replace, "hit" makes a lower one stale."""
    if banner.window is None:
        usage.warnings.append(banner.text)
        return
    key = (banner.window, banner.scope)
    current = limits.get(key)
    resets_text = banner.resets_text
    resets_at = _resolve(resets_text, observed_at, zone)
    if resets_text is None and current is not None:
        resets_text, resets_at = current.resets_text, current.resets_at
    if not banner.hit and banner.used_pct is not None:
        limits[key] = Limit(window=banner.window, scope=banner.scope, used_pct=banner.used_pct,
                            resets_at=resets_at, resets_text=resets_text)
        return
    usage.warnings.append(banner.text)
    if current is not None and current.used_pct >= HIT_PCT:
        return  # the card already says the limit is used up: the banner agrees
    limits[key] = Limit(window=banner.window, scope=banner.scope, used_pct=HIT_PCT,
                        resets_at=resets_at, resets_text=resets_text)


def _read_identity(lines: list[str], usage: Usage) -> None:
    """Version, model, plan and context from the header, model switches and the footer."""
    for line in lines:
        version = _VERSION_HEADER.search(line)
        if version:
            usage.version = version.group(1)
        cleaned = line.lstrip(_LOGO_AND_BOX_CHARS).rstrip(" \t│")
        model_plan = _MODEL_PLAN.match(cleaned)
        if model_plan:
            usage.model = model_plan.group("model").strip()
            usage.extra["plan"] = model_plan.group("plan").strip()
        set_model = _SET_MODEL.search(line)
        if set_model:
            usage.model = _without_model_id(set_model.group("model").strip())
        context = _CONTEXT_LEFT.search(line)
        if context:
            usage.context_left_pct = float(context.group(1) or context.group(2))
        cost = _TOTAL_COST.match(line)
        if cost:
            usage.extra["session_cost_usd"] = float(cost.group(1))


def _without_model_id(model: str) -> str:
    """``Sonnet 4.5 (claude-sonnet-4-5-20250929)`` → ``Sonnet 4.5``."""
    name, _, suffix = model.rpartition(" (claude-")
    if name and _MODEL_ID.fullmatch(f"(claude-{suffix}"):
        return name.rstrip()
    return model


def _apply_status(card: _Card, usage: Usage) -> None:
    fields = card.fields
    if "version" in fields:
        version = fields["version"].split()[0].lstrip("v")
        usage.version = version
    if "model" in fields:
        usage.model = re.split(_SEP, fields["model"])[0].strip()
    for key, name in (
        ("email", "account"),
        ("login method", "login_method"),
        ("organization", "organization"),
        ("cwd", "cwd"),
        ("session id", "session_id"),
        ("session name", "session_name"),
        ("auth token", "auth_token"),  # where the token comes from (an env var name), not it
        ("api key", "api_key_source"),
    ):
        if key in fields:
            usage.extra[name] = fields[key]
