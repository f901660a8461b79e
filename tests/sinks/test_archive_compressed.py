"""The archive keeps what matters: probe and manual captures always; closed segments compressed
and still read back (query, CLI, the segment API)."""

from __future__ import annotations

import datetime as dt
import gzip
import subprocess
import sys
import typing as t

from sinks import archive_format as fmt
from sinks.archive import ArchiveWriter
from sinks.archive_query import find, segment_summaries
from sinks.config import ArchiveConfig
from tests.sinks.frames import T0, raw, stamp

if t.TYPE_CHECKING:
    from pathlib import Path


def frames(count: int) -> list[dict[str, t.Any]]:
    return [
        stamp(raw(f"5h limit: {50 + n}% left\nspinner {n}", at=T0 + dt.timedelta(minutes=n)),
              seq=n)
        for n in range(count)
    ]


def test_closed_day_is_compressed_and_reads_back(tmp_path: Path) -> None:
    root = tmp_path / "archive"
    day = {"today": T0.date().isoformat()}
    writer = ArchiveWriter(ArchiveConfig(root=root), today=lambda: day["today"]).open()
    written = frames(20)
    for body in written:
        assert writer.write(body)
    writer.sync()
    day["today"] = (T0.date() + dt.timedelta(days=1)).isoformat()
    writer.maintain()
    writer.close()
    segments = fmt.segments(root)
    assert [path.name.endswith(fmt.CLOSED_SUFFIX) for path in segments] == [True]
    closed = segments[0]
    data = closed.read_bytes()
    assert gzip.decompress(data).count(b"\n") == 20  # a real gzip stream, whole records inside
    assert len(data) < sum(len(fmt.encode_record(body)) for body in written)
    assert [body["id"] for body in fmt.iter_records(closed)] == [b["id"] for b in written]
    assert [snap.body["id"] for snap in find(root)] == [b["id"] for b in written]
    assert segment_summaries(root)[0]["records"] == 20
    shown = subprocess.run(
        [sys.executable, "-m", "panebus", "archive", "grep", "5h limit: 69%", "--root", str(root)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "5h limit: 69% left" in shown.stdout


def test_write_segment_round_trip_open_and_closed(tmp_path: Path) -> None:
    written = frames(5)
    for name in ("codex-default-p3.rec", "codex-default-p3.rec.gz"):
        path = tmp_path / "2026-11-25" / name
        path.parent.mkdir(exist_ok=True)
        fmt.write_segment(path, written[1:])  # e.g. a purge that drops the first record
        assert [body["id"] for body in fmt.iter_records(path)] == [b["id"] for b in written[1:]]
        assert not list(path.parent.glob(".*.tmp"))


def test_probe_and_manual_captures_kept_even_when_the_text_repeats(tmp_path: Path) -> None:
    writer = ArchiveWriter(ArchiveConfig(root=tmp_path / "archive")).open()
    card = "5h limit: 77% left"
    assert writer.write(stamp(raw(card, trigger="output")))
    assert not writer.write(stamp(raw(card, trigger="timer")))  # the same snapshot again
    assert writer.write(stamp(raw(card, trigger="probe")))  # someone asked for this one
    assert writer.write(stamp(raw(card, trigger="manual")))
    writer.close()
    assert [s.body["trigger"] for s in find(tmp_path / "archive")] == ["output", "probe", "manual"]
