"""Mask secrets in pane text before anything leaves the scraper.

Pane screens show what people paste and what tools print: API keys, tokens, ``Authorization``
headers, passwords in URLs and variables. Every text the scraper publishes (the raw ``text``,
the text handed to the parsers, and the pane's title and command) passes through a
:class:`Redactor` first, so a secret on screen never reaches the bus, the archive or an alias
file. Each secret is replaced by ``[REDACTED:<kind>]`` so a reader still sees that something
was there and what it was.

The shapes come from :mod:`scraper.secrets_catalogue` (detect-secrets' plugins plus panebus's
own): shapes (``glpat-…``) and contexts (``PASSWORD=…``), where a shape names a secret both
match. Patterns from the config (``[[redact]]``) come on top and name what they match first.
Each rule runs only where :mod:`scraper.secret_index` says it can match (lines holding its
literals, found in one pass), so a screen costs far less than one scan per rule; one combined
alternation of all rules measured slower still (``re`` tries every branch at every position).
Matching runs on the text and on its logical view (:mod:`scraper.unwrap`: escapes removed,
wrapped lines joined), and the union is masked, so a key an agent's box wraps over two lines is
masked on both. A match is widened to its whole token; a text already redacted is left as is.

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
_LABELS = re.compile(r"\[REDACTED:[^\]\s]+\]")
_EDGE_LEFT = " \t\r\n=:\"'`"
#: A match is widened over token characters (not over ``=/+.~`` to the left: ``KEY=`` stays).
_RIGHT_RUN = re.compile("[" + re.escape("".join(sorted(TOKEN_CHARS))) + "]*")
_LEFT_CHARS = TOKEN_CHARS - LEFT_STOP
#: …but no further than this: a token longer than any key is not one key.
MAX_WIDEN = 4096
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
    order: int  # the rule's place in the list


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
            self.entries.append(
                _Entry(rule, regex, regex.groupindex.get("secret"), rank, len(self.entries))
            )
        self.index = AnchorIndex(
            [plan(item.rule.pattern, item.rule.flags, item.rule.anchors) for item in self.entries],
            [entry.rule.spans_lines for entry in self.entries],
        )

    def hits(
        self, text: str, regions: t.Sequence[tuple[int, int]] | None = None
    ) -> t.Iterator[tuple[_Entry, tuple[int, int]]]:
        """Every match in ``text`` (or its ``regions``), with its rule and its secret's span."""
        for where in self.index.rule_spans(text, regions):
            entry = self.entries[where.rule]
            for match in entry.regex.finditer(text, where.start, where.end):
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
    floor = max(0, start - MAX_WIDEN)
    while start > floor and text[start - 1] in _LEFT_CHARS:
        start -= 1
    after = _RIGHT_RUN.match(text, end, end + MAX_WIDEN)
    if after is not None:
        end = after.end()
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
            found = self._scan(scan.text, scan.view, scan.regions)
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

    def _scan(
        self, text: str, view: View | None, regions: t.Sequence[tuple[int, int]] | None
    ) -> list[_Hit]:
        labels = (
            [match.span() for match in _LABELS.finditer(text)] if LABEL_PREFIX in text else []
        )
        # In order of place, then of rule: the first rule listed names a secret several match.
        found = sorted(
            (span, entry.rank, entry.order, entry.rule.kind)
            for entry, span in self._rules.hits(text, regions)
        )
        hits: list[_Hit] = []
        covered = (-1, -1)  # the last widened span: a match inside it is the same token
        for span, rank, _order, kind in found:
            if covered[0] <= span[0] and span[1] <= covered[1]:
                if rank < hits[-1].rank:
                    hits[-1] = dataclasses.replace(hits[-1], kind=kind, rank=rank)
                continue
            start, end = _widen(text, *span)
            if start >= end or any(a < end and start < b for a, b in labels):
                continue  # nothing left, or an earlier mask matched again
            covered = (start, end)
            ranges = view.ranges(start, end) if view is not None else [(start, end)]
            hits.append(_Hit(tuple(ranges), kind, rank))
        return hits


def _apply(text: str, hits: list[_Hit]) -> Redacted:
    """Mask the union of ``hits``; overlapping hits are one secret, named by the best rank.

    One sweep over the hits' ranges in order (a screen of hostile text can hold thousands).
    """
    parent = list(range(len(hits)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    spans = sorted((start, end, index) for index, hit in enumerate(hits)
                   for start, end in hit.ranges)
    reach, owner = -1, -1
    for start, end, index in spans:
        if start < reach:
            parent[root(index)] = root(owner)
        if end > reach:
            reach, owner = end, index
    groups: dict[int, list[_Hit]] = {}
    for index, hit in enumerate(hits):
        groups.setdefault(root(index), []).append(hit)
    counts: collections.Counter[str] = collections.Counter()
    masked: list[tuple[int, int, str]] = []
    for group in groups.values():
        kind = min(group, key=lambda item: item.rank).kind
        counts[kind] += 1
        masked.extend(_union(group, kind))
    masked.sort()
    out: list[str] = []
    position = 0
    for start, end, kind in masked:
        out.append(text[position:start])
        out.append(LABEL.format(kind=kind))
        position = end
    out.append(text[position:])
    return Redacted(text="".join(out), counts=dict(counts))


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
