"""Fuzz figures per reader: inputs tried, crashes, wrong values (goal: 0 and 0).

Each reader gets COUNT mutated inputs built from the real fixture files (tests/fixtures):
truncation, bit flips, deleted/duplicated spans, huge numbers, dates at the edges of the
calendar, wrong types, odd values, deep nesting and, for one input in 50, a 10 MB line.
The checkers and mutations are the pytest suite's own (tests/robustness/fuzzing.py); the suite
runs 150 per reader, this runs more. It also times the screen parsers on one long line, which
the mutation run leaves out (a captured screen is width x height characters).

    .venv/bin/python tests/bench/bench_fuzz.py [--count N] [--seed S] [--long-line SIZES]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.robustness import fuzzing

READERS = ("rollout", "statusline", "ccusage", "config", "frames", "screens")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="inputs per reader")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--readers", nargs="*", default=list(READERS), choices=READERS)
    parser.add_argument(
        "--long-line", default="1000,10000,30000",
        help="comma-separated lengths of one digit line appended to a screen (timed)",
    )
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
        print("\nscreen parsers on one long line (a digit run ending in '% used'):")
    for size in sizes:
        worst = 0.0
        for path in fuzzing.SCREENS:
            text = path.read_text(encoding="utf-8", errors="replace") + "7" * size + "% used\n"
            started = time.perf_counter()
            outcome, why = fuzzing.check_screen(text)
            worst = max(worst, time.perf_counter() - started)
            if outcome in ("crash", "wrong"):
                print(f"    {outcome} on {path.name}: {why}")
                failed = True
        screens = len(fuzzing.SCREENS)
        print(f"  {size:>7} chars: slowest screen {worst:.2f} s over {screens} screens", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
