"""ccusage --json reports (17.x, 18.x, 20.x; Claude and Codex) → normalized period totals."""

from __future__ import annotations

import typing as t

import orjson
import pytest

from bus.frames import validate
from scraper.sources.ccusage import ReportError, is_report, usages_from_report
from scraper.sources.publish import parsed_body
from tests import FIXTURES

REPORTS = FIXTURES / "reports"


def report(name: str) -> t.Any:
    return orjson.loads((REPORTS / name).read_bytes())


class ReportCase(t.NamedTuple):
    test_id: str
    file: str
    screen: str
    agent: str
    periods: list[tuple[str, str | None, str | None, int, float]]  # key, start, end, total, cost
    totals: dict[str, t.Any] | None


REPORT_CASES = [
    ReportCase(
        "17.2.1-blocks-active",
        "ccusage-17.2.1-blocks-active.json",
        "ccusage.blocks.claude",
        "claude",
        [("2026-11-25T03:00:00.000Z", "2026-11-25T03:00:00+00:00", "2026-11-25T08:00:00+00:00",
          42979854, 1.1723809)],
        None,
    ),
    ReportCase(
        "18.0.11-weekly",
        "ccusage-18.0.11-weekly.json",
        "ccusage.weekly.claude",
        "claude",
        [
            ("2026-11-15", "2026-11-15", "2026-11-21", 107352323, 43.90708715),
            ("2026-11-22", "2026-11-22", "2026-11-28", 178607667, 80.97656134999998),
        ],
        {"input_tokens": 8207, "output_tokens": 609843, "cache_creation_tokens": 5845634,
         "cache_read_tokens": 279496306, "reasoning_output_tokens": None,
         "total_tokens": 285959990, "cost_usd": 124.88364849999999},
    ),
    ReportCase(
        "20.0.24-codex-daily",
        "ccusage-20.0.24-codex-daily.json",
        "ccusage.daily.codex",
        "codex",
        [
            ("2026-11-22", "2026-11-22", "2026-11-22", 693151, 0.7056408750000001),
            ("2026-11-24", "2026-11-24", "2026-11-24", 747986, 0.8410896250000001),
            ("2026-11-25", "2026-11-25", "2026-11-25", 1296237, 1.3772143749999999),
        ],
        {"input_tokens": 735862, "output_tokens": 177613, "cache_creation_tokens": 0,
         "cache_read_tokens": 1823899, "reasoning_output_tokens": 77402,
         "total_tokens": 2737374, "cost_usd": 2.923944875},
    ),
    ReportCase(
        "20.0.24-daily-all-agents",
        "ccusage-20.0.24-daily.json",
        "ccusage.daily.all",
        "all",
        [
            ("2026-11-19", "2026-11-19", "2026-11-19", 43395582, 20.289028249999976),
            ("2026-11-20", "2026-11-20", "2026-11-20", 27525595, 10.714319700000006),
            ("2026-11-21", "2026-11-21", "2026-11-21", 36767218, 18.02091920000001),
            ("2026-11-22", "2026-11-22", "2026-11-22", 17714079, 7.3632102249999996),
            ("2026-11-23", "2026-11-23", "2026-11-23", 23800196, 10.863999699999997),
            ("2026-11-24", "2026-11-24", "2026-11-24", 95970416, 50.65940867500004),
            ("2026-11-25", "2026-11-25", "2026-11-25", 44421402, 24.333657624999994),
        ],
        {"input_tokens": 744069, "output_tokens": 1684580, "cache_creation_tokens": 5845634,
         "cache_read_tokens": 281320205, "reasoning_output_tokens": None,
         "total_tokens": 289594488, "cost_usd": 142.244543375},
    ),
]


@pytest.mark.parametrize("case", REPORT_CASES, ids=[c.test_id for c in REPORT_CASES])
def test_fixture_report_totals(case: ReportCase) -> None:
    obj = report(case.file)
    assert is_report(obj)
    [usage] = usages_from_report(obj)
    assert (usage.provider, usage.screen) == ("ccusage", case.screen)
    assert usage.limits == []
    assert usage.extra["agent"] == case.agent
    periods = usage.extra["periods"]
    got = [(p["period"], p["start"], p["end"], p["total_tokens"], p["cost_usd"]) for p in periods]
    assert got == case.periods
    assert usage.extra["totals"] == case.totals
    body = parsed_body(usage, "report", "parsed")
    body.update(v=1, id="x", seq=0, producer="h:1:t", observed_at="2026-11-25T10:00:00.000Z")
    validate(body)


