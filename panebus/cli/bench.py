"""``panebus bench``: run the benchmarks of tests/bench/ in one run and print their figures.

Benchmarks live with the tests (they need the same fixtures and a source checkout); this verb
finds them next to the installed package and runs each in its own interpreter so one does not
skew the next.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

BENCH_DIR = Path(__file__).resolve().parents[2] / "tests" / "bench"
#: Scenario names that run ``bench_load.py --scenario NAME`` (CPU, captures, archive, latency).
LOAD_SCENARIOS = ("working", "many", "idle")


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "bench", help="run the benchmarks (bus, scraper, sinks) and print the figures",
        description="Run tests/bench/bench_*.py from a source checkout, one after another.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="only these benchmarks (bus, scraper, sinks, …) or load "
                        "scenarios: working (10 agents redrawing every 0.1 s), many (200 panes "
                        "redrawing every second), idle (20 idle panes)")
    return parser


def run(args: argparse.Namespace) -> int:
    if not BENCH_DIR.is_dir():
        print(f"panebus bench: no benchmarks at {BENCH_DIR} (needs a source checkout)")
        return 1
    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    commands = [[str(script)] for script in scripts]
    if args.names:
        scenarios = [name for name in args.names if name in LOAD_SCENARIOS]
        commands = [[str(s)] for s in scripts if s.stem.removeprefix("bench_") in args.names]
        if scenarios:
            load = str(BENCH_DIR / "bench_load.py")
            commands.append([load, *(f"--scenario={name}" for name in scenarios)])
    if not commands:
        print("panebus bench: no matching benchmark")
        return 1
    status = 0
    for command in commands:
        print(f"== {Path(command[0]).stem} {' '.join(command[1:])}".rstrip(), flush=True)
        result = subprocess.run([sys.executable, *command], check=False,
                                cwd=BENCH_DIR.parent.parent)
        status = status or result.returncode
    return status
