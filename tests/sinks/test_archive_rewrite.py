"""Cleaning archived history: ``archive redact`` and ``archive purge``, atomic and crash-safe,
on open and compressed segments, never beside a running writer; and private file modes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import typing as t

import pytest

from scraper.pipeline import sha256_text
from scraper.redact import Redactor
from sinks import archive_format as fmt
from sinks import archive_rewrite
from sinks.archive import ArchiveWriter
from sinks.archive_query import Query
from sinks.config import ArchiveConfig
from tests.sinks.frames import T0, raw, stamp
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

KEY = "glpat-" + "Zq7Xv2Lm9Rt4Wp1Ks8Hd"  # synthetic; the hand-written list missed this shape
PASSWORD = "CorrectHorseBatteryStaple9"


def leaked_frames(count: int, *, start: dt.datetime = T0, pane_id: str = "%3") -> list[t.Any]:
    """Frames as an older panebus archived them: secrets in the text and the title."""
    bodies = []
    for n in range(count):
        body = raw(
            f"5h limit: {50 + n % 40}% left\n$ export GITLAB_TOKEN={KEY}\nPASSWORD={PASSWORD}\n"
            f"line {n}",
            at=start + dt.timedelta(minutes=n),
            pane_id=pane_id,
        )
        body["pane"]["title"] = f"deploy {KEY}"
        bodies.append(stamp(body, seq=n))
    return bodies


def build_archive(root: Path, *, closed_days: int = 1, per_day: int = 12) -> list[t.Any]:
    """Segments of ``closed_days`` past days (compressed) and of today (open), two panes."""
    day = {"today": T0.date().isoformat()}
    writer = ArchiveWriter(ArchiveConfig(root=root, fsync="always"), today=lambda: day["today"])
    writer.open()
    written = []
    for offset in range(closed_days + 1):
        when = T0 + dt.timedelta(days=offset)
        day["today"] = when.date().isoformat()
        writer.maintain()  # compresses the days before
        for pane_id in ("%3", "%4"):
            for body in leaked_frames(per_day, start=when, pane_id=pane_id):
                assert writer.write(body)
                written.append(body)
    writer.close()
    return written


def everything(root: Path) -> str:
    return "\n".join(json.dumps(body) for path in fmt.segments(root)
                     for body in fmt.iter_records(path))


def redaction() -> archive_rewrite.Transform:
    return archive_rewrite.redaction(Redactor(), sha256_text)


def test_redact_masks_history_in_open_and_compressed_segments(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    written = build_archive(root)
    kinds = sorted(path.name.endswith(fmt.CLOSED_SUFFIX) for path in fmt.segments(root))
    assert kinds == [False, False, True, True]
    assert KEY in everything(root)

    report = archive_rewrite.rewrite(root, redaction())

    assert len(report.changes) == 4
    assert report.records == report.changed == len(written)
    assert report.removed == 0
    assert report.counts["gitlab-token"] == len(written)
    assert report.counts["secret-assignment"] == len(written)
    after = everything(root)
    assert KEY not in after and PASSWORD not in after and KEY[6:14] not in after
    # Same segments, same kinds, same frames (ids, order), each with a hash of its new text.
    assert sorted(p.name.endswith(fmt.CLOSED_SUFFIX) for p in fmt.segments(root)) == kinds
    bodies = [body for path in fmt.segments(root) for body in fmt.iter_records(path)]
    assert sorted(body["id"] for body in bodies) == sorted(body["id"] for body in written)
    for body in bodies:
        assert body["sha256"] == sha256_text(body["text"])
        assert "5h limit:" in body["text"]
        assert body["pane"]["title"] == "deploy [REDACTED:gitlab-token]"
    for path in fmt.segments(root):
        assert not fmt.read_segment(path).torn

    again = archive_rewrite.rewrite(root, redaction())
    assert again.changes == []  # idempotent: a clean archive is not rewritten


def test_dry_run_reports_and_writes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    build_archive(root)
    before = {path: path.read_bytes() for path in fmt.segments(root)}
    report = archive_rewrite.rewrite(root, redaction(), dry_run=True)
    assert report.dry_run and len(report.changes) == 4
    assert {path: path.read_bytes() for path in fmt.segments(root)} == before


def test_purge_by_time_and_pane(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    written = build_archive(root, closed_days=1, per_day=10)
    since = T0 + dt.timedelta(minutes=3)
    until = T0 + dt.timedelta(minutes=6)
    query = Query(pane="%3", since=since, until=until)
    report = archive_rewrite.rewrite(root, archive_rewrite.purge(query), days=query.day_range())
    assert report.removed == 4  # minutes 3, 4, 5, 6 of pane %3 on the first day
    left = [body for path in fmt.segments(root) for body in fmt.iter_records(path)]
    assert len(left) == len(written) - 4
    assert not any(query.matches(body) for body in left)
    # A whole pane purged: its segments are gone, the other pane's stay.
    report = archive_rewrite.rewrite(root, archive_rewrite.purge(Query(pane="%4")))
    assert report.removed == 20
    assert all("p4" not in path.name for path in fmt.segments(root))


def test_purging_everything_of_a_day_removes_its_folder(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    build_archive(root, closed_days=1, per_day=3)
    first_day = root / T0.date().isoformat()
    assert first_day.is_dir()
    end_of_day = T0.replace(hour=23, minute=59, second=59)
    archive_rewrite.rewrite(root, archive_rewrite.purge(Query(until=end_of_day)))
    assert not first_day.exists()
    assert fmt.segments(root)


def test_refused_while_a_writer_has_the_archive(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    build_archive(root)
    writer = ArchiveWriter(ArchiveConfig(root=root)).open()
    try:
        with pytest.raises(archive_rewrite.ArchiveBusy, match="stop it"):
            archive_rewrite.rewrite(root, redaction())
    finally:
        writer.close()
    assert archive_rewrite.rewrite(root, redaction()).changes  # free again once closed


def test_writer_reopens_a_rewritten_archive_and_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    written = build_archive(root, closed_days=0, per_day=3)
    archive_rewrite.rewrite(root, redaction())
    writer = ArchiveWriter(ArchiveConfig(root=root, fsync="always")).open()
    try:
        assert not writer.write(written[-1])  # a known id is still known
        assert writer.write(stamp(raw("5h limit: 1% left", at=T0 + dt.timedelta(hours=1))))
    finally:
        writer.close()
    assert writer.torn_cut == 0


CRASHER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from scraper.pipeline import sha256_text
    from scraper.redact import Redactor
    from sinks import archive_format as fmt, archive_rewrite

    real = fmt.write_segment
    def stuck(path, bodies):
        real(path, bodies)
        print("rewrote", path, flush=True)
        sys.stdin.read()  # blocks: the parent kills us here, between two segments
    fmt.write_segment = stuck
    archive_rewrite.rewrite(Path(sys.argv[1]), archive_rewrite.redaction(Redactor(), sha256_text))
    """
)