def test_block_details_and_20x_row_agents() -> None:
    [blocks] = usages_from_report(report("ccusage-17.2.1-blocks-active.json"))
    block = blocks.extra["periods"][0]
    assert block["input_tokens"] == 1262
    assert block["cache_creation_tokens"] == 857041
    assert block["cache_read_tokens"] == 42028638
    assert block["is_active"] is True
    assert block["actual_end"] == "2026-11-25T06:31:02.258000+00:00"
    assert block["projection"] == {
        "totalTokens": 62400428, "totalCost": 1.7, "remainingMinutes": 82,
    }
    [daily] = usages_from_report(report("ccusage-20.0.24-daily.json"))
    agents = {p["period"]: p["agent"] for p in daily.extra["periods"]}
    assert agents["2026-11-19"] == "claude"
    assert agents["2026-11-22"] == "all"
    day = daily.extra["periods"][3]
    assert day["models"] == ["claude-haiku-4-5-20251001", "claude-sonnet-4-6", "gpt-5-codex"]
    assert (day["input_tokens"], day["cache_read_tokens"]) == (159388, 17056827)


def test_older_codex_shape_splits_cached_input_and_reads_locale_dates() -> None:
    # @ccusage/codex before 20.x: locale dates, cachedInputTokens counted inside inputTokens.
    obj = {
        "daily": [{
            "date": "Sep 11, 2025", "inputTokens": 1400, "cachedInputTokens": 300,
            "outputTokens": 700, "reasoningOutputTokens": 50, "totalTokens": 2100,
            "costUSD": 0.0123,
            "models": {"gpt-5": {"inputTokens": 1400, "isFallback": False}},
        }],
        "totals": {"inputTokens": 1400, "cachedInputTokens": 300, "outputTokens": 700,
                   "reasoningOutputTokens": 50, "totalTokens": 2100, "costUSD": 0.0123},
    }
    [usage] = usages_from_report(obj)
    assert usage.screen == "ccusage.daily.codex"
    [period] = usage.extra["periods"]
    assert (period["period"], period["period_text"]) == ("2025-09-11", "Sep 11, 2025")
    assert (period["input_tokens"], period["cache_read_tokens"]) == (1100, 300)
    assert period["models"] == ["gpt-5"]
    assert usage.extra["totals"]["input_tokens"] == 1100


@pytest.mark.parametrize(
    ("month", "key", "end"),
    [("2025-09", "2025-09", "2025-09-30"), ("Feb 2024", "2024-02", "2024-02-29"),
     ("December 2026", "2026-12", "2026-12-31")],
)
def test_monthly_periods(month: str, key: str, end: str) -> None:
    [usage] = usages_from_report({"monthly": [{"month": month, "totalTokens": 5, "totalCost": 1}]})
    [period] = usage.extra["periods"]
    assert (period["period"], period["end"]) == (key, end)


def test_session_rows_claude_and_codex() -> None:
    obj = {"sessions": [
        {"sessionId": "-home-u-app", "projectPath": "/home/u/app", "lastActivity": "2026-11-24",
         "inputTokens": 1, "outputTokens": 2, "cacheCreationTokens": 3, "cacheReadTokens": 4,
         "totalTokens": 10, "totalCost": 0.5, "modelsUsed": ["claude-opus-4-7"]},
    ]}
    [usage] = usages_from_report(obj)
    assert usage.screen == "ccusage.session.claude"
    [period] = usage.extra["periods"]
    assert (period["period"], period["end"], period["project"]) == (
        "-home-u-app", "2026-11-24", "/home/u/app")
    codex = {"sessions": [{"sessionId": "019a", "lastActivity": "2026-11-24T10:00:00.000Z",
                           "directory": "/w", "inputTokens": 10, "cachedInputTokens": 4,
                           "outputTokens": 1, "reasoningOutputTokens": 0, "totalTokens": 11,
                           "costUSD": 0.1, "models": {}}]}
    [usage] = usages_from_report(codex)
    assert usage.screen == "ccusage.session.codex"
    assert usage.extra["periods"][0]["end"] == "2026-11-24T10:00:00+00:00"


def test_empty_report_has_no_agent_guess() -> None:
    [usage] = usages_from_report({"daily": [], "totals": None})
    assert usage.extra["agent"] == "unknown"
    assert usage.extra["periods"] == []


@pytest.mark.parametrize("obj", [[], "x", {}, {"daily": "nope"}, {"other": []}])
def test_not_a_report_is_a_clear_error(obj: object) -> None:
    assert not is_report(obj)
    with pytest.raises(ReportError, match="ccusage"):
        usages_from_report(obj)
