"""Reset phrases resolved to absolute times (docs/parsers.md): every phrase shape, every edge."""

from __future__ import annotations

import datetime as dt
import typing as t
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.parsers.resets import resolve_all, resolve_reset, split_zone

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
SEEN = "2026-11-25T06:30:19+00:00"  # the fixtures' observation time


class ResetCase(t.NamedTuple):
    test_id: str
    phrase: str
    observed_at: str
    zone: dt.tzinfo
    expected: str | None


CASES = [
    # time only: the next such time after observed_at, in the zone
    ResetCase("24h-later-today", "09:38", SEEN, UTC, "2026-11-25T09:38:00+00:00"),
    ResetCase("24h-evening", "19:48", SEEN, UTC, "2026-11-25T19:48:00+00:00"),
    ResetCase(
        "across-midnight", "00:10", "2026-11-25T23:50:00+00:00", UTC, "2026-11-26T00:10:00+00:00"
    ),
    ResetCase(
        "same-minute-is-now", "08:44", "2026-11-25T08:44:30+00:00", UTC, "2026-11-25T08:44:00+00:00"
    ),
    ResetCase(
        "minute-passed-is-tomorrow",
        "08:44",
        "2026-11-25T08:45:00+00:00",
        UTC,
        "2026-11-26T08:44:00+00:00",
    ),
    ResetCase("month-end", "01:15", "2026-11-30T22:00:00+00:00", UTC, "2026-12-01T01:15:00+00:00"),
    ResetCase("year-end", "00:30", "2026-12-31T23:30:00+00:00", UTC, "2027-01-01T00:30:00+00:00"),
    ResetCase("12h-am", "8:00 AM", SEEN, UTC, "2026-11-25T08:00:00+00:00"),
    ResetCase("12h-pm-compact", "9pm", SEEN, UTC, "2026-11-25T21:00:00+00:00"),
    ResetCase("12h-midnight", "12am", SEEN, UTC, "2026-11-26T00:00:00+00:00"),
    ResetCase("12h-noon", "12pm", SEEN, UTC, "2026-11-25T12:00:00+00:00"),
    ResetCase("12h-dotted", "3:15 p.m.", SEEN, UTC, "2026-11-25T15:15:00+00:00"),
    ResetCase("with-seconds", "07:19:30", SEEN, UTC, "2026-11-25T07:19:30+00:00"),
    # dates: the year that puts them on or after today
    ResetCase("codex-dated", "13:32 on 27 Nov", SEEN, UTC, "2026-11-27T13:32:00+00:00"),
    ResetCase("codex-old-style", "7 May (07:08)", SEEN, UTC, "2027-05-07T07:08:00+00:00"),
    ResetCase("claude-month-first", "Nov 28, 11:59am", SEEN, UTC, "2026-11-28T11:59:00+00:00"),
    ResetCase("claude-at", "Jul 18 at 4am", SEEN, UTC, "2027-07-18T04:00:00+00:00"),
    ResetCase("date-only-midnight", "Dec 1", SEEN, UTC, "2026-12-01T00:00:00+00:00"),
    ResetCase("date-only-in-zone", "Dec 1", SEEN, NY, "2026-12-01T00:00:00-05:00"),
    ResetCase("date-only-today", "Nov 25", SEEN, UTC, "2026-11-25T00:00:00+00:00"),
    ResetCase(
        "today-time-passed-stays-today",
        "08:00 on 25 Nov",
        "2026-11-25T10:00:00+00:00",
        UTC,
        "2026-11-25T08:00:00+00:00",
    ),
    ResetCase("yesterday-is-next-year", "Nov 24", SEEN, UTC, "2027-11-24T00:00:00+00:00"),
    ResetCase(
        "year-end-dated",
        "09:00 on 2 Jan",
        "2026-12-30T10:00:00+00:00",
        UTC,
        "2027-01-02T09:00:00+00:00",
    ),
    ResetCase(
        "new-year-dated-back",
        "Dec 31",
        "2027-01-02T10:00:00+00:00",
        UTC,
        "2027-12-31T00:00:00+00:00",
    ),
    ResetCase("leap-day", "Feb 29", SEEN, UTC, "2028-02-29T00:00:00+00:00"),
    ResetCase(
        "explicit-year-429", "Nov 28th, 2026 3:15 PM", SEEN, UTC, "2026-11-28T15:15:00+00:00"
    ),
    ResetCase("iso-date", "2026-12-24", SEEN, UTC, "2026-12-24T00:00:00+00:00"),
    ResetCase("full-month-name", "13:32 on 27 November", SEEN, UTC, "2026-11-27T13:32:00+00:00"),
    # zones: on screen wins; configured zone otherwise
    ResetCase(
        "zone-on-screen-wins", "4:59am (America/New_York)", SEEN, UTC, "2026-11-25T04:59:00-05:00"
    ),
    ResetCase(
        "zone-on-screen-dated",
        "Nov 28, 11:59am (America/Los_Angeles)",
        SEEN,
        UTC,
        "2026-11-28T11:59:00-08:00",
    ),
    ResetCase(
        "configured-zone-ny", "9pm", "2026-11-26T03:00:00+00:00", NY, "2026-11-26T21:00:00-05:00"
    ),
    ResetCase("configured-zone-tokyo", "09:38", SEEN, TOKYO, "2026-11-26T09:38:00+09:00"),
    ResetCase("utc-suffix", "07:19 UTC", SEEN, NY, "2026-11-25T07:19:00+00:00"),
    # DST in America/New_York (2026-03-08 spring forward, 2026-11-01 fall back)
    ResetCase(
        "dst-gap-lands-after", "02:30", "2026-03-08T06:00:00+00:00", NY, "2026-03-08T03:30:00-04:00"
    ),
    ResetCase(
        "dst-after-spring", "9pm", "2026-03-08T12:00:00+00:00", NY, "2026-03-08T21:00:00-04:00"
    ),
    ResetCase(
        "dst-fold-second-pass",
        "01:30",
        "2026-11-01T05:45:00+00:00",
        NY,
        "2026-11-01T01:30:00-05:00",
    ),
    ResetCase(
        "dst-fold-first-pass", "01:30", "2026-11-01T05:00:00+00:00", NY, "2026-11-01T01:30:00-04:00"
    ),
    # relative: added to observed_at
    ResetCase("rel-h-m", "1h 26m", SEEN, UTC, "2026-11-25T07:56:19+00:00"),
    ResetCase("rel-d-h", "2d 3h", SEEN, UTC, "2026-11-27T09:30:19+00:00"),
    ResetCase("rel-m", "45m", SEEN, UTC, "2026-11-25T07:15:19+00:00"),
    ResetCase("rel-in-hours", "in 3 hours", SEEN, UTC, "2026-11-25T09:30:19+00:00"),
    ResetCase("rel-words", "5 hours 20 minutes", SEEN, UTC, "2026-11-25T11:50:19+00:00"),
    ResetCase("rel-seconds", "30s", SEEN, UTC, "2026-11-25T06:30:49+00:00"),
    ResetCase("rel-in-zone", "1h 26m", SEEN, NY, "2026-11-25T02:56:19-05:00"),
    # wrappers as they appear on screens
    ResetCase("paren-resets", "(resets 10:01)", SEEN, UTC, "2026-11-25T10:01:00+00:00"),
    ResetCase("resets-at", "resets at 07:19", SEEN, UTC, "2026-11-25T07:19:00+00:00"),
    ResetCase(
        "limit-resets-at", "Limit resets at: 8:00 AM", SEEN, UTC, "2026-11-25T08:00:00+00:00"
    ),
    ResetCase("try-again-at", "try again at 3:15 PM.", SEEN, UTC, "2026-11-25T15:15:00+00:00"),
    ResetCase("nbsp", "13:32\u00a0on\u00a027\u00a0Nov", SEEN, UTC, "2026-11-27T13:32:00+00:00"),
    ResetCase(
        "naive-observed-is-utc", "09:38", "2026-11-25T06:30:19", UTC, "2026-11-25T09:38:00+00:00"
    ),
    # unknown: None, never a guess
    ResetCase("soon", "soon", SEEN, UTC, None),
    ResetCase("later", "later", SEEN, UTC, None),
    ResetCase("empty", "  ", SEEN, UTC, None),
    ResetCase("bad-time", "25:99", SEEN, UTC, None),
    ResetCase("bad-12h", "13pm", SEEN, UTC, None),
    ResetCase("approximate", "~5 hours", SEEN, UTC, None),
    ResetCase("approximate-words", "about 2h", SEEN, UTC, None),
    ResetCase("cut-by-pane-edge", "07:08 on", SEEN, UTC, None),
    ResetCase("cut-mid-date", "07:08 on 7", SEEN, UTC, None),
    ResetCase("unknown-zone", "4:59am (Mars/Olympus)", SEEN, UTC, None),
    ResetCase("impossible-date", "Feb 30", SEEN, UTC, None),
    ResetCase("bare-number", "42", SEEN, UTC, None),
    ResetCase("percent", "42%", SEEN, UTC, None),
    ResetCase("words-around", "08:44 maybe", SEEN, UTC, None),
]


