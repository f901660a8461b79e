"""One bad rollout line is skipped and counted; the lines around it are still read.

The line that started this: a ``timestamp`` of ``0001-01-01T00:00:00+01:00`` (valid RFC 3339,
but before ``datetime.min`` in UTC) raised ``OverflowError`` out of ``panebus parse``, lost the
rest of the tailer's chunk and stopped ``panebus up`` at start.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import typing as t

import orjson
import pytest

from scraper.sources import locations
from scraper.sources.rollout import MAX_LINE_BYTES, read_rollout_lines
from scraper.sources.rollout_tailer import RolloutTailer
from tests import FIXTURES
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from scraper.parsers.model import Usage

SESSIONS = FIXTURES / "codex" / "rollout" / "sessions"


def token_count(used: object, stamp: object = "2026-02-18T09:04:13Z", **window: object) -> str:
    """One token_count line with a 5h primary limit."""
    primary = {"used_percent": used, "window_minutes": 300, **window}
    line = {
        "timestamp": stamp,
        "type": "event_msg",
        "payload": {"type": "token_count", "rate_limits": {"primary": primary}},
    }
    return orjson.dumps(line).decode() + "\n"


EDGE_OF_CALENDAR = token_count(50, "0001-01-01T00:00:00+01:00", resets_in_seconds=60)
TOP_OF_CALENDAR = token_count(51, "9999-12-31T23:59:59-01:00", resets_in_seconds=60)


class Row(t.NamedTuple):
    test_id: str
    line: str
    reason: str | None  # why the line is skipped; None: read (figures checked separately)


BAD_LINES = [
    Row("not-json", '{"type": "event_msg", "payl\n', "JSONDecodeError"),
    Row("not-an-object", "[1, 2, 3]\n", "ValueError"),
    Row("invalid-utf8", "\udcff\n", "JSONDecodeError"),
    Row("deep-nesting", "[" * 5000 + "]" * 5000 + "\n", "JSONDecodeError"),
]


@pytest.mark.parametrize("row", BAD_LINES, ids=[row.test_id for row in BAD_LINES])
def test_a_bad_line_between_good_ones_is_skipped_with_its_reason(
    row: Row, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [
        token_count(10).encode(),
        row.line.encode("utf-8", "surrogateescape"),
        token_count(20).encode(),
    ]
    with caplog.at_level(logging.WARNING, logger="scraper.sources.rollout"):
        state = read_rollout_lines(lines, path="rollout-x.jsonl")
    assert state.bad_lines == 1
    assert dict(state.skip_reasons) == {row.reason: 1}
    usage = state.usage()
    assert usage is not None
    assert [limit.used_pct for limit in usage.limits] == [20.0]
    [record] = caplog.records
    assert (record.path, record.line, record.reason) == ("rollout-x.jsonl", 2, row.reason)  # type: ignore[attr-defined]


def test_dates_at_the_edges_of_the_calendar_give_no_reset_and_no_error() -> None:
    state = read_rollout_lines([EDGE_OF_CALENDAR, token_count(30)])
    assert state.bad_lines == 0
    state = read_rollout_lines([token_count(30), EDGE_OF_CALENDAR])
    usage = state.usage()
    assert usage is not None
    [limit] = usage.limits
    # the figure is the line's own; its reset cannot be placed in time, so it is unknown
    assert (limit.used_pct, limit.resets_at) == (50.0, None)
    usage = read_rollout_lines([TOP_OF_CALENDAR]).usage()
    assert usage is not None
    assert [(lim.used_pct, lim.resets_at) for lim in usage.limits] == [(51.0, None)]


@pytest.mark.parametrize(
    "used", [-1, 100.5, 1e308, "nan", "inf", "1e999", True, None, [50], {"v": 50}]
)
def test_a_percentage_outside_0_to_100_or_of_another_type_is_dropped(used: object) -> None:
    usage = read_rollout_lines([token_count(40), token_count(used)]).usage()
    assert usage is not None
    assert [limit.used_pct for limit in usage.limits] == [40.0]


@pytest.mark.parametrize(
    "window",
    [
        {"resets_in_seconds": 1e300},
        {"resets_in_seconds": "nan"},
        {"resets_at": 1e300},
        {"resets_at": -1e15},
        {"resets_at": "9999-12-31T23:59:59-05:00"},
    ],
)
def test_absurd_reset_times_are_unknown(window: dict[str, object]) -> None:
    usage = read_rollout_lines([token_count(40, **window)]).usage()
    assert usage is not None
    assert [(lim.used_pct, lim.resets_at) for lim in usage.limits] == [(40.0, None)]


def test_panebus_parse_reads_the_rest_of_a_file_with_an_edge_date(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    path.write_text(token_count(12) + EDGE_OF_CALENDAR + "garbage\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "panebus", "parse", "--json", str(path)],
        capture_output=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert b"Traceback" not in done.stderr
    usage = orjson.loads(done.stdout)
    assert [limit["used_pct"] for limit in usage["limits"]] == [50.0]
    # the broken third line is logged with its number and why
    [logged] = [line for line in done.stderr.decode().splitlines() if "rollout line" in line]
    assert "line=3 reason=JSONDecodeError" in logged


class Reports:
    def __init__(self) -> None:
        self.items: list[float | None] = []
        self.lock = threading.Lock()

    def __call__(self, path: Path, usage: Usage) -> None:
        with self.lock:
            self.items.append(usage.limits[0].used_pct if usage.limits else None)


@pytest.fixture
def sessions(panebus_home: Path) -> Path:
    path = locations.codex_sessions_dir()
    path.mkdir(parents=True)
    return path


def test_tailer_start_survives_an_edge_date_and_reads_the_rest_of_the_chunk(
    sessions: Path,
) -> None:
    path = sessions / "rollout-edge.jsonl"
    # one chunk: good, edge-of-calendar, broken, good — the last line must be reported
    path.write_text(
        token_count(11) + EDGE_OF_CALENDAR + "{oops\n" + token_count(22), encoding="utf-8"
    )
    reports = Reports()
    with RolloutTailer(reports) as tailer:
        wait_for(lambda: reports.items == [22.0], message="figures of the chunk's last line")
        assert tailer.bad_lines == 1
        assert tailer.stats()["skip_reasons"] == {"JSONDecodeError": 1}
        assert tailer.position(path) == path.stat().st_size
        with path.open("a", encoding="utf-8") as handle:
            handle.write(TOP_OF_CALENDAR + token_count(33))
        wait_for(lambda: reports.items == [22.0, 33.0], message="later lines still read")


def test_a_10_mb_line_is_skipped_with_bounded_memory(sessions: Path) -> None:
    path = sessions / "rollout-huge.jsonl"
    path.write_text(token_count(5), encoding="utf-8")
    reports = Reports()
    with RolloutTailer(reports) as tailer:
        wait_for(lambda: reports.items == [5.0], message="first figures")
        huge = '{"type":"response_item","payload":{"output":"' + "x" * (10 << 20)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(huge)
        wait_for(lambda: tailer.position(path) == path.stat().st_size, message="huge part read")
        tracked = tailer._files[path]
        assert len(tracked.pending) <= MAX_LINE_BYTES  # not the whole 10 MB held
        with path.open("a", encoding="utf-8") as handle:
            handle.write('"}}\n' + token_count(6))
        wait_for(lambda: reports.items == [5.0, 6.0], message="line after the huge one")
        assert tailer.stats()["skip_reasons"] == {"line too long": 1}
