"""A short round of the chaos bench (tests/bench/bench_chaos.py) in the suite.

SIGKILLs the broker, the scraper, each sink and ``panebus up`` at random moments while frames
stream, restarts the tmux server, and fills the archive's filesystem when a tmpfs can be
mounted (as root). The zero goals are asserted; times are the bench's business, not this test's.
"""

from __future__ import annotations

import typing as t

import pytest

from tests.bench.bench_chaos import Chaos, Options

if t.TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.slow
def test_killing_every_process_at_random_loses_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = Options(kills=16, tmux_restarts=2, rate=40.0, seed=7, disk_bytes=1 << 20)
    lines: list[str] = []
    result = Chaos(tmp_path, options, lines.append, setenv=monkeypatch.setenv).run()
    report = "\n".join([*lines, *result.lines()])
    assert sum(result.kills.values()) == 16, report
    assert result.acked > 0 and result.archived > 0, report
    assert result.lost == [], report
    assert result.torn_segments == [] and result.unreadable_bytes == 0, report
    assert result.tmux_no_capture == 0 and len(result.tmux_to_capture) == 2, report
    assert result.orphans == set() and result.left_clients == 0, report
    assert result.alias_reads > 0 and result.half_written == [], report
