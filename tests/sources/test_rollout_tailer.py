"""The rollout tailer on real files under a real watchdog observer."""

from __future__ import annotations

import os
import threading
import typing as t

import pytest

from scraper.sources import locations
from scraper.sources.rollout_tailer import RolloutTailer
from tests import FIXTURES
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from scraper.parsers.model import Usage

SESSIONS = FIXTURES / "codex" / "rollout" / "sessions"


def fixture_lines(prefix: str) -> list[str]:
    [path] = sorted(SESSIONS.rglob(f"rollout-{prefix}*.jsonl"))
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


class Reports:
    """Collects what the tailer reports, safely across the observer thread."""

    def __init__(self) -> None:
        self.items: list[tuple[Path, Usage]] = []
        self.lock = threading.Lock()

    def __call__(self, path: Path, usage: Usage) -> None:
        with self.lock:
            self.items.append((path, usage))

    def five_hours(self) -> list[float | None]:
        with self.lock:
            return [
                next((lim.used_pct for lim in usage.limits if lim.window == "5h" and not lim.scope),
                     None)
                for _, usage in self.items
            ]


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def caught_up(tailer: RolloutTailer, path: Path) -> t.Callable[[], bool]:
    return lambda: tailer.position(path) == path.stat().st_size


@pytest.fixture
def sessions(panebus_home: Path) -> Path:
    """``$CODEX_HOME/sessions`` of the test (not created)."""
    return locations.codex_sessions_dir()


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def tailer(sessions: Path, reports: Reports) -> t.Iterator[RolloutTailer]:
    running = RolloutTailer(reports)
    yield running
    running.stop()


def test_file_growing_line_by_line_reports_each_change_once(
    sessions: Path, tailer: RolloutTailer, reports: Reports
) -> None:
    day = sessions / "2025" / "10" / "14"
    day.mkdir(parents=True)
    path = day / "rollout-2025-10-14T09-12-03-test.jsonl"
    path.touch()
    tailer.start()
    assert tailer.roots == [sessions]
    for line in fixture_lines("2025-10-14"):
        append(path, line)
        wait_for(caught_up(tailer, path), message="tailer caught up")
    # token_count lines say 18, 18, 23, 23: only the two changes are reported
    assert reports.five_hours() == [18.0, 23.0]
    assert reports.items[-1][1].model == "gpt-5-codex"
    assert tailer.bad_lines == 0


def test_half_written_line_waits_for_its_newline(
    sessions: Path, tailer: RolloutTailer, reports: Reports
) -> None:
    sessions.mkdir(parents=True)
    path = sessions / "rollout-half.jsonl"
    lines = fixture_lines("2026-02-18")
    path.write_text("".join(lines[:6]), encoding="utf-8")
    tailer.start()
    token_count = lines[6]
    append(path, token_count[:100])
    wait_for(caught_up(tailer, path), message="half line read")
    assert reports.items == []
    append(path, token_count[100:])
    wait_for(lambda: reports.five_hours() == [61.0], message="figures after the newline")


def test_broken_line_is_counted_and_skipped(
    sessions: Path, tailer: RolloutTailer, reports: Reports
) -> None:
    sessions.mkdir(parents=True)
    path = sessions / "rollout-broken.jsonl"
    path.touch()
    tailer.start()
    append(path, '{"timestamp": "2026-02-18T09:04:13Z", "type": "event_msg", "payl\n')
    append(path, "\x00\xff garbage\n")
    append(path, fixture_lines("2026-02-18")[6])
    wait_for(lambda: reports.five_hours() == [61.0], message="good line after broken ones")
    assert tailer.bad_lines == 2


def test_truncation_and_rotation_reread_from_the_start(
    sessions: Path, tailer: RolloutTailer, reports: Reports
) -> None:
    sessions.mkdir(parents=True)
    path = sessions / "rollout-rotate.jsonl"
    path.write_text("".join(fixture_lines("2025-10-14")), encoding="utf-8")
    tailer.start()
    wait_for(lambda: reports.five_hours() == [23.0], message="initial figures")
    # truncated in place and rewritten shorter: same inode, smaller size
    path.write_text("".join(fixture_lines("2026-02-18")[:7]), encoding="utf-8")
    wait_for(lambda: reports.five_hours() == [23.0, 61.0], message="after truncation")
    # replaced by a new file (new inode), as a rotation does
    other = sessions / "incoming.tmp"
    other.write_text("".join(fixture_lines("2026-11-03")), encoding="utf-8")
    other.replace(path)
    wait_for(lambda: reports.five_hours() == [23.0, 61.0, 100.0], message="after rotation")
    assert reports.items[-1][1].version == "0.169.0"


