"""The logical text behind a screen: escapes removed, wrapped lines joined, with a map back.

A secret on a screen is not always one run of characters. An agent's boxed card wraps a long
key at its right border (``│ KEY=sk-ant-api03-abc │`` then ``│ def… │``), an agent wraps its
own output at the pane width, and a capture with ``-e`` puts colour escapes inside a token. The
redactor matches on the original text *and* on this view, and masks the union, so a secret split
over two lines is masked whole and a join that guessed wrong can only add a mask, never hide one.

:func:`logical_view` returns ``None`` when the view would equal the text (the common case),
so a screen without escapes or full-width wrapped lines costs one pass over its lines.

Pure: no I/O.
"""

from __future__ import annotations

import bisect
import dataclasses
import re

#: Vertical borders of the boxes agents draw around cards and prompts.
BORDERS = frozenset("│┃║|╎╏┆┇┊┋")
#: A line ending in one of these and a next line starting with one may be one wrapped word.
JOIN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=~.:@%?&#"
)
#: How far short of the screen's widest line a line may end and still count as wrapped: agents
#: keep a margin of a column or two, and word wrapping leaves a few more.
FULL_SLACK = 6
#: Narrower text is not wrapped text worth joining (agents' panes are wider than this).
MIN_WIDTH = 40
ESCAPES = re.compile(
    r"\x1b\[[0-9;:?<=>]*[ -/]*[@-~]"  # CSI (colours, cursor)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (titles, hyperlinks)
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|[\x00-\x08\x0b-\x1f\x7f]"  # other control characters (not \t, \n)
)


@dataclasses.dataclass(frozen=True)
class View:
    """``text`` made of pieces of a source string; ``ranges`` maps a span back to the source."""

    text: str
    starts: tuple[int, ...]  # where each piece begins in ``text``
    origins: tuple[int, ...]  # where the same piece begins in the source
    lengths: tuple[int, ...]
    parent: View | None = None  # when the source is itself a view

    @classmethod
    def of(cls, source: str, pieces: list[tuple[int, int]], parent: View | None = None) -> View:
        """The view made of ``source[a:b]`` for each ``(a, b)`` in ``pieces``, in order."""
        starts: list[int] = []
        position = 0
        for start, end in pieces:
            starts.append(position)
            position += end - start
        return cls(
            text="".join(source[start:end] for start, end in pieces),
            starts=tuple(starts),
            origins=tuple(start for start, _ in pieces),
            lengths=tuple(end - start for start, end in pieces),
            parent=parent,
        )

    def ranges(self, start: int, end: int) -> list[tuple[int, int]]:
        """The spans of the original text that ``text[start:end]`` came from (merged)."""
        found: list[tuple[int, int]] = []
        index = max(0, bisect.bisect_right(self.starts, start) - 1)
        while index < len(self.starts) and self.starts[index] < end:
            piece_start = self.starts[index]
            low = max(start, piece_start)
            high = min(end, piece_start + self.lengths[index])
            if low < high:
                origin = self.origins[index] + (low - piece_start)
                span = (origin, origin + (high - low))
                if found and found[-1][1] == span[0]:
                    found[-1] = (found[-1][0], span[1])
                else:
                    found.append(span)
            index += 1
        if self.parent is None:
            return found
        mapped: list[tuple[int, int]] = []
        for low, high in found:
            for span in self.parent.ranges(low, high):
                if mapped and mapped[-1][1] == span[0]:
                    mapped[-1] = (mapped[-1][0], span[1])
                else:
                    mapped.append(span)
        return mapped


def _without_escapes(text: str) -> View | None:
    if "\x1b" not in text:
        return None  # captures without -e hold no escapes (tmux prints no other controls)
    pieces: list[tuple[int, int]] = []
    position = 0
    for match in ESCAPES.finditer(text):
        if match.start() > position:
            pieces.append((position, match.start()))
        position = match.end()
    if position < len(text):
        pieces.append((position, len(text)))
    return View.of(text, pieces)


