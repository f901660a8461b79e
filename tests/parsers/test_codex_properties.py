"""Property tests: any text, and real screens damaged at random, never crash the Codex parser,
and every figure it returns is literally on the screen (docs/parsers.md: never guess)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.parsers.codex import CodexParser, parse_screen
from scraper.parsers.text import strip_ansi
from tests import FIXTURES
from tests.parsers.test_codex_variants import BORDERED_045, BORDERLESS_NARROW, EMOJI_040, WIDE_169

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")
_NUMBER_RE = re.compile(r"(\d{1,3}(?:\.\d+)?)\s?%")


def _fixture_texts() -> list[str]:
    texts = [EMOJI_040, BORDERED_045, BORDERLESS_NARROW, WIDE_169]
    screens = FIXTURES / "screens" / "codex"
    snapshots = FIXTURES / "codex" / "snapshots"
    if screens.is_dir():
        texts += [p.read_text(encoding="utf-8") for p in sorted(screens.glob("*.txt"))]
    if snapshots.is_dir():
        texts += [
            p.read_text(encoding="utf-8").split("\n", 4)[-1]
            for p in sorted(snapshots.glob("*status*.snap"))
        ]
    texts.append(
        WIDE_169
        + "\n⚠ 5h limit: 9% left · resets at 07:19 · /status\n"
        + "⚠ Heads up, you have less than 10% of your weekly limit left.\n"
        + "■ You've hit your usage limit. Try again at 3:15 PM.\n"
    )
    return texts


TEXTS = _fixture_texts()
BANNERS = [
    "⚠ 5h limit: 9% left · resets at 07:19 · /status",
    "⚠ Weekly limit: only <1% left · /status",
    "⚠ Heads up, you have less than 10% of your 5h limit left.",
    "⚠ Heads up, you've used over 90% of your weekly limit.",
    "■ You've hit your usage limit. Try again at 3:15 PM.",
    "  GPT-5.3-Codex-Spark limit:",
    "  5h limit:   [███░░] 61% left (resets 09:",
    "  gpt · 5h 12% left · weekly 3% used",
    "/status",
    "╰──────╯",
    "│",
]


_HIT_RE = re.compile(r"hit your usage limit|reached your usage limit|usage limit reached", re.I)
HIT_PCT = 100.0


def _assert_figures_on_screen(text: str, observed: dt.datetime) -> None:
    usage = parse_screen(text, observed, NY)
    on_screen = {float(n) for n in _NUMBER_RE.findall(strip_ansi(text))}
    for limit in usage.limits:
        assert limit.used_pct is not None
        assert 0.0 <= limit.used_pct <= 100.0
        shown_as_used = limit.used_pct in on_screen
        shown_as_left = round(100.0 - limit.used_pct, 4) in on_screen
        # "You've hit your usage limit" is 100% used of the window whose reset it names
        hit = limit.used_pct == HIT_PCT and _HIT_RE.search(strip_ansi(text)) is not None
        assert shown_as_used or shown_as_left or hit, (limit, sorted(on_screen))
        if limit.resets_at is not None:
            assert limit.resets_text
            assert limit.resets_at.tzinfo is not None
    assert isinstance(usage.to_dict(), dict)


@st.composite
def mutated_screens(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(TEXTS)).split("\n")
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            lines = [""]
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["drop", "dup", "cut", "insert", "noise", "banner"]))
        if operation == "drop":
            del lines[index]
        elif operation == "dup":
            lines.insert(index, lines[index])
        elif operation == "cut":
            lines[index] = lines[index][: draw(st.integers(0, 80))]
        elif operation == "insert":
            lines.insert(index, draw(st.text(max_size=60)))
        elif operation == "noise":
            line = lines[index]
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(st.text(max_size=8)) + line[at:]
        else:
            lines.insert(index, draw(st.sampled_from(BANNERS)))
    return "\n".join(lines)


_OBSERVED = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2040, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_screens(), _OBSERVED)
def test_mutated_screens_never_crash_or_invent(text: str, observed: dt.datetime) -> None:
    _assert_figures_on_screen(text, observed)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000), _OBSERVED)
def test_arbitrary_text_never_crashes(text: str, observed: dt.datetime) -> None:
    _assert_figures_on_screen(text, observed)
    assert isinstance(CodexParser().detect(text), bool)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=3000))
def test_binary_noise_parses_as_text(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    _assert_figures_on_screen(text, dt.datetime(2026, 11, 25, 6, 30, tzinfo=UTC))


def test_enormous_screen_is_read() -> None:
    """A huge scrollback capture: the last card still counts (and nothing blows up)."""
    text = ("noise line with 50% used in it\n" * 20000) + WIDE_169
    usage = parse_screen(text, dt.datetime(2026, 11, 25, 6, 30, tzinfo=UTC), UTC)
    assert [limit.used_pct for limit in usage.limits] == [23.0, 58.0]