def test_deleted_file_is_forgotten_and_a_new_one_read_whole(
    sessions: Path, tailer: RolloutTailer, reports: Reports
) -> None:
    sessions.mkdir(parents=True)
    path = sessions / "rollout-gone.jsonl"
    path.write_text("".join(fixture_lines("2026-02-18")), encoding="utf-8")
    tailer.start()
    wait_for(lambda: reports.five_hours() == [61.0], message="initial figures")
    path.unlink()
    wait_for(lambda: tailer.position(path) is None, message="deleted file forgotten")
    path.write_text("".join(fixture_lines("2025-10-14")), encoding="utf-8")
    wait_for(lambda: reports.five_hours() == [61.0, 23.0], message="new file at the same path")


def test_sessions_dir_created_after_start(
    sessions: Path, tailer: RolloutTailer, reports: Reports
) -> None:
    codex_home = sessions.parent
    assert not codex_home.exists()
    tailer.start()
    assert tailer.watching == [codex_home.parent]  # nearest existing parent, not recursive
    day = sessions / "2026" / "11" / "03"
    day.mkdir(parents=True)
    wait_for(lambda: tailer.watching == [sessions], message="sessions dir watched")
    path = day / "rollout-2026-11-03T17-41-09-late.jsonl"
    path.write_text("".join(fixture_lines("2026-11-03")), encoding="utf-8")
    wait_for(lambda: reports.five_hours() == [100.0], message="figures from the new dir")


def test_only_the_newest_existing_log_is_reported_at_start(
    sessions: Path, tailer: RolloutTailer, reports: Reports
) -> None:
    sessions.mkdir(parents=True)
    old = sessions / "rollout-old.jsonl"
    new = sessions / "rollout-new.jsonl"
    old.write_text("".join(fixture_lines("2025-10-14")), encoding="utf-8")
    new.write_text("".join(fixture_lines("2026-02-18")), encoding="utf-8")
    os.utime(old, (1_700_000_000, 1_700_000_000))
    tailer.start()
    wait_for(lambda: reports.five_hours() == [61.0], message="newest log reported")
    assert tailer.position(old) is None  # not read until it grows
    # the old session resumes: its history is read silently, the new line is reported
    append(old, fixture_lines("2026-11-03")[6])
    wait_for(lambda: reports.five_hours() == [61.0, 96.0], message="resumed session")
    assert reports.items[-1][1].model == "gpt-5-codex"  # from the silently read history
    assert reports.items[-1][0] == old


def test_extra_roots_and_non_rollout_files(
    sessions: Path, tmp_path: Path, reports: Reports
) -> None:
    extra = tmp_path / "more-logs"
    extra.mkdir()
    tailer = RolloutTailer(reports, extra_roots=[extra])
    try:
        tailer.start()
        (extra / "notes.jsonl").write_text("".join(fixture_lines("2025-10-14")), encoding="utf-8")
        path = extra / "rollout-x.jsonl"
        path.write_text("".join(fixture_lines("2026-02-18")), encoding="utf-8")
        wait_for(lambda: reports.five_hours() == [61.0], message="extra root read")
        assert tailer.position(extra / "notes.jsonl") is None
    finally:
        tailer.stop()


def test_a_failing_callback_does_not_stop_the_tailer(sessions: Path) -> None:
    seen: list[float | None] = []

    def explode(path: Path, usage: Usage) -> None:
        seen.append(usage.limits[0].used_pct)
        raise RuntimeError("consumer bug")

    sessions.mkdir(parents=True)
    path = sessions / "rollout-cb.jsonl"
    path.touch()
    with RolloutTailer(explode) as tailer:
        append(path, fixture_lines("2025-10-14")[5])
        wait_for(lambda: seen == [18.0], message="first call")
        append(path, fixture_lines("2025-10-14")[13])
        wait_for(lambda: seen == [18.0, 23.0], message="second call")
        assert tailer.callback_errors == 2


def test_start_skips_a_new_session_without_figures_yet(
    sessions: Path, tailer: RolloutTailer, reports: Reports
) -> None:
    sessions.mkdir(parents=True)
    older = sessions / "rollout-older.jsonl"
    fresh = sessions / "rollout-fresh.jsonl"
    older.write_text("".join(fixture_lines("2026-02-18")), encoding="utf-8")
    fresh.write_text("".join(fixture_lines("2026-11-03")[:5]), encoding="utf-8")  # no token_count
    os.utime(older, (1_700_000_000, 1_700_000_000))
    tailer.start()
    wait_for(lambda: reports.five_hours() == [61.0], message="figures from the older log")
    assert reports.items[0][0] == older
    append(fresh, fixture_lines("2026-11-03")[6])
    wait_for(lambda: reports.five_hours() == [61.0, 96.0], message="fresh session's first figures")
