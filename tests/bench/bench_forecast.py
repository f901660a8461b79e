"""Back-test of the run-out forecast (sinks/forecast.py) on simulated usage windows.

A simulated user burns a window at changing paces (work spells at 5-60 %/h, pace changes every
10-60 min, breaks of 5-40 min), and an agent shows the figure after each turn (every 1-4 min
while working) as a whole percentage, as Codex and Claude do. For every window that runs out
before its reset, the forecast is computed from the figures seen up to 60, 30 and 10 minutes
before the real run-out, and compared with it.

    python tests/bench/bench_forecast.py [--windows 2000] [--seed 1] [--lookbacks 20,45,90]

Prints, per lookback and horizon: how many forecasts gave a time, the median and 90th
percentile of the absolute error in minutes, the median signed error (positive = predicted
later than it happened), and how many said "lasts" or "too few points" although the window
ran out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sinks.forecast import Point, Series, forecast

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)
HORIZONS = (60, 30, 10)


def simulate(rng: random.Random, length_h: float) -> tuple[list[Point], dt.datetime | None]:
    """One window: the figures an agent shows, and when the true used % crossed 100."""
    minute = 0.0
    used = rng.uniform(0, 15)
    end = length_h * 60
    shown: list[Point] = []
    run_out: dt.datetime | None = None
    while minute < end and run_out is None:
        if rng.random() < 0.25:  # a break: no turns, no burn
            minute += rng.uniform(5, 40)
            continue
        pace = rng.uniform(5, 60) / 60  # % per minute
        spell_end = minute + rng.uniform(10, 60)
        while minute < min(spell_end, end):
            step = rng.uniform(1, 4)
            before = used
            used += pace * step * rng.uniform(0.5, 1.5)
            if used >= 100 and run_out is None:
                crossed = minute + step * (100 - before) / max(used - before, 1e-9)
                run_out = T0 + dt.timedelta(minutes=crossed)
            minute += step
            shown_pct = float(min(100, math.floor(used)))  # agents print whole percentages
            shown.append(Point(T0 + dt.timedelta(minutes=minute), shown_pct))
            if run_out is not None:
                break
    return shown, run_out


def backtest(
    windows: int, seed: int, lookback_min: int, length_h: float
) -> dict[int, dict[str, float]]:
    rng = random.Random(seed)
    resets = T0 + dt.timedelta(hours=length_h)
    errors: dict[int, list[float]] = {h: [] for h in HORIZONS}
    misses: dict[int, int] = dict.fromkeys(HORIZONS, 0)
    ran_out = 0
    for _ in range(windows):
        shown, run_out = simulate(rng, length_h)
        if run_out is None:
            continue
        ran_out += 1
        for horizon in HORIZONS:
            cut = run_out - dt.timedelta(minutes=horizon)
            series = Series()
            for point in shown:
                if point.at <= cut:
                    series.add(point.at, point.used_pct)
            result = forecast(series.points(), resets, dt.timedelta(minutes=lookback_min))
            if result.runs_out_at is None:
                misses[horizon] += 1
                continue
            errors[horizon].append((result.runs_out_at - run_out).total_seconds() / 60)
    table: dict[int, dict[str, float]] = {}
    for horizon in HORIZONS:
        errs = sorted(errors[horizon])
        absolute = sorted(abs(e) for e in errs)
        table[horizon] = {
            "ran_out": ran_out,
            "forecasts": len(errs),
            "misses": misses[horizon],
            "abs_p50": statistics.median(absolute) if absolute else math.nan,
            "abs_p90": absolute[int(0.9 * (len(absolute) - 1))] if absolute else math.nan,
            "signed_p50": statistics.median(errs) if errs else math.nan,
        }
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lookbacks", default="20,45,90,300")
    parser.add_argument("--hours", type=float, default=5.0, help="window length (5 or 168)")
    args = parser.parse_args()
    print(f"back-test: {args.windows} simulated {args.hours:g} h windows, seed {args.seed}")
    print("lookback  horizon  ran-out  forecasts  misses  |err| p50  |err| p90  signed p50 (min)")
    for lookback in (int(x) for x in args.lookbacks.split(",")):
        table = backtest(args.windows, args.seed, lookback, args.hours)
        for horizon, row in table.items():
            print(f"{lookback:>6}m  {horizon:>5}m  {row['ran_out']:>7.0f}  {row['forecasts']:>9.0f}"
                  f"  {row['misses']:>6.0f}  {row['abs_p50']:>9.1f}  {row['abs_p90']:>9.1f}"
                  f"  {row['signed_p50']:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
