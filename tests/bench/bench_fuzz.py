"""Fuzz figures per reader: inputs tried, crashes, wrong values (goal: 0 and 0).

Each reader gets COUNT mutated inputs built from the real fixture files (tests/fixtures):
truncation, bit flips, deleted/duplicated spans, huge numbers, dates at the edges of the
calendar, wrong types, odd values, deep nesting and, for one input in 50, a 10 MB line.
The checkers and mutations are the pytest suite's own (tests/robustness/fuzzing.py); the suite
runs 150 per reader, this runs more. It also times the screen parsers on one long line, which
the mutation run leaves out (a captured screen is width x height characters).

    .venv/bin/python tests/bench/bench_fuzz.py [--count N] [--seed S] [--long-line SIZES]
        [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.robustness import fuzzing

READERS = ("rollout", "statusline", "ccusage", "config", "frames", "screens")


def _parse_one(path: Path, size: int) -> float:
    text = path.read_text(encoding="utf-8", errors="replace") + "7" * size + "% used\n"
    started = time.process_time()
    fuzzing.check_screen(text)
    return time.process_time() - started


def _time_screen(path: Path, size: int, budget: float) -> float | None:
    """CPU seconds to parse ``path`` plus one long line, or None when over ``budget``."""
    with multiprocessing.Pool(1) as pool:
        pending = pool.apply_async(_parse_one, (path, size))
        try:
            return float(pending.get(timeout=budget))
        except multiprocessing.TimeoutError:
            pool.terminate()
            return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="inputs per reader")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--readers", nargs="*", default=list(READERS), choices=READERS)
    parser.add_argument(
        "--long-line", default="1000,10000,30000",
        help="comma-separated lengths of one digit line appended to a screen (timed)",
    )
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds one screen may take before it counts as stuck")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # skipped lines are logged by design; not the figure here
    print(f"{'reader':<11} {'tried':>7} {'ok':>7} {'refused':>8} {'crashes':>8} {'wrong':>6}"
          f" {'seconds':>8}")
    failed = False
    for reader in args.readers:
        started = time.perf_counter()
        tally = fuzzing.run_reader(reader, args.count, args.seed)
        seconds = time.perf_counter() - started
        print(f"{reader:<11} {tally.tried:>7} {tally.ok:>7} {tally.rejected:>8} "
              f"{tally.crashes:>8} {tally.wrong:>6} {seconds:>8.1f}", flush=True)
        for example in tally.examples:
            print(f"    {example}")
        failed = failed or bool(tally.crashes or tally.wrong)
    sizes = [int(size) for size in args.long_line.split(",") if size]
    if sizes:
        print(f"\nscreen parsers on one long line (a digit run ending in '% used'), each screen "
              f"in a child process stopped after {args.budget:.0f} s:")
    for size in sizes:
        worst, slowest, stuck = 0.0, "", []
        for path in fuzzing.SCREENS:
            seconds = _time_screen(path, size, args.budget)
            if seconds is None:
                stuck.append(path.name)
                failed = True
            elif seconds > worst:
                worst, slowest = seconds, path.name
        print(f"  {size:>7} chars: slowest {worst:.2f} s ({slowest}); over {args.budget:.0f} s: "
              f"{', '.join(stuck) or 'none'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
