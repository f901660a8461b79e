"""Mask secrets in pane text before anything leaves the scraper.

Pane screens show what people paste and what tools print: API keys, tokens, ``Authorization``
headers, passwords in URLs and variables. Every text the scraper publishes (the raw ``text``,
the text handed to the parsers, and the pane's title and command) passes through a
:class:`Redactor` first, so a secret on screen never reaches the bus, the archive or an alias
file. Each secret is replaced by ``[REDACTED:<kind>]`` so a reader still sees that something
was there and what it was.

The shapes come from :mod:`scraper.secrets_catalogue` (detect-secrets' plugins plus panebus's
own), compiled into two combined regexes — shapes, then contexts such as ``PASSWORD=`` — so a
screen costs two scans however long the catalogue grows. Patterns from the config
(``[[redact]]``) come on top and name what they match first. Matching runs on the text and on
its logical view (:mod:`scraper.unwrap`: escapes removed, wrapped lines joined), and the union
is masked, so a key an agent's box wraps over two lines is masked on both.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import re
import typing as t

from scraper.secret_index import AnchorIndex, plan
from scraper.secrets_catalogue import LEFT_STOP, MIN_GROUP, TOKEN_CHARS, Rule, catalogue
from scraper.unwrap import scans

if t.TYPE_CHECKING:
    from scraper.unwrap import View

LABEL = "[REDACTED:{kind}]"
LABEL_PREFIX = "[REDACTED:"
_LABELS = re.compile(r"\[REDACTED:[a-z0-9\-]+\]")
_EDGE_LEFT = " \t\r\n=:\"'`"
_EDGE_RIGHT = " \t\r\n\"'`"
#: Who names a secret matched by several rules: the user's patterns, then shapes, then contexts.
USER, SHAPE, CONTEXT = 0, 1, 2
#: Distinct field values remembered by :meth:`Redactor.redact_fields` (pane titles repeat).
FIELD_CACHE = 4096


@dataclasses.dataclass(frozen=True)
class Redacted:
    """The masked text and how many secrets of each kind were masked."""

    text: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Number of secrets masked."""
        return sum(self.counts.values())


class PatternError(ValueError):
    """A configured redaction pattern does not compile; ``kind`` names it."""


@dataclasses.dataclass(frozen=True)
class _Entry:
    rule: Rule
    regex: re.Pattern[str]
    secret: int | None  # the number of the rule's ``secret`` group
    rank: int


@dataclasses.dataclass(frozen=True)
class _Hit:
    ranges: tuple[tuple[int, int], ...]  # spans of the original text
    kind: str
    rank: int


class _Rules:
    """Compiled rules and the index that says where each can match."""

    def __init__(self, ranked: t.Sequence[tuple[Rule, int]]) -> None:
        self.entries: list[_Entry] = []
        for rule, rank in ranked:
            regex = _compile(rule)
            self.entries.append(_Entry(rule, regex, regex.groupindex.get("secret"), rank))
        self.index = AnchorIndex(
            [plan(item.rule.pattern, item.rule.flags, item.rule.anchors) for item in self.entries],
            [entry.rule.spans_lines for entry in self.entries],
        )

    def hits(
        self, text: str, start: int = 0, end: int | None = None
    ) -> t.Iterator[tuple[_Entry, tuple[int, int]]]:
        """Every match in ``text[start:end]``, with its rule and the span of its secret."""
        for window in self.index.windows(text, start, end):
            entry = self.entries[window.rule]
            for match in entry.regex.finditer(text, window.start, window.end):
                span = _secret_span(match, entry)
                if span is not None:
                    yield entry, span


def _compile(rule: Rule) -> re.Pattern[str]:
    try:
        return re.compile(rule.pattern, rule.flags | re.MULTILINE)
    except re.error as exc:
        msg = f"redaction pattern {rule.kind!r} does not compile: {exc}"
        raise PatternError(msg) from None