@dataclasses.dataclass(frozen=True)
class _Line:
    start: int  # offset of the line in the text
    end: int  # offset of its end (the newline, or the end of the text)
    content_start: int  # first character after indentation and a left border
    content_end: int  # end of the content before trailing spaces and a right border
    full: bool  # the content reaches the right edge: the line may continue on the next


def _line(text: str, start: int, end: int, width: int) -> _Line:
    line = text[start:end]
    body = line.lstrip(" ")
    content_start = len(line) - len(body)
    if body and body[0] in BORDERS:
        rest = body[1:]
        content_start += 1 + len(rest) - len(rest.lstrip(" "))
    right = len(line.rstrip())
    bordered = right > content_start and line[right - 1] in BORDERS
    edge = right - 1 if bordered else right
    content_end = len(line[:edge].rstrip())
    if bordered:
        full = edge - content_end <= 1  # at most one space of padding before the border
    else:
        full = width >= MIN_WIDTH and width - FULL_SLACK <= content_end <= width + FULL_SLACK
    return _Line(start, end, start + content_start, start + content_end, full)


def _may_continue(here: str, width: int) -> bool:
    """A cheap first test: the line reaches the wrap width, or its box's border closely."""
    if not here:
        return False
    if here[-1] in BORDERS:
        return len(here) >= 3 and (here[-2] != " " or here[-3] != " ")
    return width >= MIN_WIDTH and width - FULL_SLACK <= len(here) <= width + FULL_SLACK


def _joined(text: str, width: int | None) -> View | None:
    raw_lines = text.split("\n")
    if len(raw_lines) < 2:
        return None
    stripped = [line.rstrip() for line in raw_lines]
    if width is None:
        # Not told the pane's width: the wrap width is one several lines reach (wrapped lines,
        # a rule, a border); one line longer than all others is just long.
        width = sorted(map(len, stripped))[-2]
    starts = [0]
    for line in raw_lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    joins: dict[int, tuple[_Line, _Line]] = {}
    for index in range(len(raw_lines) - 1):
        if not _may_continue(stripped[index], width):
            continue
        here = _line(text, starts[index], starts[index] + len(raw_lines[index]), width)
        there = _line(text, starts[index + 1], starts[index + 1] + len(raw_lines[index + 1]), width)
        if (
            here.full
            and here.content_end > here.content_start
            and text[here.content_end - 1] in JOIN_CHARS
            and there.content_start < there.end
            and text[there.content_start] in JOIN_CHARS
        ):
            joins[index] = (here, there)
    if not joins:
        return None
    pieces: list[tuple[int, int]] = []
    begin = 0
    for index, (here, there) in sorted(joins.items()):
        del index
        pieces.append((begin, here.content_end))
        begin = there.content_start
    pieces.append((begin, len(text)))
    return View.of(text, pieces)


@dataclasses.dataclass(frozen=True)
class Scan:
    """One text for the redactor to match on: ``view`` maps it back to the original (``None``:
    it is the original), ``regions`` limits matching to where it differs (``None``: all)."""

    text: str
    view: View | None
    regions: tuple[tuple[int, int], ...] | None


def scans(text: str, width: int | None = None) -> list[Scan]:
    """What to match on: the text without escapes, then its joined lines where they join.

    ``width`` is the pane's (agents wrap their text at it); unknown, it is guessed from the
    text. The text itself is not scanned when it has escapes: removing them cannot split a
    secret.
    """
    plain = _without_escapes(text)
    base = Scan(plain.text, plain, None) if plain is not None else Scan(text, None, None)
    joined = _joined(base.text, width)
    if joined is None:
        return [base]
    if plain is not None:
        joined = dataclasses.replace(joined, parent=plain)
    regions: list[tuple[int, int]] = []
    for point in joined.starts[1:]:
        start = joined.text.rfind("\n", 0, point) + 1
        end = joined.text.find("\n", point)
        region = (start, len(joined.text) if end < 0 else end)
        if regions and region[0] <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(regions[-1][1], region[1]))
        else:
            regions.append(region)
    return [base, Scan(joined.text, joined, tuple(regions))]
