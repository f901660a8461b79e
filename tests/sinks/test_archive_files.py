"""The archive writer and reader on real files: framing, torn tails, dedup, gzip, retention."""

from __future__ import annotations

import datetime as dt
import gzip
import typing as t

import pytest

from sinks import archive_format as fmt
from sinks.archive import ArchiveWriter
from sinks.archive_query import Query, find, parse_when
from sinks.config import ArchiveConfig
from tests.sinks.frames import T0, raw, stamp

if t.TYPE_CHECKING:
    from pathlib import Path

DAY = dt.timedelta(days=1)


def writer(root: Path, today: str = "2026-11-25", **kwargs: t.Any) -> ArchiveWriter:
    return ArchiveWriter(ArchiveConfig(root=root, **kwargs), today=lambda: today).open()


def test_records_round_trip_and_a_torn_tail_is_detected() -> None:
    bodies = [stamp(raw(f"screen {n}")) for n in range(3)]
    data = fmt.encode_many(bodies)
    assert fmt.scan(data).bodies == bodies and not fmt.scan(data).torn
    for cut in range(1, len(fmt.encode_record(bodies[-1]))):
        torn = fmt.scan(data[:-cut])
        assert torn.bodies == bodies[:2] and torn.torn
        assert torn.good_length == len(fmt.encode_many(bodies[:2]))
    flipped = bytearray(data)
    flipped[-5] ^= 0x01  # a bit flip inside the last body: the CRC catches it
    assert fmt.scan(bytes(flipped)).bodies == bodies[:2]


def test_restart_cuts_a_torn_tail_and_keeps_every_whole_record(tmp_path: Path) -> None:
    archive = writer(tmp_path, fsync="always")
    bodies = [stamp(raw(f"screen {n}")) for n in range(5)]
    for body in bodies:
        assert archive.write(body)
    archive.close()
    (segment,) = fmt.segments(tmp_path)
    with segment.open("ab") as handle:  # a crash in the middle of the sixth write
        handle.write(fmt.encode_record(stamp(raw("screen 5")))[:40])
    again = writer(tmp_path)
    assert again.torn_cut == 1
    assert fmt.read_segment(segment).bodies == bodies and not fmt.read_segment(segment).torn
    assert not again.write(bodies[2])  # known id
    assert not again.write(stamp(raw("screen 4")))  # same text as the pane's last snapshot
    assert again.write(stamp(raw("screen 6")))
    again.close()
    assert len(fmt.read_segment(segment).bodies) == 6


def test_segments_per_day_and_pane_and_replays_skipped(tmp_path: Path) -> None:
    archive = writer(tmp_path, today="2026-11-26")
    archive.write(stamp(raw("a", pane_id="%1")))
    archive.write(stamp(raw("b", pane_id="%2")))
    archive.write(stamp(raw("c", pane_id="%1", at=T0 + DAY)))
    replayed = stamp(raw("d", pane_id="%1", trigger="replay"))
    replayed["replay"] = True
    assert not archive.write(replayed)
    archive.close()
    names = sorted(str(p.relative_to(tmp_path)) for p in fmt.segments(tmp_path))
    assert names == [
        "2026-11-25/codex-default-p1.rec",
        "2026-11-25/codex-default-p2.rec",
        "2026-11-26/codex-default-p1.rec",
    ]


def test_fsync_policy_decides_when_frames_are_acknowledged(tmp_path: Path) -> None:
    always = writer(tmp_path / "a", fsync="always")
    always.write(stamp(raw("x")))
    assert always.due()
    assert len(always.sync_if_due()) == 1 and always.last_ack is not None
    counted = writer(tmp_path / "b", fsync="interval", fsync_interval=3600.0, fsync_frames=3)
    counted.write(stamp(raw("1")))
    counted.write(stamp(raw("2")))
    assert counted.sync_if_due() == []
    counted.write(stamp(raw("3")))
    assert [b["text"] for b in counted.sync_if_due()] == ["1", "2", "3"]
    never = writer(tmp_path / "c", fsync="never")
    never.write(stamp(raw("x")))
    assert never.sync_if_due() == [] and never.close() == []


