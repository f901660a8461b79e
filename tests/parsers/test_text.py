"""Cleaning captures: escapes, borders and spaces go, every glyph and line stays."""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.parsers.text import (
    clean_lines,
    parse_percent,
    percent_literals,
    squeeze,
    strip_ansi,
    strip_border,
    used_from,
)
from tests import FIXTURES

SCREENS = FIXTURES / "screens"


class StripCase(t.NamedTuple):
    test_id: str
    text: str
    expected: str


STRIP_CASES = [
    StripCase("plain", "5h limit: 42% used", "5h limit: 42% used"),
    StripCase(
        "sgr",
        "\x1b[2m  5h limit:\x1b[0m\x1b[39m\x1b[49m [██░] 77% left",
        "  5h limit: [██░] 77% left",
    ),
    StripCase("sgr-256", "\x1b[38;5;75m>_ \x1b[1m\x1b[39mOpenAI Codex", ">_ OpenAI Codex"),
    StripCase("osc-bel", "\x1b]0;codex\x07⚠ 5h limit", "⚠ 5h limit"),
    StripCase("osc-st", "\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\", "link"),
    StripCase("charset", "\x1b(Bplain", "plain"),
    StripCase("8-bit-csi", "\x9b1mbold", "bold"),
    StripCase("dcs", "\x1bPq#0;2\x1b\\after", "after"),
    StripCase("two-byte", "\x1b7saved\x1b8", "saved"),
    StripCase("crlf", "a\r\nb\r", "a\nb"),
    StripCase("lone-esc-at-end", "cut\x1b", "cut"),
    StripCase("controls", "a\x00b\x07c\x08d", "abcd"),
    StripCase("glyphs-kept", "⏱️ ⚠ › • ◦ █░ │ ╭╮ 📂 ✳", "⏱️ ⚠ › • ◦ █░ │ ╭╮ 📂 ✳"),
    StripCase("tab-kept", "a\tb", "a\tb"),
]


@pytest.mark.parametrize("case", STRIP_CASES, ids=[case.test_id for case in STRIP_CASES])
def test_strip_ansi(case: StripCase) -> None:
    assert strip_ansi(case.text) == case.expected


def test_strip_ansi_accepts_bytes_and_none() -> None:
    assert strip_ansi(b"\x1b[1m42%\xff used") == "42%\ufffd used"
    assert strip_ansi(None) == ""


class LinesCase(t.NamedTuple):
    test_id: str
    text: str
    expected: list[str]


LINES_CASES = [
    LinesCase(
        "bordered-card",
        "╭────╮\n│  Model:   gpt-5  │\n│                  │\n╰────╯",
        ["────", "  Model:   gpt-5", "", "────"],
    ),
    LinesCase("nbsp", "Current\u00a0session\u202f ", ["Current session"]),
    LinesCase(
        "borderless-keeps-indent", "  5h limit:   77% left   \n", ["  5h limit:   77% left", ""]
    ),
    LinesCase("wrapped-continuation-indent", "│  a:  x  │\n│      y  │", ["  a:  x", "      y"]),
    LinesCase("ansi-and-border", "\x1b[2m│\x1b[0m  Limits: n/a \x1b[2m│\x1b[0m", ["  Limits: n/a"]),
]


@pytest.mark.parametrize("case", LINES_CASES, ids=[case.test_id for case in LINES_CASES])
def test_clean_lines(case: LinesCase) -> None:
    assert clean_lines(case.text) == case.expected


def test_strip_border_only_edges() -> None:
    assert strip_border("│ a │ b │") == " a │ b "


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("[███░] 77% left", 77.0),
        ("12.5 % used", 12.5),
        ("only <1% left", None),
        ("over >90%", None),
        ("250% nonsense", None),
        ("no figure", None),
        ("<1% then 3%", 3.0),
    ],
)
def test_parse_percent(fragment: str, expected: float | None) -> None:
    assert parse_percent(fragment) == expected


def test_used_from_and_squeeze() -> None:
    assert used_from(77, "left") == 23.0
    assert used_from(42, "used") == 42.0
    assert squeeze("  a   b \t c ") == "a b c"
    assert percent_literals("\x1b[1m77% left\x1b[0m, 5 %") == {"77", "5"}


def _ansi_pairs() -> list[str]:
    return sorted(str(p.relative_to(SCREENS)) for p in SCREENS.glob("*/*.ansi.txt"))


@pytest.mark.parametrize("name", _ansi_pairs())
def test_ansi_capture_cleans_to_plain_capture(name: str) -> None:
    """A ``-e`` capture and a plain capture of the same screen give the same lines."""
    ansi = (SCREENS / name).read_text(encoding="utf-8")
    plain = (SCREENS / name.replace(".ansi.txt", ".txt")).read_text(encoding="utf-8")
    assert clean_lines(ansi) == clean_lines(plain)


@given(st.text())
def test_strip_and_clean_never_raise(text: str) -> None:
    cleaned = strip_ansi(text)
    assert "\x1b" not in cleaned
    assert "\r" not in cleaned
    assert len(clean_lines(text)) == cleaned.count("\n") + 1


@given(st.binary())
def test_binary_never_raises(data: bytes) -> None:
    assert isinstance(strip_ansi(data), str)
    clean_lines(data)
