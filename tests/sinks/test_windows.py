"""The pure window tracker: rollover, peaks, duplicates and out-of-order frames."""

from __future__ import annotations

import datetime as dt
import typing as t

from sinks.windows import WindowTracker
from tests.sinks.frames import T0, limit, parsed, stamp

H = dt.timedelta(hours=1)


def frame(at: dt.datetime, used: float, resets: dt.datetime, window: str = "5h",
          scope: str | None = None) -> dict[str, t.Any]:
    return stamp(parsed([limit(window, used, resets, scope=scope)], at=at))


def events(tracker: WindowTracker, *frames: dict[str, t.Any]) -> list[tuple[str, float, str]]:
    out = []
    for body in frames:
        out += [(e.event, e.window.used_pct, e.window.window_id) for e in tracker.observe(body)]
    return out


def test_rollover_opens_updates_and_closes_windows() -> None:
    tracker = WindowTracker()
    reset1 = T0 + 2 * H
    reset2 = T0 + 7 * H
    seen = events(
        tracker,
        frame(T0, 10, reset1),
        frame(T0 + 0.5 * H, 35, reset1),
        frame(T0 + H, 35, reset1),  # nothing changed: no event
        frame(T0 + 2.5 * H, 4, reset2),  # reset passed: close, open the next window
    )
    kinds = [kind for kind, _, _ in seen]
    assert kinds == ["opened", "updated", "closed", "opened"]
    assert seen[2][1] == 35 and seen[0][2] == seen[2][2] != seen[3][2]
    closed = list(tracker.windows.values())
    assert closed[0].peak_pct == 4


def test_peak_is_kept_and_fall_back_with_new_reset_closes() -> None:
    tracker = WindowTracker()
    reset1 = T0 + 4 * H
    first = events(tracker, frame(T0, 60, reset1), frame(T0 + H, 80, reset1))
    state = tracker.windows[("codex", "5h", None)]
    assert state.peak_pct == 80
    # used fell back with a reset time far from the old one: a new window began early
    later = tracker.observe(frame(T0 + 2 * H, 5, T0 + 7 * H))
    assert [e.event for e in later] == ["closed", "opened"]
    assert later[0].window.peak_pct == 80 and later[0].reason.startswith("used fell back")
    assert len(first) == 2


def test_duplicates_and_out_of_order_frames_never_open_a_second_window() -> None:
    tracker = WindowTracker()
    reset = T0 + 3 * H
    body = frame(T0 + H, 30, reset)
    assert [e.event for e in tracker.observe(body)] == ["opened"]
    assert tracker.observe(body) == []
    assert tracker.observe(frame(T0, 20, reset)) == []  # older than what was seen
    assert tracker.observe(frame(T0 + H, 50, reset)) == []  # same time, other figure
    assert len(tracker.windows) == 1


def test_stale_figure_of_an_expired_window_closes_but_never_opens() -> None:
    tracker = WindowTracker()
    reset = T0 + H
    tracker.observe(frame(T0, 50, reset))
    out = tracker.observe(frame(T0 + 2 * H, 50, reset))  # the old card, still on screen
    assert [e.event for e in out] == ["closed"]
    assert tracker.open_windows() == []
    assert tracker.observe(frame(T0 + 3 * H, 50, reset)) == []


def test_expire_closes_by_clock_and_late_old_frame_does_not_reopen() -> None:
    tracker = WindowTracker()
    reset = T0 + H
    tracker.observe(frame(T0, 50, reset))
    closed = tracker.expire(T0 + 2 * H)
    assert [e.event for e in closed] == ["closed"]
    assert closed[0].window.closed_at == "2026-11-25T09:00:00.000Z"
    assert tracker.expire(T0 + 3 * H) == []
    # a frame observed before the close, delivered late, is the closed window's figure
    assert tracker.observe(frame(T0 + 0.5 * H, 55, reset)) == []


def test_scopes_and_weekly_are_separate_windows_and_estimates_ignored() -> None:
    tracker = WindowTracker()
    week = T0 + 72 * H
    body = stamp(
        parsed(
            [
                limit("5h", 10, T0 + H),
                limit("weekly", 40, week),
                limit("weekly", 12, week, scope="sonnet only"),
                limit("5h", 50, T0 + H, metric="tokens", estimate=True),
                limit("monthly", 5, week, scope="credits"),
                limit("5h", None),
            ],
            provider="claude",
            screen="claude.usage",
        )
    )
    opened = tracker.observe(body)
    assert sorted((e.window.window, e.window.scope or "") for e in opened) == [
        ("5h", ""),
        ("weekly", ""),
        ("weekly", "sonnet only"),
    ]


def test_restore_from_records_continues_without_reopening() -> None:
    tracker = WindowTracker()
    reset = T0 + 3 * H
    records = [e.to_record() for e in tracker.observe(frame(T0, 30, reset))]
    again = WindowTracker()
    for record in records:
        again.restore(record)
    assert again.observe(frame(T0, 30, reset)) == []
    out = again.observe(frame(T0 + H, 31, reset))
    assert [e.event for e in out] == ["updated"]
    assert out[0].window.window_id == records[0]["window_id"]


def test_reset_read_to_the_minute_or_to_the_second_is_the_same_window() -> None:
    tracker = WindowTracker()
    exact = T0 + 2 * H + dt.timedelta(seconds=37)
    tracker.observe(frame(T0, 30, exact))
    assert tracker.observe(frame(T0 + H, 30, T0 + 2 * H)) == []  # screen shows 10:00
    moved = tracker.observe(frame(T0 + 1.5 * H, 31, T0 + 3 * H))
    assert [e.event for e in moved] == ["updated"]
    assert moved[0].window.resets_at == "2026-11-25T11:00:00.000Z"