def test_closed_days_are_gzipped_and_still_readable(tmp_path: Path) -> None:
    archive = writer(tmp_path, today="2026-11-25")
    first = stamp(raw("old day"))
    archive.write(first)
    archive.close()
    later = writer(tmp_path, today="2026-11-26")  # a new day: yesterday is closed
    late = stamp(raw("late frame of yesterday", at=T0 + dt.timedelta(minutes=1)))
    later.write(late)
    later.maintain()  # merges the late frame into the closed segment
    later.close()
    (segment,) = fmt.segments(tmp_path)
    assert segment.name.endswith(fmt.CLOSED_SUFFIX)
    with gzip.open(segment, "rb") as handle:
        assert fmt.scan(handle.read()).bodies == [first, late]
    assert [s.body["id"] for s in find(tmp_path)] == [first["id"], late["id"]]


def test_retention_by_age_and_size(tmp_path: Path) -> None:
    archive = writer(tmp_path, today="2026-11-25")
    for days in (0, 1, 10):
        archive.write(stamp(raw(f"{days} days ago " * 50, at=T0 - days * DAY)))
    archive.close()
    writer(tmp_path, today="2026-11-25", max_age_days=5)
    kept = sorted(p.parent.name for p in fmt.segments(tmp_path))
    assert kept == ["2026-11-24", "2026-11-25"]
    writer(tmp_path, today="2026-11-25", max_bytes=1)
    assert [p.parent.name for p in fmt.segments(tmp_path)] == ["2026-11-25"]  # open one stays


def test_query_filters_by_provider_pane_time_and_text(tmp_path: Path) -> None:
    archive = writer(tmp_path, today="2026-11-26")
    archive.write(stamp(raw("codex 5h limit", pane_id="%1")))
    archive.write(stamp(raw("claude usage", provider="claude", pane_id="%2", at=T0 + DAY)))
    archive.write(stamp(raw("probe card", pane_id="%1", at=T0 + DAY, trigger="probe")))
    archive.close()
    import re

    def texts(**kwargs: t.Any) -> list[str]:
        return [s.body["text"] for s in find(tmp_path, Query(**kwargs))]

    assert texts(provider="claude") == ["claude usage"]
    assert texts(pane="%1") == ["codex 5h limit", "probe card"]
    assert texts(pane="1", since=T0 + dt.timedelta(hours=1)) == ["probe card"]
    assert texts(until=T0 + dt.timedelta(hours=1)) == ["codex 5h limit"]
    assert texts(trigger="probe") == ["probe card"]
    assert texts(text=re.compile("USAGE", re.IGNORECASE)) == ["claude usage"]


def test_parse_when_accepts_the_documented_forms() -> None:
    now = T0
    assert parse_when("2h", now) == now - dt.timedelta(hours=2)
    assert parse_when("2026-11-24", now) == dt.datetime(2026, 11, 24, tzinfo=dt.timezone.utc)
    assert parse_when("2026-11-24T10:00:00Z", now).hour == 10
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_when("yesterday-ish", now)


FULL_DISK_SCRIPT = """
import resource, signal, sys
from pathlib import Path
from sinks.archive import ArchiveWriter
from sinks.config import ArchiveConfig
from tests.sinks.frames import raw, stamp
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
writer = ArchiveWriter(ArchiveConfig(root=Path(sys.argv[1]), fsync="always")).open()
writer.write(stamp(raw("first")))
writer.sync()
(segment,) = [fd for fd in writer._fds]  # the one open segment
limit = segment.stat().st_size + 300  # room for half of the next record
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
try:
    writer.write(stamp(raw("second " + "x" * 600)))
except OSError as exc:
    print("refused:", exc.__class__.__name__)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
writer.write(stamp(raw("third")))
writer.close()
print("failed", writer.failed)
"""


def test_a_failed_write_leaves_no_partial_record(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests import REPO

    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK_SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert "refused: OSError" in result.stdout and "failed 1" in result.stdout
    (segment,) = fmt.segments(tmp_path)
    scan = fmt.read_segment(segment)
    assert [b["text"] for b in scan.bodies] == ["first", "third"] and not scan.torn
