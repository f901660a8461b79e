"""Redaction cost per screen: the detect-secrets catalogue against the hand-written list.

Run: ``.venv/bin/python tests/bench/bench_redact.py [--rounds N]``. For every real screen under
``tests/fixtures/screens`` (what the scraper redacts on every changed capture) it prints the
microseconds one :meth:`Redactor.redact` takes, and the same for the 14 hand-written patterns
panebus used before the catalogue (applied the way it applied them: one ``sub`` each), in the
same process. Times are CPU time of this process (``time.process_time``), best of ``--rounds``,
so other load on the machine inflates them less than wall time would. Also: the corpus screen
of ``tests/fixtures/secrets`` (76 secrets, boxed and wrapped) and a hostile 200 KB screen.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
import typing as t
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scraper.redact import Redactor
from tests import FIXTURES

#: The hand-written list the catalogue replaced (panebus before issue 13), as the baseline.
HAND_WRITTEN = (
    r"\bsk-ant-[A-Za-z0-9_\-]{8,}",
    r"\bsk-proj-[A-Za-z0-9_\-]{8,}",
    r"\bsk-(?:svcacct|admin|None)-[A-Za-z0-9_\-]{16,}",
    r"\bsk-(?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{20,}",
    r"\bgithub_pat_[A-Za-z0-9_]{20,}",
    r"\bgh[pousr]_[A-Za-z0-9]{20,}",
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b",
    r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{20,})",
    r"\bxox[abeoprs]-[A-Za-z0-9\-]{8,}",
    r"(?i)\bauthorization\s*:\s*bearer\s+(?P<secret>[A-Za-z0-9._~+/\-]+=*)",
    r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9._~+/\-]{20,}=*)",
    r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    r"\bAIza[0-9A-Za-z_\-]{35}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
)


#: Lines built to make regexes backtrack or to flood the redactor with matches.
HOSTILE = {
    "long lines of one letter": ("x" * 119 + "\n") * 1700,
    "'password=' repeated": "password=" * 20000,
    "'x_token: ' repeated (10,000 masks)": "x_token: " * 20000,
    "'//' repeated, then ':_authToken='": "//" * 50000 + "/:_authToken=",
    "'http://' then 'a:' repeated": "http://" + "a:" * 50000,
    "'Authorization: Bearer ' repeated": "Authorization: Bearer " * 5000,
    "'ibm_api_key = ' repeated": "ibm_api_key = " * 10000,
    "Twilio-like keys in one run": ("SK" + "0123456789abcdef" * 2) * 3000,
    "5,000 Anthropic-like keys": ("sk-ant-" + "a" * 30 + " ") * 5000,
}


class HandWritten:
    """The old redactor's loop: every pattern substituted over the whole text in turn."""

    def __init__(self) -> None:
        self.patterns = [re.compile(pattern) for pattern in HAND_WRITTEN]

    def redact(self, text: str) -> str:
        for pattern in self.patterns:
            text = pattern.sub("[REDACTED]", text)
        return text


def best_us(redact: t.Callable[[str], object], text: str, rounds: int, repeat: int) -> float:
    """Best CPU time of one call, in microseconds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(repeat):
            redact(text)
        best = min(best, (time.process_time() - start) / repeat)
    return best * 1e6


def corpus_screen() -> str:
    rows = [json.loads(line) for line in (FIXTURES / "secrets/corpus.jsonl").open()]
    width = 72
    lines = ["╭" + "─" * (width - 2) + "╮"]
    for row in rows:
        for part in row["line"].split("\n"):
            for start in range(0, len(part), width - 4):
                lines.append("│ " + part[start : start + width - 4].ljust(width - 4) + " │")
    lines.append("╰" + "─" * (width - 2) + "╯")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    screens = sorted((FIXTURES / "screens").glob("*/*.txt"))
    if not screens:
        print("fixtures missing: nothing to measure")
        return
    started = time.perf_counter()
    catalogue = Redactor()
    print(f"catalogue compiled in {(time.perf_counter() - started) * 1e3:.0f} ms (once a process)")
    old = HandWritten()
    print(f"{'screen':<72} {'chars':>6} {'hand-written':>12} {'catalogue':>10}  µs")
    news: list[float] = []
    olds: list[float] = []
    for path in screens:
        text = path.read_text(encoding="utf-8")
        before = best_us(old.redact, text, args.rounds, args.repeat)
        after = best_us(catalogue.redact, text, args.rounds, args.repeat)
        olds.append(before)
        news.append(after)
        print(f"{path.name:<72} {len(text):>6} {before:>12.0f} {after:>10.0f}")
    print(
        f"{'mean over ' + str(len(screens)) + ' screens':<72} {'':>6} "
        f"{statistics.mean(olds):>12.0f} {statistics.mean(news):>10.0f}"
    )
    print(
        f"{'median':<72} {'':>6} {statistics.median(olds):>12.0f} "
        f"{statistics.median(news):>10.0f}"
    )
    corpus = corpus_screen()
    masked = catalogue.redact(corpus).total
    print(
        f"corpus screen ({len(corpus)} chars, {masked} secrets masked): "
        f"{best_us(catalogue.redact, corpus, args.rounds, 10):.0f} µs"
    )
    print("hostile text (must stay near linear; ms):")
    for name, text in HOSTILE.items():
        cost = best_us(catalogue.redact, text, 3, 1) / 1e3
        print(f"  {name:<44} {len(text):>7} chars {cost:8.1f}")


if __name__ == "__main__":
    main()
