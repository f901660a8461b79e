"""A bad config file stops ``up``, ``scrape``, ``probe`` and ``doctor`` with one line, exit 2.

Real ``panebus`` processes with the test's private PANEBUS_HOME and its config file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from bus.paths import Paths

PANEBUS = Path(sys.executable).with_name("panebus")
VERBS = (("up", "--no-broker"), ("scrape", "--once"), ("probe", "codex"), ("doctor",))


class Case(t.NamedTuple):
    test_id: str
    toml: str
    line: str  # what the one line on stderr says


CASES = [
    Case(
        "typo-section",
        "[scrapper]\nsweep_interval = 5\n",
        "unknown key 'scrapper' (did you mean 'scraper'?)",
    ),
    Case(
        "typo-key",
        "[scraper.output]\ndebounse = 0.1\n",
        "scraper.output: unknown key 'debounse' (did you mean 'debounce'?)",
    ),
    Case(
        "typo-sinks",
        "[sinks.archive]\nmax_age_day = 3\n",
        "sinks.archive: unknown key 'max_age_day' (did you mean 'max_age_days'?)",
    ),
    Case(
        "typo-bus",
        '[bus]\npublsh = "ipc:///tmp/x"\n',
        "bus: unknown key 'publsh' (did you mean 'publish'?)",
    ),
    Case("nan", "[scraper]\nstale_after = nan\n", "stale_after must be a positive number"),
    Case("inf", "[scraper.interval]\ncodex = inf\n", "scraper.interval.codex must be a positive"),
    Case("zero", "[scraper]\nsweep_interval = 0\n", "sweep_interval must be a positive number"),
    Case("negative", "[sinks.archive]\nmax_bytes = -1\n", "sinks.archive.max_bytes must be"),
    Case("sinks-nan", "[sinks.archive]\nmax_age_days = nan\n", "max_age_days must be"),
    Case(
        "regex",
        '[[redact]]\nkind = "tok"\npattern = "tok_(["\n',
        "redact[0].pattern 'tok_([' does not compile",
    ),
    Case("toml", "[scraper\n", "is not valid TOML"),
]


@pytest.fixture
def config_file(panebus_home: Path) -> Path:
    path = Paths.from_env().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("verb", VERBS, ids=[verb[0] for verb in VERBS])
@pytest.mark.parametrize("case", CASES, ids=[case.test_id for case in CASES])
def test_bad_config_is_one_line_and_exit_2(
    config_file: Path, case: Case, verb: tuple[str, ...]
) -> None:
    config_file.write_text(case.toml, encoding="utf-8")
    done = subprocess.run(
        [str(PANEBUS), *verb, "-L", "panebus-test-no-such-server"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ), check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    # one line says what is wrong, and which file (probe may say first which binary it uses)
    [line] = [line for line in done.stderr.splitlines() if str(config_file) in line]
    assert line == done.stderr.strip().splitlines()[-1]
    assert line.startswith(f"panebus {verb[0]}: ")
    assert case.line in line