def test_a_crash_in_the_middle_leaves_each_segment_old_or_new(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    written = build_archive(root, closed_days=5, per_day=4)
    by_id = {body["id"]: body for body in written}
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHER, str(root)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None
    wait_for(lambda: "rewrote" in child.stdout.readline(), timeout=60, message="one rewrite")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    if child.stdin is not None:
        child.stdin.close()

    old = new = 0
    for path in fmt.segments(root):
        scan = fmt.read_segment(path)
        assert not scan.torn, path
        for body in scan.bodies:
            if body == by_id[body["id"]]:
                old += 1
            else:
                assert KEY not in json.dumps(body)
                new += 1
    assert old + new == len(written)  # nothing lost, nothing doubled
    assert new > 0 and old > 0  # it really stopped half way

    report = archive_rewrite.rewrite(root, redaction())  # running again finishes the job
    assert KEY not in everything(root)
    assert report.changed == old
    assert not list(root.rglob("*.tmp"))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_archive_files_and_dirs_are_private(tmp_path: Path) -> None:
    os.umask(0o022)  # what most users have: files 0644 and dirs 0755 unless asked otherwise
    root = tmp_path / "archive"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    build_archive(root, closed_days=1, per_day=2)
    assert _mode(root) == 0o700
    for path in fmt.segments(root):
        assert _mode(path) == 0o600, path
        assert _mode(path.parent) == 0o700, path.parent
    archive_rewrite.rewrite(root, redaction())
    for path in fmt.segments(root):
        assert _mode(path) == 0o600, path


def test_alias_cache_and_window_log_are_private(tmp_path: Path) -> None:
    from sinks.files import append_durable, atomic_write

    os.umask(0o022)
    alias_file = tmp_path / "cache" / "alias" / "state.json"
    atomic_write(alias_file, b"{}")
    log = tmp_path / "data" / "windows.jsonl"
    append_durable(log, b"{}\n")
    assert _mode(alias_file) == 0o600
    assert _mode(alias_file.parent) == 0o700
    assert _mode(log) == 0o600
    assert _mode(log.parent) == 0o700


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "panebus", "archive", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_cli_redact_and_purge_report_what_they_changed(
    panebus_home: Path, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    written = build_archive(root, closed_days=1, per_day=3)
    dry = run_cli("redact", "--root", str(root), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would rewrite" in dry.stdout and "dry run, nothing written" in dry.stdout
    assert KEY in everything(root)

    done = run_cli("redact", "--root", str(root), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["records_rewritten"] == len(written)
    assert report["secrets"]["gitlab-token"] == len(written)
    assert KEY not in everything(root)

    refused = run_cli("purge", "--root", str(root))
    assert refused.returncode == 2 and "nothing was changed" in refused.stderr
    purged = run_cli("purge", "--root", str(root), "--pane", "%4")
    assert purged.returncode == 0, purged.stderr
    assert f"{len(written) // 2} removed" in purged.stdout


def test_cli_redact_applies_the_configured_patterns(panebus_home: Path, tmp_path: Path) -> None:
    from bus.paths import Paths

    paths = Paths.from_env()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(
        '[[redact]]\nkind = "ticket"\npattern = "line [0-9]+"\n', encoding="utf-8"
    )
    root = tmp_path / "archive"
    build_archive(root, closed_days=0, per_day=2)
    done = run_cli("redact", "--root", str(root))
    assert done.returncode == 0, done.stderr
    assert "ticket 2" in done.stdout
    assert "line 1" not in everything(root)


def test_cli_says_to_stop_the_sink(panebus_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    build_archive(root, closed_days=0, per_day=1)
    writer = ArchiveWriter(ArchiveConfig(root=root)).open()
    try:
        busy = run_cli("redact", "--root", str(root))
    finally:
        writer.close()
    assert busy.returncode == 3
    assert "stop it" in busy.stderr
