"""Read OpenAI Codex CLI screens: the ``/status`` card of every generation, banners, pane state.

Codex changed its ``/status`` card many times (emoji list in 0.40, bordered ``│ … │`` card with
"% used" until 0.57 and "% left" from 0.58, borderless from 0.159, extra limit groups, credit
rows, narrow-pane wrapping). Rather than one template per release, the card is read as what
every generation has in common: ``Label: value`` rows whose wrapped continuation lines are
indented to the value column. Limits are recognised by their label (``5h limit``,
``Weekly limit``, ``GPT-5.3-Codex-Spark limit:`` group headers …) and figures are taken only
when the screen says whether they are "used" or "left" (docs/parsers.md: never guess).

Screen order is time order: the last complete card is current, and banners below it (footer
gauge, "Heads up …", the usage-limit error) are newer than it. See ``docs/parsers-codex.md``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import typing as t

from scraper.parsers import codex_screens
from scraper.parsers.model import Limit, State, Usage, Window
from scraper.parsers.resets import resolve_reset
from scraper.parsers.text import clean_lines, parse_percent, squeeze, strip_ansi, used_from

logger = logging.getLogger(__name__)

PROVIDER = "codex"
SCREEN = "codex.status"
MAIN_SCREEN = "codex.main"

# -- how lines look ------------------------------------------------------------------------

_HEADER_RE = re.compile(r">_\s*OpenAI Codex\s*\(v(?P<version>[0-9][0-9A-Za-z.+\-]*)\)")
_CLI_VERSION_RE = re.compile(r"CLI Version:\s*v?(?P<version>[0-9][0-9A-Za-z.+\-]*)")
_STATUS_CMD_RE = re.compile(r"^\s*/status\s*$")
_EMOJI_START_RE = re.compile(r"^\s*📂\s*Workspace\s*$")
# A row of a /status card: capitalised label and a colon (session headers use "model:").
_CARD_FIELD_RE = re.compile(r"^\s{0,3}(?:Visit\s|(?:•\s*)?[A-Z0-9][\w.\-]*(?:\s[\w.\-()]+)*\s*:)")
_FIELD_RE = re.compile(
    r"^(?P<indent>\s*)(?:•\s*)?"
    r"(?P<label>[A-Za-z0-9][A-Za-z0-9 ._()/+\-]{0,48}?)\s*:"
    r"(?:\s+(?P<value>\S.*?))?\s*$"
)
_BOTTOM_BORDER_RE = re.compile(r"^\s*╰[─━]*╯?\s*$")
_LEFT_BORDER_RE = re.compile(r"^\s*[│┃]")
# Lines that open a new history cell or UI element: user prompt, agent message, banner …
_FOREIGN_RE = re.compile(r"^\s?(?:[›❯▌■◦⚠✔✗✓⏎└]|•\s|>\s|─{3,})")

_NO_DATA_RE = re.compile(
    r"^\s*•?\s*(?:Rate limit data not available yet|Send a message to load usage data)\.?\s*$",
    re.IGNORECASE,
)
_BAR_RE = re.compile(r"\[[█▉▊▋▌▍▎▏░▒▓ ]*\]?")
_FIGURE_RE = re.compile(
    r"(?<![\d.<>])(?P<num>\d{1,3}(?:\.\d+)?)\s?%(?:\s+(?P<sense>used|left)\b)?", re.IGNORECASE
)
_RESET_PAREN_RE = re.compile(r"\(\s*resets?\s+(?P<reset>[^()]*(?:\([^()]*\))?[^()]*?)\s*(?:\)|$)")
_RESET_DOT_RE = re.compile(r"·\s*resets?\s+(?P<reset>.+?)\s*$")
_CREDITS_USED_RE = re.compile(
    r"(?P<used>\d[\d,]*(?:\.\d+)?)\s+of\s+(?P<limit>\d[\d,]*(?:\.\d+)?)\s+credits?\s+used",
    re.IGNORECASE,
)

# Labels only a /status card has (a fragment of text with "Label: value" rows is not a card).
_CARD_LABELS = frozenset(
    {
        "model",
        "model provider",
        "directory",
        "permissions",
        "approval",
        "sandbox",
        "agents.md",
        "account",
        "session",
        "token usage",
        "context window",
        "limits",
        "credits",
        "warning",
        "notice",
        "spend cap",
        "collaboration mode",
        "forked from",
        "chatgpt workspace",
        "approval mode",
        "agents files",
        "cli version",
        "reasoning effort",
        "session id",
    }
)

# Limit kinds by label, longest first so "Secondary usage limit" is not read as "usage".
_KINDS: tuple[tuple[str, Window, str | None], ...] = (
    ("secondary usage", "other", None),
    ("monthly credit", "monthly", "credits"),
    ("5h", "5h", None),
    ("5-hour", "5h", None),
    ("daily", "daily", None),
    ("weekly", "weekly", None),
    ("monthly", "monthly", None),
    ("annual", "other", None),
    ("usage", "other", None),
)

# Banners below a card.
_GAUGE_RE = re.compile(
    r"(?P<label>[\w.\-]+(?:\s[\w.\-]+)*?\s+limit)\s*:\s*"
    r"(?P<only>only\s+)?(?P<lt><\s*)?(?P<num>\d{1,3}(?:\.\d+)?)\s?%\s+(?P<sense>left|used)\b"
    r"(?P<rest>.*)$",
    re.IGNORECASE,
)
_GAUGE_RESET_RE = re.compile(r"·\s*resets?\s+(?:at\s+|in\s+)?(?P<reset>[^·]+?)\s*(?:·|$)")
_LESS_THAN_RE = re.compile(
    r"less than\s+(?P<num>\d{1,3})\s?%\s+of your\s+(?P<label>.+?\s+limit)\s+left", re.IGNORECASE
)
_USED_OVER_RE = re.compile(
    r"used over\s+(?P<num>\d{1,3})\s?%\s+of your\s+(?P<label>.+?\s+limit)\b", re.IGNORECASE
)
_LIMIT_HIT_RE = re.compile(
    r"you(?:'|’)?ve hit your usage limit|you(?:'|’)?ve reached your usage limit"
    r"|usage limit reached",
    re.IGNORECASE,
)
#: How close the error's "try again at" must be to a window's reset to name that window.
_SAME_RESET = dt.timedelta(minutes=1)
#: A limit the agent says was hit is used up: 100 % (docs/parsers.md).
HIT_PCT = 100.0
#: Lines a hard-wrapped error may continue on (the 429 message wraps at the pane edge).
MAX_HIT_CONTINUATIONS = 3
_HIT_RESET_RE = re.compile(
    r"(?:try again|limits? resets?|next refill:?)\s+(?P<reset>(?:at|in)\s+.+?)\s*\.?\s*$",
    re.IGNORECASE,
)
# One item of the configurable footer status line ("gpt-5.4 xhigh · 5h 77% left · weekly 50% left").
_STATUS_LINE_ITEM_RE = re.compile(
    r"^(?P<label>5h|daily|weekly|monthly)\s+(?P<num>\d{1,3})%\s+(?P<sense>left|used)$", re.I
)
_STATUS_LINE_SPLIT_RE = re.compile(r"\s+[·|]\s+")
_CONTEXT_FOOTER_RE = re.compile(
    r"(?P<a>\d{1,3})%\s+context left|\bContext\s+(?P<b>\d{1,3})%\s+left", re.IGNORECASE
)
_POPUP_PREVIEW_RE = re.compile(r"Configure (?:Status Line|Terminal Title)|Press space to toggle")

# Pane state, checked in this order (the first match wins).
_WAITING = (
    (re.compile(r"Trust this folder\?|Do you trust the (?:files|contents)", re.I), "trust prompt"),
    (
        re.compile(
            r"Would you like to (?:run the following command|make the following edits|grant)"
            r"|Yes, proceed|No, and tell Codex what to do differently|Allow Codex to",
            re.I,
        ),
        "approval prompt",
    ),
    (
        re.compile(r"Sign in with ChatGPT|Provide your own API key|Finish signing in", re.I),
        "login prompt",
    ),
    (
        re.compile(r"Approaching rate limits|Switch to [\w.\-]+ for lower", re.I),
        "model switch popup",
    ),
    (re.compile(r"Request increase\?|Notify owner\?", re.I), "usage-limit prompt"),
    (re.compile(r"Implement this plan\?", re.I), "plan confirmation"),
)
_WORKING = (
    (re.compile(r"esc to interrupt", re.I), "esc to interrupt"),
    (re.compile(r"^\s*[◦•⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\s*Working\b"), "spinner"),
)
_IDLE = (
    (re.compile(r"^\s*[›▌]\s?"), "composer prompt"),
    (re.compile(r"\? for shortcuts|⏎ send|context left", re.I), "composer footer"),
)
_EXITED_RE = re.compile(r"To continue this session, run codex resume", re.I)

_DETECT_RE = re.compile(
    r">_\s*OpenAI Codex|Ask Codex to do anything|Trust this folder\? Codex|⏱\S*\s*Usage Limits"
    r"|run codex login|chatgpt\.com/(?:codex/)?settings/usage|/status for a breakdown"
    r"|\b(?:5h|Weekly) limit:\s*(?:\[|\d)|codex resume",
    re.IGNORECASE,
)


def has_status_card(text: str) -> bool:
    """Whether a whole ``/status`` card is on screen (the probe's "settled" test)."""
    lines = clean_lines(text)
    card = _current_card(_find_cards(lines, strip_ansi(text).split("\n")))
    return card is not None and card.complete and card.has_header

_Key = tuple[Window, str | None, str]  # (window, scope, slot)

_ROUNDING = 0.5  # Codex prints whole percentages ({:.0}): a shown 10% is 9.5 … 10.5.


@dataclasses.dataclass
class _Field:
    label: str
    value: str
    indent: int
    value_col: int | None


@dataclasses.dataclass
class _Card:
    start: int
    end: int
    fields: list[_Field]
    complete: bool
    has_header: bool
    version: str | None = None


@dataclasses.dataclass
class _Row:
    """One limit figure read from a card or a banner (``used_pct`` already as USED)."""

    window: Window
    scope: str | None
    used_pct: float
    resets_text: str | None
    resets_at: dt.datetime | None
    used: float | None = None
    limit: float | None = None

    slot: str = ""  # tells generic "other" windows apart ("usage", "secondary usage")

    def key(self) -> _Key:
        return (self.window, self.scope, self.slot)

    def to_limit(self) -> Limit:
        return Limit(
            window=self.window,
            used_pct=self.used_pct,
            scope=self.scope,
            resets_at=self.resets_at,
            resets_text=self.resets_text,
            used=self.used,
            limit=self.limit,
        )


class CodexParser:
    """The :class:`~scraper.parsers.model.ScreenParser` for Codex CLI panes."""

    provider = "codex"
    screen = SCREEN

    def detect(self, text: str) -> bool:
        """Whether ``text`` looks like a Codex screen (any generation)."""
        try:
            plain = strip_ansi(text)
            return bool(_DETECT_RE.search(plain) or codex_screens.DETECT.search(plain))
        except (TypeError, ValueError):  # pragma: no cover - strip_ansi accepts anything
            return False

    def parse(self, text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> Usage:
        """Read one capture; never raises on odd input (an unreadable screen is ``unknown``)."""
        try:
            return parse_screen(text, observed_at, zone)
        except Exception:  # a parser bug must not take down the scraper: report, carry on
            logger.exception("codex parser failed", extra={"provider": "codex"})
            usage = Usage(provider="codex", screen=SCREEN, state="unknown")
            usage.state_reason = "parser error"
            return usage


def parse_screen(text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> Usage:
    """The usage object (docs/parsers.md) for one Codex capture (see :class:`CodexParser`)."""
    raw = strip_ansi(text).split("\n")
    lines = clean_lines(text)
    usage = Usage(provider="codex", screen=SCREEN)
    exec_at = codex_screens.exec_start(lines)
    if exec_at is not None and not any(_HEADER_RE.search(line) for line in lines[exec_at:]):
        return _parse_exec(lines[exec_at:], usage, _Figures(usage, observed_at, zone))
    usage.version = _last_version(lines)
    cards = _find_cards(lines, raw)
    card = _current_card(cards)
    figures = _Figures(usage, observed_at, zone)
    after_start = 0
    if card is not None:
        after_start = card.end
        if card.version:
            usage.version = card.version
        figures.read_card(card)
        usage.warnings.extend(_card_notes(lines[card.start : card.end]))
    figures.read_banners(lines[after_start:])
    footer_context = _footer_context(lines[after_start:])
    if footer_context is not None:
        usage.context_left_pct = footer_context
    usage.limits = figures.limits()
    usage.state, usage.state_reason = _pane_state(lines, card)
    # The screen names its topic (parsed.codex.<screen>): a /status card and the main view
    # are kept apart, so the broker's last card is not replaced by the composer shown after
    # the card closes.
    usage.screen = SCREEN if card is not None else MAIN_SCREEN
    prompt = codex_screens.prompt_kind(lines)
    if prompt is not None:
        screen, usage.state, usage.state_reason = prompt
        if card is None:
            usage.screen = screen
    return usage


def _parse_exec(lines: list[str], usage: Usage, figures: _Figures) -> Usage:
    """``codex exec`` output: who and what ran; a usage-limit error is read as a banner."""
    usage.screen = codex_screens.SCREEN_EXEC
    header = codex_screens.exec_header(lines)
    usage.version = header.get("version")
    usage.model = header.get("model")
    if "session id" in header:
        usage.extra["session_id"] = header["session id"]
    figures.read_banners(lines)
    usage.limits = figures.limits()
    usage.state, usage.state_reason = codex_screens.exec_state(lines)
    return usage


# -- cards ---------------------------------------------------------------------------------


def _last_version(lines: list[str]) -> str | None:
    version = None
    for line in lines:
        match = _HEADER_RE.search(line) or _CLI_VERSION_RE.search(line)
        if match:
            version = match.group("version")
    return version


def _is_card_header(lines: list[str], index: int) -> bool:
    """A ``>_ OpenAI Codex`` header opens a /status card only if card rows follow it.

    The session header at the top of every pane has the same first line but is followed by a
    directory (0.169) or lower-case ``model:``/``directory:`` rows (bordered versions).
    """
    for line in lines[index + 1 : index + 9]:
        if _STATUS_CMD_RE.match(line) or _HEADER_RE.search(line):
            return False
        if _CARD_FIELD_RE.match(line):
            return True
    return False


def _card_starts(lines: list[str]) -> list[int]:
    starts: list[int] = []
    for index, line in enumerate(lines):
        is_start = (
            _STATUS_CMD_RE.match(line) is not None
            or _EMOJI_START_RE.match(line) is not None
            or (_HEADER_RE.search(line) is not None and _is_card_header(lines, index))
        )
        if not is_start:
            continue
        # "/status", the border and the header of one card are one start.
        if starts and index - starts[-1] <= 4 and not _STATUS_CMD_RE.match(line):
            continue
        starts.append(index)
    return starts


def _find_cards(lines: list[str], raw: list[str]) -> list[_Card]:
    starts = _card_starts(lines)
    bounds = [(0, starts[0] if starts else len(lines), False)]  # top-cut fragment, if any
    for position, start in enumerate(starts):
        stop = starts[position + 1] if position + 1 < len(starts) else len(lines)
        bounds.append((start, stop, True))
    cards = []
    for start, stop, has_header in bounds:
        card = _read_card(lines, raw, start, stop, has_header)
        if _is_status_card(card.fields):
            cards.append(card)
    return cards


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _read_card(lines: list[str], raw: list[str], start: int, stop: int, header: bool) -> _Card:
    fields: list[_Field] = []
    end, complete, bordered, version = stop, False, False, None
    continuing = False
    for index in range(start, stop):
        raw_line, line = raw[index] if index < len(raw) else "", lines[index]
        if _BOTTOM_BORDER_RE.match(raw_line):
            end, complete = index + 1, True
            break
        bordered = bordered or _LEFT_BORDER_RE.match(raw_line) is not None
        if not line.strip():
            continuing = False
            continue
        version_match = _HEADER_RE.search(line) or _CLI_VERSION_RE.search(line)
        if version_match and header and version is None:
            version = version_match.group("version")
        if fields and not bordered and _FOREIGN_RE.match(line):
            end, complete = index, True
            break
        last = fields[-1] if fields else None
        if continuing and last is not None and _is_continuation(line, last):
            last.value = squeeze(f"{last.value} {line.strip()}")
            continue
        match = _FIELD_RE.match(line)
        if match is None or "://" in line[: match.end("label") + 3]:
            continuing = False
            continue
        value = match.group("value") or ""
        fields.append(
            _Field(
                label=squeeze(match.group("label")),
                value=squeeze(value),
                indent=len(match.group("indent")),
                value_col=match.start("value") if match.group("value") else None,
            )
        )
        continuing = True
    if not bordered and fields:
        # Borderless cards have no bottom edge: the card ends where its rows end.
        complete = True
    return _Card(start, end, fields, complete, header, version)


def _is_continuation(line: str, last: _Field) -> bool:
    """Whether ``line`` continues the value of the row above (a wrapped value).

    Codex indents wrapped values to the value column; a reset phrase that wrapped to the left
    edge, or the rest of a parenthesis left open, also belongs to the row above.
    """
    indent = _indent(line)
    if last.value_col is not None and indent >= last.value_col - 1:
        return True
    if last.value_col is None and indent > last.indent + len(last.label):
        return True
    if _FIELD_RE.match(line):
        return False
    stripped = line.strip()
    return stripped.startswith(("(resets", "· resets", "resets ")) or (
        bool(last.value) and last.value.count("(") > last.value.count(")")
    )


def _card_notes(lines: list[str]) -> list[str]:
    """Unlabelled "no data" lines of the 0.40 card ("• Rate limit data not available yet.")."""
    return [squeeze(line.strip().lstrip("•").strip()) for line in lines if _NO_DATA_RE.match(line)]


def _current_card(cards: list[_Card]) -> _Card | None:
    """The last complete card (docs/parsers.md); a cut-off card only when there is no other."""
    for card in reversed(cards):
        if card.complete:
            return card
    return cards[-1] if cards else None


# -- card rows -----------------------------------------------------------------------------


class _Kind(t.NamedTuple):
    window: Window
    fixed_scope: str | None
    prefix: str  # what precedes the kind ("codex-other" in "codex-other 5h limit")
    slot: str  # the kind itself for generic "other" windows, else ""

    def key(self, group: str | None) -> _Key:
        scope = self.fixed_scope or (_scope_name(self.prefix) if self.prefix else group)
        return (self.window, scope, self.slot)


def _limit_kind(label: str) -> _Kind | None:
    """What a limit row label names (``"Weekly limit"``, ``"spark 5h limit"``), or ``None``."""
    lowered = label.lower()
    if not lowered.endswith("limit"):
        return None
    for kind, window, fixed_scope in _KINDS:
        suffix = f"{kind} limit"
        slot = kind if window == "other" else ""
        if lowered == suffix:
            return _Kind(window, fixed_scope, "", slot)
        if lowered.endswith(" " + suffix):
            return _Kind(window, fixed_scope, label[: -len(suffix)].strip(), slot)
    return None


def _is_status_card(fields: list[_Field]) -> bool:
    return any(
        field.label.lower() in _CARD_LABELS or _limit_kind(field.label) is not None
        for field in fields
    )


def _scope_name(text: str) -> str | None:
    name = squeeze(re.sub(r"\s*limit$", "", text.strip(), flags=re.IGNORECASE)).lower()
    return name or None


def _figure(value: str, sense_hint: str | None) -> tuple[float, str] | None:
    """``(number as printed, "used"|"left")`` from a limit value; ``None`` when uncertain."""
    body = _BAR_RE.sub(" ", value)
    body = _RESET_PAREN_RE.sub(" ", body)
    match = _FIGURE_RE.search(body)
    if match is None:
        return None
    sense = (match.group("sense") or sense_hint or "").lower()
    if sense not in ("used", "left"):
        return None
    number = float(match.group("num"))
    if number > 100.0:
        return None
    return number, sense


def _reset_phrase(value: str) -> str | None:
    match = _RESET_PAREN_RE.search(value) or _RESET_DOT_RE.search(value)
    if match is None:
        return None
    phrase = squeeze(match.group("reset"))
    return phrase or None


def _used(number: float, sense: str) -> float:
    return used_from(number, "used" if sense.lower() == "used" else "left")


def _sense_from_version(version: str | None, emoji: bool) -> str | None:
    """When a narrow pane cut the word after the figure: which sense this release prints.

    0.40 (emoji card) and releases before 0.58 print "% used"; 0.58 and later "% left". A
    development build (``0.0.0``) or an unknown version gives no answer.
    """
    if emoji:
        return "used"
    if not version:
        return None
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    if (major, minor) == (0, 0):
        return None
    return "used" if (major, minor) < (0, 58) else "left"


class _Figures:
    """The limit figures of one screen as they are read top to bottom.

    ``rows`` maps (window, scope) to the current figure, or to ``None`` once a newer banner
    made it stale. Later reads overwrite earlier ones: screen order is time order.
    """

    def __init__(self, usage: Usage, observed_at: dt.datetime, zone: dt.tzinfo) -> None:
        self.usage = usage
        self.observed_at = observed_at
        self.zone = zone
        self.rows: dict[_Key, _Row | None] = {}
        self.last_figure: dict[_Key, _Row] = {}  # survives stale-marking, for reset continuity
        # When each window resets, as any line said so (card rows, gauges, even inexact ones).
        self.resets_seen: dict[_Key, tuple[dt.datetime, str]] = {}
        self.written: dict[_Key, int] = {}  # line (within the banner area) of the last write
        self.hits: list[_Hit] = []
        self.index = -1  # the banner line being read (-1: the card, older than any banner)

    def limits(self) -> list[Limit]:
        return [row.to_limit() for row in self.rows.values() if row is not None]

    def resolve(self, phrase: str | None) -> dt.datetime | None:
        return resolve_reset(phrase, self.observed_at, self.zone) if phrase else None

    # -- the card --

    def read_card(self, card: _Card) -> None:
        group: str | None = None
        emoji = any(field.label.lower() == "cli version" for field in card.fields)
        sense_hint = _sense_from_version(card.version or self.usage.version, emoji)
        for field in card.fields:
            label, value, lowered = field.label, field.value, field.label.lower()
            kind = _limit_kind(label)
            if kind is not None and value:
                self.card_limit(field, kind.key(group), sense_hint)
            elif lowered.endswith("limit") and not value:
                if kind is not None and not kind.prefix:
                    continue  # a bare "5h limit:" whose figure was cut off: nothing to read
                group = _scope_name(label)  # "GPT-5.3-Codex-Spark limit:" opens a group
            else:
                _card_info(lowered, label, value, group, self.usage)

    def card_limit(self, field: _Field, key: _Key, sense_hint: str | None) -> None:
        figure = _figure(field.value, sense_hint)
        if figure is None:
            if _FIGURE_RE.search(_BAR_RE.sub(" ", field.value)):
                self.usage.warnings.append(
                    f"{field.label}: figure shown without 'used'/'left' (cut off?); not read"
                )
            return
        number, sense = figure
        phrase = _reset_phrase(field.value)
        row = _Row(key[0], key[1], _used(number, sense), phrase, self.resolve(phrase), slot=key[2])
        credits = _CREDITS_USED_RE.search(field.value)
        if credits:
            row.used = float(credits.group("used").replace(",", ""))
            row.limit = float(credits.group("limit").replace(",", ""))
        if row.key() in self.rows:
            self.usage.warnings.append(f"{field.label}: shown twice on one card; first one kept")
            return
        self.rows[row.key()] = self.last_figure[row.key()] = row
        if row.resets_at is not None and phrase:
            self.resets_seen[row.key()] = (row.resets_at, phrase)

    # -- banners below the card --

    def read_banners(self, lines: list[str]) -> None:
        """Newer lines below the card, in screen order (docs/parsers-codex.md)."""
        footer_from = _footer_start(lines)
        preview = any(_POPUP_PREVIEW_RE.search(line) for line in lines)
        for index, line in enumerate(lines):
            if not line.strip():
                continue
            self.index = index
            gauge = _GAUGE_RE.search(line)
            if gauge and ("⚠" in line or "/status" in line or "·" in gauge.group("rest")):
                self.gauge(gauge, line)
            elif less := _LESS_THAN_RE.search(line):
                # "less than 10% of your 5h limit left": left < 10, i.e. used > 90.
                self.inexact(less.group("label"), "left_below", float(less.group("num")), line)
            elif over := _USED_OVER_RE.search(line):
                self.inexact(over.group("label"), "used_above", float(over.group("num")), line)
            elif _LIMIT_HIT_RE.search(line):
                self.limit_hit(_hit_text(lines, index))
            elif index >= footer_from and not preview:
                items = _STATUS_LINE_SPLIT_RE.split(line.strip())
                for item in filter(None, map(_STATUS_LINE_ITEM_RE.match, items)):
                    key = _banner_key(f"{item.group('label')} limit")
                    if key is not None:
                        used = _used(float(item.group("num")), item.group("sense"))
                        self.exact(key, used, None)
        self.name_hit_windows()

    def exact(self, key: _Key, used_pct: float, phrase: str | None) -> None:
        previous = self.last_figure.get(key)
        resets_text, resets_at = phrase, self.resolve(phrase)
        if not phrase and previous is not None and used_pct >= previous.used_pct:
            # Same window (usage only grows inside one): the card's reset still holds.
            resets_text, resets_at = previous.resets_text, previous.resets_at
        self.rows[key] = self.last_figure[key] = _Row(
            key[0], key[1], used_pct, resets_text, resets_at, slot=key[2]
        )
        self.written[key] = self.index
        if resets_at is not None and resets_text:
            self.resets_seen[key] = (resets_at, resets_text)

    def gauge(self, gauge: re.Match[str], line: str) -> None:
        key = _banner_key(gauge.group("label"))
        if key is None:
            return
        number = float(gauge.group("num"))
        sense = gauge.group("sense").lower()
        reset = _GAUGE_RESET_RE.search(gauge.group("rest"))
        phrase = squeeze(reset.group("reset")) if reset else None
        resolved = self.resolve(phrase)
        if resolved is not None and phrase:
            self.resets_seen[key] = (resolved, phrase)  # even an inexact gauge names its reset
        if gauge.group("lt"):
            # "only <1% left" is not a figure: it bounds what is left (or used) from above.
            bound = "left_below" if sense == "left" else "used_below"
            self.inexact(gauge.group("label"), bound, number, line)
            return
        self.exact(key, _used(number, sense), phrase)

    def inexact(self, label: str, bound: str, number: float, line: str) -> None:
        """An inexact banner: a figure it contradicts goes stale (left out); agreeing: nothing."""
        key = _banner_key(label)
        text = _banner_text(line)
        current = self.rows.get(key) if key is not None else None
        if key is None or current is None:
            self.usage.warnings.append(text)  # nothing to compare with: report it as shown
            return
        used = current.used_pct
        if bound == "left_below":  # claims left < number  ⇔  used > 100 - number
            agrees = used + _ROUNDING > 100.0 - number
        elif bound == "used_above":  # claims used > number
            agrees = used + _ROUNDING > number
        else:  # "used_below": claims used < number
            agrees = used - _ROUNDING < number
        if not agrees:
            self.rows[key] = None
            self.usage.warnings.append(text)

    def limit_hit(self, line: str) -> None:
        """The usage-limit error: the window it names is used up; the others are in doubt.

        The error does not name the window, only when to try again. When that time is the
        reset of exactly one main window on screen (card row or gauge, before or after the
        error), that window was hit: 100% used (see :meth:`name_hit_windows`). Until then, and
        for good when no window matches, main figures below 100% are contradicted and are
        left out — unless one main window already shows 100%, which agrees with the error.
        """
        text = _banner_text(line)
        reset = _HIT_RESET_RE.search(line)
        resets_at = self.resolve(reset.group("reset")) if reset else None
        self.usage.extra["usage_limit_hit"] = {
            "text": text,
            "resets_at": resets_at.isoformat() if resets_at else None,
        }
        main = {key: row for key, row in self.rows.items() if row is not None and key[1] is None}
        doubted: dict[_Key, _Row] = {}
        if not any(row.used_pct >= HIT_PCT for row in main.values()):
            for key, row in main.items():
                self.rows[key] = None
                doubted[key] = row
        self.hits.append(_Hit(self.index, resets_at, doubted))
        self.usage.warnings.append(text)

    def name_hit_windows(self) -> None:
        """After all lines are read: the window whose reset is the error's retry time is full."""
        for hit in self.hits:
            if hit.resets_at is None:
                continue
            named = [
                key
                for key, (when, _phrase) in self.resets_seen.items()
                if key[1] is None and abs(when - hit.resets_at) <= _SAME_RESET
            ]
            if len(named) != 1:
                continue  # none, or several windows reset then: which one was hit is unknown
            key = named[0]
            for other, row in hit.doubted.items():
                if other != key and self.rows.get(other) is None:
                    self.rows[other] = row  # not the window that was hit: not contradicted
            if self.written.get(key, -1) > hit.line:
                continue  # a newer figure for that window came after the error
            current = self.rows.get(key)
            if current is not None and current.used_pct >= HIT_PCT:
                continue
            when, phrase = self.resets_seen[key]
            self.rows[key] = _Row(key[0], key[1], HIT_PCT, phrase, when, slot=key[2])


@dataclasses.dataclass
class _Hit:
    """One usage-limit error: where it was, when it says to retry, what it put in doubt."""

    line: int
    resets_at: dt.datetime | None
    doubted: dict[_Key, _Row]


def _hit_text(lines: list[str], index: int) -> str:
    """The error with the lines the pane edge wrapped it onto (up to its closing period)."""
    text = lines[index].rstrip()
    for line in lines[index + 1 : index + 1 + MAX_HIT_CONTINUATIONS]:
        # A wrapped sentence goes on in lower case ("usage to purchase … try again at 8:56
        # AM."); a capital, a glyph or a blank line starts something else.
        if text.endswith(".") or not line[:1].islower():
            break
        text = f"{text} {line.strip()}"
    return text


def _card_info(lowered: str, label: str, value: str, group: str | None, usage: Usage) -> None:
    if lowered in ("model", "name") and value and usage.model is None:
        usage.model = _complete_text(value)
    elif lowered in ("account", "login") and value:
        usage.extra.setdefault("account", value)
    elif lowered == "plan" and value:
        usage.extra.setdefault("plan", value)
    elif lowered == "cli version" and value:
        usage.version = value.lstrip("v")
    elif lowered == "context window":
        match = re.match(r"(\d{1,3}(?:\.\d+)?)\s?%\s+left", value)
        if match and float(match.group(1)) <= 100:
            usage.context_left_pct = float(match.group(1))
    elif lowered in ("token usage", "total"):
        usage.extra.setdefault("token_usage", value)
    elif lowered == "credits" and value:
        if group is None:
            usage.extra.setdefault("credits", value)
        else:
            usage.extra.setdefault("scoped_credits", {})[group] = value
    elif lowered == "warning" and value:
        usage.warnings.append(value)
    elif lowered in ("limits", "notice", "spend cap") and value:
        usage.warnings.append(f"{label}: {value}")


def _complete_text(value: str) -> str:
    """Drop a parenthesis cut by the pane edge: ``gpt-5 (reasoning hig`` → ``gpt-5``."""
    if value.count("(") > value.count(")"):
        return value[: value.rfind("(")].strip() or value
    return value


# -- banners below the card ----------------------------------------------------------------


def _banner_key(label: str) -> _Key | None:
    kind = _limit_kind(label.strip())
    return kind.key(None) if kind is not None else None


def _banner_text(line: str) -> str:
    return squeeze(line.strip().lstrip("⚠■•◦ ").strip())


def _footer_start(lines: list[str]) -> int:
    """Index of the first of the last few non-blank lines (the footer/status-line area)."""
    non_blank = [index for index, line in enumerate(lines) if line.strip()]
    return non_blank[-4] if len(non_blank) >= 4 else 0


def _footer_context(lines: list[str]) -> float | None:
    value = None
    for line in lines:
        for match in _CONTEXT_FOOTER_RE.finditer(line):
            number = parse_percent((match.group("a") or match.group("b")) + "%")
            if number is not None:
                value = number
    return value


# -- pane state ----------------------------------------------------------------------------


def _pane_state(lines: list[str], card: _Card | None) -> tuple[State, str]:
    tail = [line for line in lines if line.strip()][-14:]
    text = "\n".join(tail)
    if not tail:
        return "unknown", "empty pane"
    for pattern, reason in _WAITING:
        if pattern.search(text):
            return "waiting", reason
    for pattern, reason in _WORKING:
        if any(pattern.search(line) for line in tail):
            return "working", reason
    last_exit = max((i for i, line in enumerate(tail) if _EXITED_RE.search(line)), default=-1)
    for pattern, reason in _IDLE:
        if any(pattern.search(line) for line in tail[last_exit + 1 :]):
            return "idle", reason
    if last_exit >= 0:
        return "unknown", "codex exited"
    if card is not None:
        return "idle", "status card on screen"
    return "unknown", "no prompt, spinner or dialog recognised"
