"""Codex rollout logs → exact figures: every fixture file and every edge-case line."""

from __future__ import annotations

import datetime as dt
import typing as t

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.clock import UTC, parse_rfc3339
from bus.frames import validate
from scraper.sources.publish import earliest_reset
from scraper.sources.rollout import (
    RolloutState,
    usage_from_rollout_lines,
    usage_from_token_count,
    window_for_minutes,
)
from scraper.sources.rollout_tailer import rollout_frame
from tests import FIXTURES

ROLLOUT = FIXTURES / "codex" / "rollout"
EDGE = ROLLOUT / "edge-cases" / "token_count-variants.jsonl"
SESSIONS = ROLLOUT / "sessions"



def utc(text: str) -> dt.datetime:
    return parse_rfc3339(text)


def epoch(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


Fig = tuple[str, "str | None", float, "dt.datetime | None"]


def figures(usage: t.Any) -> list[Fig]:
    return [(lim.window, lim.scope, lim.used_pct, lim.resets_at) for lim in usage.limits]


def session_file(prefix: str) -> t.Any:
    matches = sorted(SESSIONS.rglob(f"rollout-{prefix}*.jsonl"))
    assert len(matches) == 1, matches
    return matches[0]


def edge_line(number: int) -> dict[str, t.Any]:
    lines = EDGE.read_text(encoding="utf-8").splitlines()
    return t.cast("dict[str, t.Any]", orjson.loads(lines[number - 1]))


class SessionCase(t.NamedTuple):
    test_id: str
    prefix: str
    version: str
    model: str | None
    limits: list[Fig]
    credits: dict[str, t.Any] | None
    warnings: list[str]
    observed_at: str


SESSION_CASES = [
    SessionCase(
        "0.46-resets-in-seconds-299-10079",
        "2025-10-14",
        "0.46.0",
        "gpt-5-codex",
        [
            # 14:52:43.702Z + 9101 s and + 386813 s: relative to the line where this snapshot
            # first appeared (14:52:51.031 re-logs the same snapshot)
            ("5h", None, 23.0, utc("2025-10-14T17:24:24.702000Z")),
            ("weekly", None, 42.0, utc("2025-10-19T02:19:36.702000Z")),
        ],
        None,
        [],
        "2025-10-14T14:52:51.031Z",
    ),
    SessionCase(
        "0.100-resets-at-credits",
        "2026-02-18",
        "0.100.0",
        "gpt-5.3-codex",
        [
            ("5h", None, 61.0, epoch(1771412400)),
            ("weekly", None, 88.0, epoch(1771660800)),
        ],
        {"has_credits": True, "unlimited": False, "balance": "120"},
        [],
        "2026-02-18T09:04:29.552Z",
    ),
    SessionCase(
        "0.169-limit-hit",
        "2026-11-03",
        "0.169.0",
        None,  # no turn_context in this log: the model is not invented
        [
            ("5h", None, 100.0, utc("2026-11-03T17:58:00Z")),  # "try again at 6:58 PM" (UTC+1)
            ("weekly", None, 57.0, epoch(1794038400)),
        ],
        {"has_credits": False, "unlimited": False, "balance": None},
        [
            "You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), "
            "visit https://chatgpt.com/settings/usage to purchase more credits or try again "
            "at 6:58 PM."
        ],
        "2026-11-03T17:20:05.455Z",
    ),
]


@pytest.mark.parametrize("case", SESSION_CASES, ids=[c.test_id for c in SESSION_CASES])
def test_session_fixture_last_token_count_wins(case: SessionCase) -> None:
    path = session_file(case.prefix)
    usage = usage_from_rollout_lines(path.read_text(encoding="utf-8").splitlines())
    assert usage is not None
    assert (usage.provider, usage.screen) == ("codex", "codex.rollout")
    assert usage.version == case.version
    assert usage.model == case.model
    assert figures(usage) == case.limits
    assert usage.extra["credits"] == case.credits
    assert usage.warnings == case.warnings
    assert usage.extra["observed_at"] == case.observed_at
    assert all(limit.metric == "quota" and not limit.estimate for limit in usage.limits)


def test_first_turn_of_limit_hit_session_reads_96_percent() -> None:
    lines = session_file("2026-11-03").read_text(encoding="utf-8").splitlines()
    usage = usage_from_rollout_lines(lines[:8])
    assert usage is not None
    assert figures(usage)[0] == ("5h", None, 96.0, utc("2026-11-03T17:58:00Z"))
    assert usage.warnings == []


class EdgeCase(t.NamedTuple):
    test_id: str
    line: int
    limits: list[tuple[str, str | None, float, dt.datetime | None, float | None, float | None]]
    credits: dict[str, t.Any] | None
    plan_type: str | None


EDGE_CASES = [
    EdgeCase("1-no-rate-limits-key", 1, [], None, None),
    EdgeCase(
        "2-flat-0.40", 2,
        [("5h", None, 22.0, None, None, None), ("weekly", None, 9.0, None, None, None)],
        None, None,
    ),
    EdgeCase(
        "3-resets-in-seconds", 3,
        [
            ("5h", None, 0.0, utc("2025-10-02T14:49:48Z"), None, None),
            ("weekly", None, 7.0, utc("2025-10-08T02:27:25Z"), None, None),
        ],
        None, None,
    ),
    EdgeCase(
        "4-resets-at", 4,
        [
            ("5h", None, 48.0, epoch(1761829200), None, None),
            ("weekly", None, 12.0, epoch(1762300800), None, None),
        ],
        None, None,
    ),
    EdgeCase(
        "5-credits", 5,
        [
            ("5h", None, 5.0, epoch(1764082800), None, None),
            ("weekly", None, 30.0, epoch(1764504000), None, None),
        ],
        {"has_credits": False, "unlimited": False, "balance": "0"}, None,
    ),
    EdgeCase(
        "6-monthly-secondary-null", 6,
        [("monthly", None, 55.0, epoch(1771322400), None, None)], None, "team",
    ),
    EdgeCase(
        "7-limit-id-codex", 7,
        [
            ("5h", None, 3.0, epoch(1771599600), None, None),
            ("weekly", None, 64.0, epoch(1771840800), None, None),
        ],
        {"has_credits": True, "unlimited": False, "balance": "87"}, "plus",
    ),
    EdgeCase(
        "8-full-0.169", 8,
        [
            ("5h", None, 12.0, epoch(1795651200), None, None),
            ("weekly", None, 40.0, epoch(1796040000), None, None),
        ],
        {"has_credits": False, "unlimited": False, "balance": None}, None,
    ),
    EdgeCase(
        "9-other-family-scoped", 9,
        [
            ("5h", "gpt-5.3-codex-spark", 5.0, epoch(1795654800), None, None),
            ("weekly", "gpt-5.3-codex-spark", 2.0, epoch(1796083200), None, None),
        ],
        None, None,
    ),
    EdgeCase("10-rate-limits-null", 10, [], None, None),
    EdgeCase(
        "11-enterprise-individual-limit", 11,
        [("monthly", "credits", 32.0, epoch(1796860800), 8000.0, 25000.0)],
        {"has_credits": True, "unlimited": True, "balance": None}, "enterprise",
    ),
]


@pytest.mark.parametrize("case", EDGE_CASES, ids=[c.test_id for c in EDGE_CASES])
def test_edge_case_line(case: EdgeCase) -> None:
    usage = usage_from_token_count(edge_line(case.line))
    assert usage is not None
    got = [
        (lim.window, lim.scope, lim.used_pct, lim.resets_at, lim.used, lim.limit)
        for lim in usage.limits
    ]
    assert got == case.limits
    assert usage.extra.get("credits") == case.credits
    assert usage.extra.get("plan_type") == case.plan_type


def test_other_family_never_hides_the_main_limits() -> None:
    state = RolloutState()
    for number in (8, 9, 10):  # main, then codex_bengalfox only, then rate_limits null
        state.feed(edge_line(number))
    usage = state.usage()
    assert usage is not None
    assert figures(usage) == [
        ("5h", None, 12.0, epoch(1795651200)),
        ("weekly", None, 40.0, epoch(1796040000)),
        ("5h", "gpt-5.3-codex-spark", 5.0, epoch(1795654800)),
        ("weekly", "gpt-5.3-codex-spark", 2.0, epoch(1796083200)),
    ]


def test_resets_in_seconds_uses_observed_at_when_line_has_no_timestamp() -> None:
    payload = edge_line(3)["payload"]
    usage = usage_from_token_count(payload, observed_at=utc("2026-01-01T00:00:00Z"))
    assert usage is not None
    assert usage.limits[0].resets_at == utc("2026-01-01T00:00:00Z") + dt.timedelta(seconds=17388)
    bare = usage_from_token_count(payload)
    assert bare is not None
    assert bare.limits[0].resets_at is None  # no reference time: unknown, not guessed


def test_not_a_token_count_is_none() -> None:
    meta = {"timestamp": "2026-01-01T00:00:00Z", "type": "session_meta", "payload": {}}
    assert usage_from_token_count(meta) is None
    assert usage_from_rollout_lines([]) is None
    assert usage_from_rollout_lines(["", "not json", "[1, 2]"]) is None


def test_usage_limit_error_is_cleared_by_a_newer_token_count() -> None:
    lines = session_file("2026-11-03").read_text(encoding="utf-8").splitlines()
    later = dict(edge_line(8), timestamp="2026-11-03T23:00:00.000Z")
    usage = usage_from_rollout_lines([*lines, orjson.dumps(later).decode()])
    assert usage is not None
    assert usage.warnings == []
    assert figures(usage)[0][2] == 12.0


@pytest.mark.parametrize(
    ("minutes", "window"),
    [(299, "5h"), (300, "5h"), (10079, "weekly"), (10080, "weekly"), (1440, "daily"),
     (43200, "monthly"), (60, "other"), (None, "other"), (True, "other"), ("300", "other")],
)
def test_window_names_are_tolerant(minutes: object, window: str) -> None:
    assert window_for_minutes(minutes) == window


def test_rollout_frame_is_a_valid_official_log_frame() -> None:
    usage = usage_from_rollout_lines(
        session_file("2026-02-18").read_text(encoding="utf-8").splitlines()
    )
    assert usage is not None
    body = rollout_frame(usage)
    body.update(v=1, id="x", seq=0, producer="h:1:t")
    validate(body)
    assert body["source"] == {"kind": "log", "confidence": "official"}
    assert body["observed_at"] == "2026-02-18T09:04:29.552Z"
    assert body["stale_after"] == earliest_reset(usage) == "2026-02-18T11:00:00.000Z"
    assert body["screen"] == "codex.rollout"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(
        st.sampled_from(["type", "payload", "rate_limits", "primary", "secondary", "used_percent",
                         "window_minutes", "resets_at", "resets_in_seconds", "limit_id",
                         "limit_name", "timestamp", "info", "individual_limit", "credits",
                         "remaining_percent", "error", "codex_error_info", "model"]),
        children, max_size=5,
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_arbitrary_json_never_raises(obj: t.Any) -> None:
    state = RolloutState()
    if isinstance(obj, dict):
        state.feed(obj)
        state.feed({"type": "event_msg", "payload": {"type": "token_count", **obj}})
    usage = state.usage()
    for limit in usage.limits if usage else []:
        assert limit.used_pct is not None


def test_absurd_relative_reset_is_unknown_not_a_crash() -> None:
    line = {
        "timestamp": "2026-01-01T00:00:00Z", "type": "event_msg",
        "payload": {"type": "token_count", "rate_limits": {
            "primary": {"used_percent": 1.0, "window_minutes": 300, "resets_in_seconds": 1e300},
        }},
    }
    usage = usage_from_token_count(line)
    assert usage is not None
    assert [(lim.window, lim.used_pct, lim.resets_at) for lim in usage.limits] == [
        ("5h", 1.0, None)
    ]
