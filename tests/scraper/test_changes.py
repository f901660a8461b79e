"""What a redraw is worth: figure hints in %output bytes, and line-by-line change classes."""

from __future__ import annotations

import typing as t

import pytest

from scraper.changes import classify, known_from, may_hold_figure

CARD = (
    "  5h limit:    [███░] 77% left (resets 08:44)\n"
    "  Weekly limit: [█░░░] 42% left (resets 11:24 on 28 Nov)\n"
    "\n"
    "{spin} Working ({secs}s • esc to interrupt)\n"
    "› Ask Codex to do anything"
)


def card(spin: str = "◦", secs: int = 11, **swap: str) -> str:
    text = CARD.format(spin=spin, secs=secs)
    for old, new in swap.items():
        text = text.replace(old.replace("_", " "), new)
    return text


class Change(t.NamedTuple):
    test_id: str
    before: str | None
    after: str
    expected: str


CHANGES = [
    Change("first capture", None, card(), "new"),
    Change("identical", card(), card(), "same"),
    Change("spinner glyph", card("◦"), card("•"), "spinner"),
    Change("timer tick", card(secs=11), card(secs=12), "spinner"),
    Change("glyph and timer", card("✢", 9), card("✳", 10), "spinner"),
    Change("5h figure", card(), card().replace("77% left", "76% left"), "figures"),
    Change("reset time", card(), card().replace("08:44", "13:44"), "figures"),
    Change("new banner line", card(), card() + "\nYou've used 91% of your 5h limit", "figures"),
    Change("state text", card(), card().replace("Working", "Thinking"), "screen"),
    Change("prompt gone", card(), card().rsplit("\n", 1)[0], "screen"),
]


@pytest.mark.parametrize("case", CHANGES, ids=[c.test_id for c in CHANGES])
def test_classify(case: Change) -> None:
    assert classify(case.before, case.after) == case.expected


def escaped(text: str) -> bytes:
    """Text as tmux sends it in %output: control bytes and backslashes as \\ooo."""
    out = bytearray()
    for byte in text.replace("\n", "\r\n").encode():
        if byte < 0x20 or byte == 0x5C:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out)


class Hint(t.NamedTuple):
    test_id: str
    output: bytes
    expected: bool


KNOWN = known_from(card())
HINTS = [
    Hint("full redraw, same figures", escaped("\x1b[H\x1b[2J" + card("•", 13)), False),
    Hint("spinner cell only", escaped("\x1b[4;1H✢\x1b[4;11H14"), False),
    Hint("full redraw, new 5h figure", escaped("\x1b[H\x1b[2J" + card().replace("77", "76")),
         True),
    Hint("one digit on the 5h row", escaped("\x1b[1;22H6"), True),
    Hint("banner printed", escaped("\r\nYou've hit your usage limit"), True),
    Hint("coloured known figure", escaped("\x1b[1m77% left\x1b[0m"), False),
    Hint("plain text", escaped("hello world\r\n"), False),
]


@pytest.mark.parametrize("case", HINTS, ids=[c.test_id for c in HINTS])
def test_may_hold_figure(case: Hint) -> None:
    assert may_hold_figure(case.output, KNOWN) is case.expected


def test_never_captured_pane_may_hold_anything() -> None:
    assert may_hold_figure(b"x", None)


def test_rows_are_left_out_when_the_capture_is_not_the_visible_screen() -> None:
    known = known_from(card(), visible=False)
    assert not known.rows
    assert not may_hold_figure(escaped("\x1b[1;22H6"), known)


def test_runs_found_on_a_capture_are_remembered_with_that_capture_only() -> None:
    redraw = escaped("\x1b[H\x1b[2J" + card("•", 13))
    known = known_from(card())
    assert not may_hold_figure(redraw, known)
    assert len(known.shown) == 2  # the two limit lines, each looked up once
    assert not may_hold_figure(redraw, known)
    # The next capture showed other figures: the same bytes are news to it.
    assert may_hold_figure(redraw, known_from(card().replace("77", "70")))
