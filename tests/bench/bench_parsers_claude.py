"""Parse cost of the Claude Code and claude-monitor screens, typical and adversarial.

Run: ``.venv/bin/python tests/bench/bench_parsers_claude.py``. Prints microseconds per parse
for the real fixtures (what the scraper does on every changed capture) and milliseconds for
hostile inputs (100,000-character lines, 100,000 lines) that must stay linear.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scraper.parsers.registry import parse_screen
from tests import FIXTURES

SEEN = dt.datetime(2026, 11, 25, 6, 39, 11, tzinfo=dt.timezone.utc)


def _per_call(text: str, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        parse_screen(text, SEEN, dt.timezone.utc)
    return (time.perf_counter() - start) / repeat


def main() -> None:
    screens = sorted((FIXTURES / "screens" / "claude").glob("*.txt"))
    if not screens:
        print("fixtures missing: nothing to measure")
        return
    print("real screens (registry.parse_screen, detection included):")
    for path in screens:
        text = path.read_text(encoding="utf-8")
        print(f"  {path.name:<55} {_per_call(text, 200) * 1e6:9.0f} µs")
    hostile = {
        "100,000 lines of prose": "\n".join(f"line {i} · 12% used" for i in range(100_000)),
        "one 200,000-cell bar": "█" * 200_000,
        "100,000 separators": "· " * 100_000,
        "spaces inside a field": "Model:" + " x" * 50_000 + " " * 50_000 + "y",
        "300 stacked /usage cards": (screens[-1].read_text(encoding="utf-8")) * 300,
    }
    print("hostile inputs (must stay linear):")
    for name, text in hostile.items():
        print(f"  {name:<55} {_per_call(text, 1) * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