def _secret_span(match: re.Match[str], entry: _Entry) -> tuple[int, int] | None:
    """The ``secret`` group, else the first group of :data:`MIN_GROUP`+ characters, else all."""
    span = match.span()
    if entry.secret is not None and match.group(entry.secret) is not None:
        span = match.span(entry.secret)
    else:
        for number in range(1, (match.re.groups or 0) + 1):
            group = match.group(number)
            if group is not None and len(group) >= MIN_GROUP:
                span = match.span(number)
                break
    start, end = span
    if start >= end:
        return None
    if entry.rule.check is not None and not entry.rule.check(
        match.group(0), match.string[start:end]
    ):
        return None
    return start, end


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim quotes and separators off the edges, then take the whole token the span is in."""
    while start < end and text[start] in _EDGE_LEFT:
        start += 1
    while end > start and text[end - 1] in _EDGE_RIGHT:
        end -= 1
    if start >= end:
        return start, end
    matched_end = end
    while start > 0 and text[start - 1] in TOKEN_CHARS and text[start - 1] not in LEFT_STOP:
        start -= 1
    while end < len(text) and text[end] in TOKEN_CHARS:
        end += 1
    while end > matched_end and text[end - 1] == ".":
        end -= 1  # a sentence's full stop after a key
    return start, end


class Redactor:
    """Compiled redaction rules: the user's ``[[redact]]`` patterns on top of the catalogue."""

    def __init__(self, extra: t.Iterable[tuple[str, str]] = ()) -> None:
        user = [(Rule(kind, pattern), USER) for kind, pattern in extra]
        built = [(rule, CONTEXT if rule.context else SHAPE) for rule in catalogue()]
        self._rules = _Rules([*user, *built])
        self._fields: dict[str, tuple[str, int]] = {}  # a pane's title, command, … (they repeat)

    def redact(self, text: str, width: int | None = None) -> Redacted:
        """Return ``text`` with every secret replaced by ``[REDACTED:<kind>]``.

        ``width``: the pane's width, at which agents wrap lines (a key cut there is joined).
        """
        hits: list[_Hit] = []
        for scan in scans(text, width):
            for start, end in scan.regions or ((0, len(scan.text)),):
                found = self._scan(scan.text, scan.view, start, end)
                if scan.regions is not None:
                    # The joined view adds only what the join made: a secret across a break.
                    # (A label across a break, ``…interface`` + ``Tokens: 45.2k``, is no key.)
                    found = [hit for hit in found if len(hit.ranges) > 1]
                hits += found
        if not hits:
            return Redacted(text=text, counts={})
        return _apply(text, hits)

    def redact_fields(self, values: t.Mapping[str, t.Any]) -> tuple[dict[str, t.Any], int]:
        """A copy of ``values`` (a frame's ``pane``) with every string redacted, and how many
        secrets were masked: pane titles and commands are set by what runs in the pane."""
        masked = 0
        result: dict[str, t.Any] = {}
        for key, value in values.items():
            if isinstance(value, str) and value:
                known = self._fields.get(value)
                if known is None:
                    redacted = self.redact(value)
                    known = self._fields[value] = (redacted.text, redacted.total)
                    if len(self._fields) > FIELD_CACHE:
                        self._fields.clear()
                result[key] = known[0]
                masked += known[1]
            else:
                result[key] = value
        return result, masked

    def _scan(self, text: str, view: View | None, begin: int, stop: int) -> list[_Hit]:
        labels = (
            [match.span() for match in _LABELS.finditer(text)] if LABEL_PREFIX in text else []
        )
        hits: list[_Hit] = []
        for entry, found in self._rules.hits(text, begin, stop):
            start, end = _widen(text, *found)
            if start >= end or any(a < end and start < b for a, b in labels):
                continue  # nothing left, or an earlier mask matched again
            ranges = view.ranges(start, end) if view is not None else [(start, end)]
            hits.append(_Hit(tuple(ranges), entry.rule.kind, entry.rank))
        return hits


def _apply(text: str, hits: list[_Hit]) -> Redacted:
    """Mask the union of ``hits``; overlapping hits are one secret, named by the best rank."""
    groups: list[list[_Hit]] = []
    for hit in sorted(hits, key=lambda item: (item.ranges[0][0], item.rank)):
        joined = [group for group in groups if _overlaps(group, hit)]
        if not joined:
            groups.append([hit])
            continue
        first = joined[0]
        first.append(hit)
        for other in joined[1:]:
            first.extend(other)
            groups.remove(other)
    counts: collections.Counter[str] = collections.Counter()
    spans: list[tuple[int, int, str]] = []
    for group in groups:
        kind = min(group, key=lambda item: item.rank).kind
        counts[kind] += 1
        spans.extend(_union(group, kind))
    spans.sort()
    out: list[str] = []
    position = 0
    for start, end, kind in spans:
        out.append(text[position:start])
        out.append(LABEL.format(kind=kind))
        position = end
    out.append(text[position:])
    return Redacted(text="".join(out), counts=dict(counts))


def _overlaps(group: list[_Hit], hit: _Hit) -> bool:
    return any(
        a < d and c < b for member in group for a, b in member.ranges for c, d in hit.ranges
    )


def _union(group: list[_Hit], kind: str) -> list[tuple[int, int, str]]:
    merged: list[list[int]] = []
    for start, end in sorted(span for hit in group for span in hit.ranges):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end, kind) for start, end in merged]


@functools.cache
def _default() -> Redactor:
    return Redactor()


def redact(text: str, width: int | None = None) -> Redacted:
    """Redact with the built-in rules only (for callers without a config)."""
    return _default().redact(text, width)
