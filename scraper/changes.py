"""What changed on a pane, judged cheaply: may it hold a new figure, or is it only a spinner?

Working agents redraw several times a second (a spinner glyph, an elapsed-time counter), and
capturing, parsing and publishing each redraw costs a core for ten agents. Two cheap looks
decide what a redraw is worth before the expensive steps run:

- :func:`may_hold_figure` looks at the bytes of one ``%output`` notification (before any
  capture): text runs holding a figure marker (``%``, ``limit``, ``reset``) that the pane's last
  capture did not show, or a cursor move onto a row that held a figure, mean a figure may have
  changed, so the pane is captured at once. Anything else waits for the next coalesced capture.
- :func:`classify` compares a capture with the previous one line by line: ``figures`` (a changed
  line holds a marker), ``screen`` (some other text changed), ``spinner`` (only digits and
  spinner glyphs changed in lines without markers: a timer tick, the next spinner frame).

Both are pure functions of text and bytes; the scraper keeps the state (:class:`Known`).
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

#: Words and signs that make a line one that can carry a usage figure.
MARKER = re.compile(r"%|limit|Limit|[Rr]eset")
#: The same markers in ``%output`` bytes, found with ``bytes.find`` (four times faster than a
#: regex alternation over the kilobytes a card redraw sends).
_BYTE_MARKERS = (b"%", b"imit", b"eset")
#: Characters whose change alone is a spinner or timer tick: digits and spinner glyphs.
_TICKS = re.compile(r"[0-9\u2800-\u28ff·✢✳✶✻✽✺✹✸✷*◦•●○◉◐◓◑◒◴◷◶◵◰◳◲◱▖▘▝▗|/\\-]+")
# tmux escapes control bytes as \ooo; a run starting after one begins with its remainder.
_ESCAPE_HEAD = re.compile(rb"^\d{3}(?:\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*|[()][0-9A-Za-z]|.)?")
_CURSOR_ROW = re.compile(rb"\\033\[(\d+)(?:;\d+)?[Hf]")

Change = t.Literal["new", "figures", "screen", "spinner", "same"]


#: Runs remembered per capture as already on the pane (a redraw repeats the same lines).
_SHOWN_MAX = 256


@dataclasses.dataclass(frozen=True)
class Known:
    """What the last capture of a pane showed: its text and the rows holding figure lines."""

    text: str
    rows: frozenset[int]  # 1-based screen rows (only when the capture is the visible screen)
    #: Text runs of ``%output`` found on this capture already: a working agent redraws the
    #: same card lines many times between two captures; each is looked up once.
    shown: set[bytes] = dataclasses.field(default_factory=set, compare=False, repr=False)


def known_from(text: str, visible: bool = True) -> Known:
    """The :class:`Known` of one capture; ``visible`` says rows map to screen rows."""
    rows = (
        frozenset(index for index, line in enumerate(text.split("\n"), 1) if MARKER.search(line))
        if visible
        else frozenset()
    )
    return Known(text, rows)


def may_hold_figure(data: bytes, known: Known | None) -> bool:
    """Whether ``%output`` bytes (tmux-escaped) may show a figure the pane did not show.

    True for a pane never captured, for a cursor move onto a row that held a figure line (a
    terminal UI redrawing one changed digit), and for any text run with a marker that is not
    already on the pane. A spinner frame or a timer tick has neither.
    """
    if known is None:
        return True
    if known.rows and b"\\033[" in data:
        for match in _CURSOR_ROW.finditer(data):
            if int(match.group(1)) in known.rows:
                return True
    end = -1
    for at in _marker_positions(data):
        if at < end:
            continue  # in the run already checked
        start = data.rfind(b"\\", 0, at) + 1
        end = data.find(b"\\", at)
        if end < 0:
            end = len(data)
        run = data[start:end]
        if run in known.shown:
            continue
        if start > 0:
            run = _ESCAPE_HEAD.sub(b"", run, count=1)
        text = run.decode("utf-8", "ignore").strip()
        if text and text not in known.text:
            return True
        if len(known.shown) < _SHOWN_MAX:
            known.shown.add(data[start:end])
    return False


def _marker_positions(data: bytes) -> list[int]:
    """Where a marker starts in ``data``, in order."""
    found: list[int] = []
    for marker in _BYTE_MARKERS:
        index = data.find(marker)
        while index >= 0:
            found.append(index)
            index = data.find(marker, index + 1)
    found.sort()
    return found


def _shape(line: str) -> str:
    return _TICKS.sub("0", line)


def classify(previous: str | None, text: str) -> Change:
    """How ``text`` differs from the previous capture of the same pane."""
    if previous is None:
        return "new"
    if previous == text:
        return "same"
    old = previous.split("\n")
    new = text.split("\n")
    if len(old) != len(new):
        low = 0
        while low < min(len(old), len(new)) and old[low] == new[low]:
            low += 1
        high = 0
        while high < min(len(old), len(new)) - low and old[-1 - high] == new[-1 - high]:
            high += 1
        changed = old[low : len(old) - high] + new[low : len(new) - high]
        return "figures" if any(MARKER.search(line) for line in changed) else "screen"
    verdict: Change = "spinner"
    for before, after in zip(old, new, strict=True):
        if before == after:
            continue
        if MARKER.search(before) or MARKER.search(after):
            return "figures"
        if verdict == "spinner" and _shape(before) != _shape(after):
            verdict = "screen"
    return verdict
