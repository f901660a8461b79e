"""Run-out forecasts: the method as a case table, and the sink on a real broker."""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import pytest

from bus.clock import parse_rfc3339, utcnow
from bus.publisher import Publisher
from bus.subscribers import Subscriber
from sinks.forecast import Point, Series, forecast, lookback_for
from sinks.forecast_sink import ForecastSink
from tests.sinks.frames import T0, limit, parsed, stamp
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.endpoints import Endpoints
    from tests.sinks.conftest import RunSink

M = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


class Case(t.NamedTuple):
    test_id: str
    points: list[tuple[int, float]]  # (minute, used %)
    resets_in_min: int | None
    status: str
    runs_out_min: float | None  # minutes after T0, when status is runs-out or full


CASES = [
    Case("steady-burn", [(0, 40), (10, 45), (20, 50)], 240, "runs-out", 120),
    Case("lasts-until-reset", [(0, 40), (10, 41), (20, 42)], 60, "lasts", None),
    Case("flat-is-no-burn", [(0, 40), (30, 40), (60, 40)], 240, "lasts", None),
    Case("one-point", [(0, 40)], 240, "too-few-points", None),
    Case("two-points", [(0, 40), (20, 50)], 240, "too-few-points", None),
    Case("span-too-short", [(0, 40), (1, 41), (2, 42)], 240, "too-few-points", None),
    Case("already-full", [(0, 90), (10, 95), (20, 100)], 240, "full", 20),
    Case("no-reset-known", [(0, 10), (10, 20), (20, 30)], None, "runs-out", 90),
    # the pace of the last 30 minutes counts, not the slow start of the window
    Case("pace-change", [(0, 10), (60, 12), (120, 14), (130, 24), (140, 34), (150, 44)], 300,
         "runs-out", 150 + 56 / 60 * 60),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_forecast_cases(case: Case) -> None:
    points = [Point(T0 + minute * M, used) for minute, used in case.points]
    resets = None if case.resets_in_min is None else T0 + case.resets_in_min * M
    result = forecast(points, resets, lookback_for("5h"))
    assert result.status == case.status
    if case.runs_out_min is None:
        assert result.runs_out_at is None
    else:
        assert result.runs_out_at is not None
        assert abs((result.runs_out_at - T0) / M - case.runs_out_min) < 0.5


def test_series_keeps_first_sighting_of_each_value_and_latest_of_the_last() -> None:
    series = Series()
    for minute, used in [(0, 10), (1, 10), (2, 10), (5, 11), (9, 11), (7, 99)]:
        series.add(T0 + minute * M, used)  # (7, 99) is out of order: ignored
    assert [(int((p.at - T0) / M), p.used_pct) for p in series.points()] == [
        (0, 10.0), (2, 10.0), (5, 11.0), (9, 11.0)]


def _codex(used: float, at: dt.datetime, resets: dt.datetime, **extra: t.Any) -> dict[str, t.Any]:
    body = parsed([limit("5h", used, resets)], at=at, confidence="official", kind="log",
                  screen="codex.rollout")
    body.update(extra)
    return body


def test_sink_forecasts_only_from_exact_figures_of_the_current_window() -> None:
    sink = ForecastSink()
    out: list[dict[str, t.Any]] = []
    resets = T0 + 4 * H
    for minute, used in [(0, 40), (10, 45), (20, 50)]:
        sink.handle("parsed.codex.rollout", stamp(_codex(used, T0 + minute * M, resets)),
                    lambda body, topic=None: out.append(body))
    # an estimate never moves the forecast
    guess = parsed([limit("5h", 99.0, resets, estimate=True)], at=T0 + 21 * M)
    sink.handle("parsed.codex.status", stamp(guess), lambda body, topic=None: out.append(body))
    last = out[-1]
    assert last["status"] == "runs-out" and last["points"] == 3
    assert parse_rfc3339(last["runs_out_at"]) == T0 + 120 * M
    # a reset: the new window starts from nothing, the old points are gone
    after = T0 + 5 * H
    sink.handle("parsed.codex.rollout", stamp(_codex(3, after, after + 5 * H)),
                lambda body, topic=None: out.append(body))
    assert out[-1]["status"] == "too-few-points" and out[-1]["points"] == 1


def test_forecast_is_published_and_cached_on_a_real_broker(
    endpoints: Endpoints, run_sink: RunSink
) -> None:
    run_sink("forecast")
    now = utcnow()
    start = now - 20 * M
    resets = now + 4 * H
    with Publisher(endpoints, name="rollout") as pub:
        assert pub.wait_ready(timeout=5.0)
        for minute, used in [(0, 40), (10, 45), (20, 50)]:
            pub.send(_codex(used, start + minute * M, resets))
        with Subscriber(endpoints, prefixes=["forecast."], name="watch") as watch:
            seen: list[dict[str, t.Any]] = []

            def runs_out() -> bool:
                item = watch.recv(timeout=0.1)
                if item is not None:
                    assert item[0] == "forecast.codex.5h"
                    seen.append(item[1])
                return bool(seen) and seen[-1]["status"] == "runs-out"

            wait_for(runs_out, message="a runs-out forecast")
    # a late subscriber gets the cached forecast at once
    with Subscriber(endpoints, prefixes=["forecast."], name="late") as late:
        item = wait_for(lambda: late.recv(timeout=0.1), message="the cached forecast")
    assert item is not None and item[1]["runs_out_at"] == seen[-1]["runs_out_at"]
    assert abs(parse_rfc3339(item[1]["runs_out_at"]) - (now + 100 * M)) < M


def test_forecast_cli_prints_the_cached_forecasts(
    endpoints: Endpoints, run_sink: RunSink
) -> None:
    from tests.bus.test_cli import panebus

    assert panebus("forecast", "--timeout", "0.5").returncode == 1  # nothing yet
    run_sink("forecast")
    now = utcnow()
    with Publisher(endpoints, name="rollout") as pub, Subscriber(
        endpoints, prefixes=["forecast."], name="watch"
    ) as watch:
        assert pub.wait_ready(timeout=5.0)
        for minute, used in [(0, 40), (10, 45), (20, 50)]:
            pub.send(_codex(used, now - 20 * M + minute * M, now + 4 * H))
        wait_for(lambda: (item := watch.recv(timeout=0.1)) is not None
                 and item[1]["points"] == 3, message="the third point's forecast")
    shown = panebus("forecast")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("codex 5h 50% · 30.0%/h · runs out ~")
    assert "3 points over 20 min" in shown.stdout
    as_json = panebus("forecast", "--json")
    (record,) = [json.loads(x) for x in as_json.stdout.splitlines()]
    assert record["topic"] == "forecast.codex.5h" and record["status"] == "runs-out"


def test_alias_line_shows_the_run_out_time(
    endpoints: Endpoints, run_sink: RunSink, sinks_config: t.Any
) -> None:
    from sinks.alias_cache import read_alias

    run_sink("forecast")
    run_sink("alias")
    now = utcnow()
    with Publisher(endpoints, name="rollout") as pub:
        assert pub.wait_ready(timeout=5.0)
        for minute, used in [(0, 40), (10, 45), (20, 50)]:
            pub.send(_codex(used, now - 20 * M + minute * M, now + 4 * H))

        def line() -> str:
            return " ".join(read_alias(sinks_config.alias_dir, "occ") or [])

        wait_for(lambda: "runs out ~" in line(), message="the forecast in occ")
    assert line().startswith("codex 5h 50% (resets ") and ", runs out ~" in line()


def test_window_log_keeps_each_forecast_and_a_restart_ignores_them(
    endpoints: Endpoints, run_sink: RunSink, sinks_config: t.Any
) -> None:
    from sinks.windows_sink import WindowsSink, read_window_log

    run_sink("forecast")
    run_sink("windows")
    now = utcnow()
    with Publisher(endpoints, name="rollout") as pub:
        assert pub.wait_ready(timeout=5.0)
        for minute, used in [(0, 40), (10, 45), (20, 50)]:
            pub.send(_codex(used, now - 20 * M + minute * M, now + 4 * H))

        def forecasts() -> list[dict[str, t.Any]]:
            return [r for r in read_window_log(sinks_config.window_log)
                    if r["event"] == "forecast"]

        wait_for(lambda: any(r["status"] == "runs-out" for r in forecasts()),
                 message="a runs-out forecast in the window log")
    assert forecasts()[-1]["window_id"].startswith("codex/5h/")
    again = WindowsSink(sinks_config.window_log)  # a restart rebuilds from the log
    assert [w.used_pct for w in again.tracker.open_windows()] == [50.0]
