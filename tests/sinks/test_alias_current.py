"""Which figure is current (docs/sinks.md "Which figure is shown"): the newest first observation
wins, in ``occ`` and in the window log alike, with real frames through the alias cache
functions, the window tracker, and a real broker with both sinks."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from bus.clock import to_rfc3339, utcnow
from bus.frames import FrameError, validate
from bus.publisher import Publisher
from sinks import alias_cache, current
from sinks.windows import WindowTracker
from sinks.windows_sink import read_window_log
from tests.sinks.frames import limit, parsed, stamp
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.endpoints import Endpoints
    from sinks.config import SinksConfig
    from tests.sinks.conftest import RunSink

S = dt.timedelta(seconds=1)
M = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


class Clock(t.NamedTuple):
    t0: dt.datetime
    reset5: dt.datetime
    reset_week: dt.datetime


@pytest.fixture
def clock() -> Clock:
    t0 = utcnow() - 10 * M
    return Clock(t0, t0 + 3 * H, t0 + 100 * H)


def rollout(used: float, at: dt.datetime, c: Clock) -> dict[str, t.Any]:
    """A ``codex.rollout`` frame as the tailer sends it: official, stale at the reset."""
    return stamp(
        parsed(
            [limit("5h", used, c.reset5), limit("weekly", 15, c.reset_week)],
            at=at,
            confidence="official",
            kind="log",
            screen="codex.rollout",
            stale_after=c.reset5,
        )
    )


def card(
    used: float, at: dt.datetime, c: Clock, first_seen: dt.datetime | None = None,
    state: str = "idle",
) -> dict[str, t.Any]:
    """A ``/status`` card captured at ``at``, first seen at ``first_seen`` (default ``at``)."""
    limits = [limit("5h", used, c.reset5), limit("weekly", 15, c.reset_week)]
    for item in limits:
        item["first_seen_at"] = to_rfc3339(first_seen or at)
    body = parsed(limits, at=at, stale_after=at + 10 * M)
    body["state"] = state
    return stamp(body)


def shown_5h(tmp_path: Path) -> t.Any:
    state = alias_cache.load_state(tmp_path)
    return state["providers"]["codex"]["figures"]["5h||quota"]["used_pct"]


def occ(tmp_path: Path, now: dt.datetime) -> str:
    """The first ``occ`` line ("" while the alias file is not written yet: waits go on)."""
    lines = alias_cache.read_alias(tmp_path, "occ", int(now.timestamp()))
    return lines[0] if lines else ""


def test_newer_card_beats_older_rollout_and_the_age_is_the_cards(
    tmp_path: Path, clock: Clock
) -> None:
    t1 = clock.t0 + 60 * S
    alias_cache.update(tmp_path, [rollout(44, clock.t0, clock)])
    assert shown_5h(tmp_path) == 44
    alias_cache.update(tmp_path, [card(52, t1, clock)])
    assert shown_5h(tmp_path) == 52
    line = occ(tmp_path, t1 + 30 * S)
    assert line.startswith("codex 5h 52%") and line.endswith("30s ago")


def test_old_card_recaptured_after_a_newer_turn_does_not_roll_back(
    tmp_path: Path, clock: Clock
) -> None:
    t1, t2, t3 = clock.t0 + 60 * S, clock.t0 + 3 * M, clock.t0 + 4 * M
    alias_cache.update(tmp_path, [rollout(44, clock.t0, clock), card(52, t1, clock)])
    alias_cache.update(tmp_path, [rollout(63, t2, clock)])
    assert shown_5h(tmp_path) == 63
    # the user types a draft below the old card: captured at t3, first seen at t1
    assert alias_cache.update(tmp_path, [card(52, t3, clock, first_seen=t1, state="working")])
    assert shown_5h(tmp_path) == 63
    line = occ(tmp_path, t3)
    assert line.startswith("codex 5h 63%") and line.endswith("1m ago")  # t2, not t3
    # the same card without its first-seen time would have been taken as new: the field matters
    blind = card(52, t3 + S, clock)
    alias_cache.update(tmp_path, [blind])
    assert shown_5h(tmp_path) == 52


def test_official_breaks_ties_only_within_the_tie_window(tmp_path: Path, clock: Clock) -> None:
    tie = current.OFFICIAL_TIE
    alias_cache.update(tmp_path, [rollout(40, clock.t0, clock), card(41, clock.t0 + tie, clock)])
    assert shown_5h(tmp_path) == 40  # within the tie period: official
    alias_cache.update(tmp_path, [card(42, clock.t0 + tie + S, clock)])
    assert shown_5h(tmp_path) == 42  # later than that: the newer observation


def test_estimates_only_where_no_fresh_exact_figure(tmp_path: Path, clock: Clock) -> None:
    now = clock.t0 + 10 * M
    exact = card(30, clock.t0, clock)  # stale after t0 + 10 min
    estimate_body = card(35, clock.t0 + 5 * M, clock)
    for item in estimate_body["limits"]:
        item["estimate"] = True
    estimate_body["stale_after"] = to_rfc3339(clock.t0 + 60 * M)
    alias_cache.update(tmp_path, [exact, estimate_body])
    state = alias_cache.load_state(tmp_path)
    alias_cache.select(state, clock.t0 + 5 * M)
    assert state["providers"]["codex"]["figures"]["5h||quota"]["used_pct"] == 30
    alias_cache.select(state, now + S)  # the exact figure went stale: the estimate fills in
    assert state["providers"]["codex"]["figures"]["5h||quota"]["used_pct"] == 35
    assert state["providers"]["codex"]["candidates"]["5h||quota"].keys() == {"parsed", "estimate"}


def test_the_window_log_takes_the_same_figure(clock: Clock) -> None:
    tracker = WindowTracker()
    t1, t2, t3 = clock.t0 + 60 * S, clock.t0 + 3 * M, clock.t0 + 4 * M
    key = ("codex", "5h", None)
    frames = [
        rollout(44, clock.t0, clock),
        card(52, t1, clock),
        rollout(63, t2, clock),
        card(52, t3, clock, first_seen=t1, state="working"),
        rollout(62, t3 - M, clock),  # an out-of-order older log line
    ]
    used = []
    for body in frames:
        tracker.observe(body)
        used.append(tracker.windows[key].used_pct)
    assert used == [44, 52, 63, 63, 63]
    assert tracker.windows[key].peak_pct == 63
    # the same rule as the alias cache: both keep every figure and agree on the current one
    assert current.choose(tracker.candidates[key].values(), t3)["used_pct"] == 63  # type: ignore[index]


def test_first_seen_at_is_validated_on_the_wire(clock: Clock) -> None:
    body = card(52, clock.t0, clock)
    body["limits"][0]["first_seen_at"] = to_rfc3339(clock.t0 + S)
    with pytest.raises(FrameError, match="after observed_at"):
        validate(body)
    body["limits"][0]["first_seen_at"] = "yesterday"
    with pytest.raises(FrameError, match="not an RFC 3339 time"):
        validate(body)
    body["limits"][0]["first_seen_at"] = 17
    with pytest.raises(FrameError, match="has type int"):
        validate(body)
    body["limits"][0]["first_seen_at"] = None  # optional: null means "as observed_at"
    assert validate(body) is body


def test_both_directions_through_a_real_broker_and_both_sinks(
    endpoints: Endpoints, run_sink: RunSink, sinks_config: SinksConfig, clock: Clock
) -> None:
    alias = run_sink("alias")
    run_sink("windows")
    t1, t2, t3 = clock.t0 + 60 * S, clock.t0 + 3 * M, clock.t0 + 4 * M

    def log_used() -> list[float]:
        return [r["used_pct"] for r in read_window_log(sinks_config.window_log)
                if r.get("window") == "5h"]

    with Publisher(endpoints, name="scraper") as pub:
        assert pub.wait_ready(timeout=5.0)
        pub.send(rollout(44, clock.t0, clock))
        wait_for(lambda: log_used() == [44], message="rollout 44 in the window log")
        pub.send(card(52, t1, clock))
        wait_for(lambda: occ(sinks_config.alias_dir, t1).startswith("codex 5h 52%"),
                 message="occ shows the newer card")
        wait_for(lambda: log_used() == [44, 52], message="the window took the card")
        pub.send(rollout(63, t2, clock))
        wait_for(lambda: occ(sinks_config.alias_dir, t2).startswith("codex 5h 63%"),
                 message="occ shows the newer turn")
        handled = alias.handled
        pub.send(card(52, t3, clock, first_seen=t1, state="working"))
        wait_for(lambda: alias.handled > handled, message="the re-captured card handled")
    state = alias_cache.load_state(sinks_config.alias_dir)
    slot = state["providers"]["codex"]["candidates"]["5h||quota"]["parsed"]
    assert slot["observed_at"] == to_rfc3339(t3) and slot["first_seen_at"] == to_rfc3339(t1)
    assert occ(sinks_config.alias_dir, t3).startswith("codex 5h 63%")
    assert log_used() == [44, 52, 63]