@pytest.mark.parametrize("case", CASES, ids=[case.test_id for case in CASES])
def test_resolve_reset(case: ResetCase) -> None:
    observed = dt.datetime.fromisoformat(case.observed_at)
    resolved = resolve_reset(case.phrase, observed, case.zone)
    if case.expected is None:
        assert resolved is None
        return
    assert resolved is not None
    assert resolved.isoformat() == case.expected
    assert resolved.tzinfo is not None


def test_absolute_wins_when_listed_first() -> None:
    observed = dt.datetime.fromisoformat(SEEN)
    resolved = resolve_all(["soon", "8:00 AM", "1h 26m"], observed, UTC)
    assert resolved is not None
    assert resolved.isoformat() == "2026-11-25T08:00:00+00:00"
    assert resolve_all(["soon"], observed, UTC) is None


@pytest.mark.parametrize(
    ("phrase", "rest", "zone"),
    [
        ("4:59am (America/New_York)", "4:59am", "America/New_York"),
        ("Nov 28, 11:59am (Europe/Berlin)", "Nov 28, 11:59am", "Europe/Berlin"),
        ("07:19 UTC", "07:19", "UTC"),
        ("09:38", "09:38", None),
        ("7 May (07:08)", "7 May (07:08)", None),
    ],
)
def test_split_zone(phrase: str, rest: str, zone: str | None) -> None:
    assert split_zone(phrase) == (rest, zone)


@given(
    st.text(max_size=60),
    st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
)
def test_never_raises_and_is_aware(phrase: str, observed: dt.datetime) -> None:
    resolved = resolve_reset(phrase, observed, NY)
    assert resolved is None or resolved.tzinfo is not None


@given(
    st.integers(0, 23),
    st.integers(0, 59),
    st.datetimes(
        min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2040, 1, 1), timezones=st.just(UTC)
    ),
    st.sampled_from([UTC, NY, TOKYO, ZoneInfo("Australia/Lord_Howe")]),
)
def test_time_only_is_next_occurrence(
    hour: int, minute: int, observed: dt.datetime, zone: ZoneInfo
) -> None:
    """A time without date resolves within the next day, never before the observed minute."""
    resolved = resolve_reset(f"{hour:02d}:{minute:02d}", observed, zone)
    assert resolved is not None
    assert observed - dt.timedelta(minutes=1) < resolved <= observed + dt.timedelta(hours=26)
