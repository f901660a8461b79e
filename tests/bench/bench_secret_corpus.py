"""The secret corpus at scale: fresh random secrets of every kind, in every layout, masked?

Run: ``.venv/bin/python tests/bench/bench_secret_corpus.py [--rounds N] [--seed S]``. Each round
takes every row of ``tests/fixtures/secrets/corpus.jsonl`` and draws a new secret of the same
shape (its first 8 characters kept — the prefix that names the kind — and its last 5, and every
other letter or digit replaced by one of the same class, hex staying hex), puts it on screen in the
four layouts of ``tests/scraper/test_redact_corpus.py`` (plain, boxed, split in a box,
soft-wrapped) and redacts it. Prints how many were masked whole (no 8-character piece left)
and which kinds missed, if any. The suite runs the fixed corpus through real tmux panes; this
is the larger run by hand.
"""

from __future__ import annotations

import argparse
import collections
import random
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scraper.redact import Redactor
from tests.scraper.test_redact_corpus import LAYOUTS, Secret, corpus, leaks

KEEP = 8  # the prefix that names a kind (sk-ant-a, glpat-Zq, AKIA…) is kept…
KEEP_LONGER = {"pypi": 20, "age": 16}  # …longer where the kind's literal prefix is
KEEP_END = 5  # and the end (Mailchimp's -us12, base64 padding)


def mutate(secret: Secret, draw: random.Random) -> Secret:
    """The same shape with new random characters."""
    chars = list(secret.secret)
    for index in range(KEEP_LONGER.get(secret.kind, KEEP), len(chars) - KEEP_END):
        char = chars[index]
        if char in "abcdef":
            chars[index] = draw.choice("abcdef")
        elif char in "ABCDEF":
            chars[index] = draw.choice("ABCDEF")
        elif char.isdigit():
            chars[index] = draw.choice(string.digits)
        elif char.islower():
            chars[index] = draw.choice(string.ascii_lowercase)
        elif char.isupper():
            chars[index] = draw.choice(string.ascii_uppercase)
    fresh = "".join(chars)
    return Secret(secret.kind, secret.line.replace(secret.secret, fresh), fresh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    draw = random.Random(args.seed)
    redactor = Redactor()
    rows = corpus()
    checked = 0
    missed: collections.Counter[str] = collections.Counter()
    started = time.process_time()
    for _ in range(args.rounds):
        for row in rows:
            secret = mutate(row, draw)
            for layout in LAYOUTS:
                checked += 1
                text = redactor.redact(layout(secret.line, secret.secret)).text
                if leaks(secret.secret, text):
                    missed[f"{secret.kind}/{layout.__name__}"] += 1
    spent = time.process_time() - started
    masked = checked - sum(missed.values())
    print(
        f"{checked} secrets on screen ({len(rows)} kinds x 4 layouts x {args.rounds} rounds): "
        f"{masked} masked whole ({100 * masked / checked:.2f} %), {spent:.1f} s CPU"
    )
    for what, count in missed.most_common():
        print(f"  missed {count:>4}  {what}")


if __name__ == "__main__":
    main()
