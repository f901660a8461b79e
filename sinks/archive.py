"""The archive: every distinct pane snapshot (raw frame) on disk, crash-safe, for replay.

Layout and record format are in :mod:`sinks.archive_format`. The writer appends each record with
one ``write`` on an ``O_APPEND`` descriptor and fsyncs by policy:

- ``always``: fsync after every record;
- ``interval`` (default): fsync once ``fsync_frames`` records are pending or ``fsync_interval``
  seconds passed since the first pending one, whichever comes first;
- ``never``: leave it to the kernel (nothing is ever acknowledged).

"Acknowledged" means fsynced: only then does the sink publish the frame ids on
``sys.sink.archive`` (field ``ack``). On start the writer scans every open segment, cuts a torn
tail, and reloads the last snapshot hash of each pane and the ids it holds, so a restart neither
loses an acknowledged frame nor writes a duplicate. Segments of past days are gzipped; days older
than ``max_age_days`` and, past ``max_bytes``, the oldest closed segments are deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import typing as t

from bus.clock import utcnow
from bus.protocol import RecentIds
from sinks import archive_format as fmt
from sinks import archive_rewrite
from sinks.base import Emit, is_replay, sys_body
from sinks.files import cut_torn_tail, fsync_dir

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.frames import Body
    from bus.paths import Paths
    from sinks.config import ArchiveConfig, SinksConfig

logger = logging.getLogger(__name__)

#: Frame ids remembered against a frame coming twice: a publisher resends what it held while
#: the broker was away (at most bus.publisher.HELD_MAX), a restart re-reads open segments.
#: Four times the held frames is plenty; at about 170 bytes an id the set tops out at ~3.4 MB,
#: reached after an hour of heavy use (100,000 kept 17 MB and grew for three hours).
SEEN_CAPACITY = 20_000
ACK_IDS_PER_FRAME = 500
PENDING_TICK_INTERVAL = 0.25  # seconds: the interval fsync and its acks are due soon
IDLE_TICK_INTERVAL = 1.0
MAINTENANCE_INTERVAL = 3600.0
MAX_OPEN_SEGMENTS = 32  # descriptors kept open; panes come and go by the hundred over a day
#: Triggers whose frames are archived even when their text repeats the pane's last snapshot.
KEEP_REPEATS = frozenset({"probe", "manual"})


class ArchiveWriter:
    """Append raw frames to per-day, per-pane segments; no bus involved (tested on its own)."""

    def __init__(self, config: ArchiveConfig, today: t.Callable[[], str] | None = None) -> None:
        self.config = config
        self.root = config.root
        self.today = today or (lambda: utcnow().date().isoformat())
        self._fds: dict[Path, int] = {}
        self._paths: dict[tuple[str, str], Path] = {}
        self._sizes: dict[Path, int] = {}  # bytes in each open segment: where a record starts
        self._dirty: set[Path] = set()
        self._new_files: set[Path] = set()
        self._last_sha: dict[str, str] = {}
        self._seen = RecentIds(limit=SEEN_CAPACITY)
        self._pending: list[Body] = []
        self._pending_since = 0.0
        self.written = 0
        self.skipped = 0
        self.torn_cut = 0
        self.failed = 0
        self.bytes_written = 0
        self.last_ack: dict[str, t.Any] | None = None
        self._lock: int | None = None

    # -- start-up ------------------------------------------------------------------------------
    def open(self) -> ArchiveWriter:
        """Create the root, repair open segments, compress closed days, apply retention."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Private to the user, and held against `panebus archive redact|purge` while open.
        archive_rewrite.make_private(self.root)
        self._lock = archive_rewrite.hold_for_writing(self.root)
        for path in fmt.segments(self.root):
            if path.name.endswith(fmt.SEGMENT_SUFFIX):
                self._recover(path)
        self.maintain()
        return self

    def _recover(self, path: Path) -> None:
        scan = fmt.read_segment(path)
        if scan.torn:
            self.torn_cut += 1
            cut_torn_tail(path, scan.good_length)
        name = path.name[: -len(fmt.SEGMENT_SUFFIX)]
        for body in scan.bodies:
            self._remember(body)
            sha = body.get("sha256")
            if isinstance(sha, str):
                self._last_sha[name] = sha

    def _remember(self, body: Body) -> None:
        frame_id = body.get("id")
        if isinstance(frame_id, str):
            self._seen.add(frame_id)

    # -- writing -------------------------------------------------------------------------------
    def write(self, body: Body) -> bool:
        """Append ``body`` unless it is a replay, a known id or the pane's last snapshot.

        A probe or manual capture is kept even when the pane already showed the same text (the
        scraper may have captured the card a moment earlier): someone asked for it.
        """
        name = fmt.segment_name(body)
        if is_replay(body) or body.get("id") in self._seen or (
            self._last_sha.get(name) == body.get("sha256")
            and body.get("sha256")
            and body.get("trigger") not in KEEP_REPEATS
        ):
            self.skipped += 1
            return False
        key = (fmt.segment_day(body), name)
        path = self._paths.get(key)
        if path is None or path not in self._fds:
            path = self._paths[key] = self.root / key[0] / f"{name}{fmt.SEGMENT_SUFFIX}"
        record = fmt.encode_record(body)
        fd = self._fd(path)
        self._append(fd, path, record)
        self.bytes_written += len(record)
        self.written += 1
        self._remember(body)
        if isinstance(body.get("sha256"), str):
            self._last_sha[name] = body["sha256"]
        self._dirty.add(path)
        if not self._pending:
            self._pending_since = time.monotonic()
        self._pending.append(body)
        return True

    def _append(self, fd: int, path: Path, record: bytes) -> None:
        """Write one record whole, or leave the segment as it was (disk full, I/O error).

        A short or failed write would leave a partial record in the middle of the segment, and
        every record after it would be unreadable: so the segment is cut back first.
        """
        size = self._sizes[path]
        try:
            written = os.write(fd, record)
            if written != len(record):
                msg = f"short write to {path}: {written} of {len(record)} bytes"
                raise OSError(msg)
        except OSError:
            self.failed += 1
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
        self._sizes[path] = size + written

    def _fd(self, path: Path) -> int:
        fd = self._fds.pop(path, None)
        if fd is not None:
            self._fds[path] = fd  # most recently written last: the idle ones are first
        else:
            if len(self._fds) >= MAX_OPEN_SEGMENTS:
                self._close_idle()
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                self._new_files.add(path)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            self._fds[path] = fd
            self._sizes[path] = os.fstat(fd).st_size
        return fd

    def _close_idle(self) -> None:
        """Close the least recently written segments with nothing waiting for an fsync, so the
        open files stay flat however many panes a day sees (a segment is reopened on its next
        frame; its size is read back from the file)."""
        for path in list(self._fds):
            if len(self._fds) < MAX_OPEN_SEGMENTS:
                return
            if path in self._dirty:
                continue
            with contextlib.suppress(OSError):
                os.close(self._fds.pop(path))
            self._sizes.pop(path, None)
            self._paths.pop((path.parent.name, path.name[: -len(fmt.SEGMENT_SUFFIX)]), None)

    # -- durability ----------------------------------------------------------------------------
    def due(self) -> bool:
        """Whether the policy wants an fsync now."""
        if not self._pending or self.config.fsync == "never":
            return False
        if self.config.fsync == "always":
            return True
        waited = time.monotonic() - self._pending_since
        return (
            len(self._pending) >= max(1, self.config.fsync_frames)
            or waited >= self.config.fsync_interval
        )

    def sync(self) -> list[Body]:
        """fsync every dirty segment (and new directory entries); return the frames now durable."""
        for path in sorted(self._dirty):
            os.fsync(self._fds[path])
        for directory in sorted({path.parent for path in self._new_files}):
            fsync_dir(directory)
            fsync_dir(directory.parent)
        self._dirty.clear()
        self._new_files.clear()
        durable, self._pending = self._pending, []
        if durable:
            last = durable[-1]
            self.last_ack = {
                "id": last.get("id"),
                "seq": last.get("seq"),
                "producer": last.get("producer"),
                "observed_at": last.get("observed_at"),
            }
        return durable

    @property
    def pending(self) -> int:
        """Records written but not yet fsynced (and so not yet acknowledged)."""
        return len(self._pending)

    def sync_if_due(self) -> list[Body]:
        """:meth:`sync` when the policy says so, else nothing."""
        return self.sync() if self.due() else []

    # -- maintenance ---------------------------------------------------------------------------
    def maintain(self) -> None:
        """Compress segments of past days, then apply retention by age and size."""
        today = self.today()
        for path in fmt.segments(self.root):
            if path.name.endswith(fmt.SEGMENT_SUFFIX) and path.parent.name < today:
                try:
                    self._compress(path)
                except OSError:
                    logger.exception("could not compress a segment", extra={"path": str(path)})
        self._retain(today)

    def _compress(self, path: Path) -> None:
        fd = self._fds.pop(path, None)
        if fd is not None:
            os.fsync(fd)
            os.close(fd)
            self._dirty.discard(path)
        closed = path.with_name(path.name + ".gz")
        bodies = list(fmt.iter_records(path))
        if closed.exists():  # a late frame for a closed day: merge, never lose the old part
            bodies = [*fmt.iter_records(closed), *bodies]
        fmt.write_segment(closed, bodies)
        path.unlink()
        fsync_dir(path.parent)
        logger.info("compressed a closed segment", extra={"path": str(closed)})

    def _retain(self, today: str) -> None:
        if self.config.max_age_days > 0:
            import datetime as dt  # noqa: PLC0415 - only for the cut-off date

            cutoff = (
                dt.date.fromisoformat(today) - dt.timedelta(days=self.config.max_age_days)
            ).isoformat()
            for day in sorted({path.parent for path in fmt.segments(self.root)}):
                if day.name < cutoff:
                    shutil.rmtree(day, ignore_errors=True)
                    logger.info("retention removed a day", extra={"path": str(day)})
        if self.config.max_bytes > 0:
            closed = [p for p in fmt.segments(self.root) if p.name.endswith(fmt.CLOSED_SUFFIX)]
            total = sum(p.stat().st_size for p in fmt.segments(self.root))
            for path in closed:  # oldest day first
                if total <= self.config.max_bytes:
                    break
                total -= path.stat().st_size
                path.unlink()
                logger.info("retention removed a segment", extra={"path": str(path)})

    def close(self) -> list[Body]:
        """fsync (unless the policy is ``never``) and close every segment."""
        durable = self.sync() if self.config.fsync != "never" else []
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()
        archive_rewrite.release(self._lock)
        self._lock = None
        return durable


def ack_bodies(durable: list[Body]) -> list[Body]:
    """``sys.sink.archive`` frames acknowledging ``durable`` (ids in chunks)."""
    bodies = []
    for start in range(0, len(durable), ACK_IDS_PER_FRAME):
        chunk = durable[start : start + ACK_IDS_PER_FRAME]
        last = chunk[-1]
        bodies.append(
            sys_body(
                "sink.archive",
                sink="archive",
                ack={
                    "ids": [body.get("id") for body in chunk],
                    "last_id": last.get("id"),
                    "last_seq": last.get("seq"),
                    "last_producer": last.get("producer"),
                    "durable": True,
                },
            )
        )
    return bodies


class ArchiveSink:
    """The archive as a bus sink: raw frames in, acks out on ``sys.sink.archive``."""

    name = "archive"
    prefixes: tuple[str, ...] = ("raw.",)

    @property
    def tick_interval(self) -> float:
        """A quarter second while records wait for their interval fsync (and their acks),
        else once a second: idle, the archive has nothing to do."""
        return PENDING_TICK_INTERVAL if self.writer.pending else IDLE_TICK_INTERVAL

    def __init__(self, config: ArchiveConfig) -> None:
        self.writer = ArchiveWriter(config).open()
        self._next_maintenance = time.monotonic() + MAINTENANCE_INTERVAL
        self._day = self.writer.today()

    @classmethod
    def build(cls, paths: Paths, config: SinksConfig) -> ArchiveSink:
        """Factory for the sink registry."""
        del paths
        return cls(config.archive)

    def handle(self, topic: str, body: Body, emit: Emit) -> None:
        """Archive one raw frame; acknowledge at once under the ``always`` policy."""
        del topic
        if body.get("kind") != "raw":
            return
        self.writer.write(body)
        self._ack(emit, self.writer.sync_if_due())

    def tick(self, emit: Emit) -> None:
        """Interval fsync, and at a day change or hourly: compression and retention."""
        self._ack(emit, self.writer.sync_if_due())
        today = self.writer.today()
        if today != self._day or time.monotonic() >= self._next_maintenance:
            self._day = today
            self._next_maintenance = time.monotonic() + MAINTENANCE_INTERVAL
            self.writer.maintain()

    @staticmethod
    def _ack(emit: Emit, durable: list[Body]) -> None:
        for body in ack_bodies(durable):
            emit(body)

    def health(self) -> dict[str, t.Any]:
        """Counts, the policy and the last acknowledged frame."""
        writer = self.writer
        return {
            "root": str(writer.root),
            "fsync": writer.config.fsync,
            "written": writer.written,
            "skipped": writer.skipped,
            "torn_cut": writer.torn_cut,
            "failed": writer.failed,
            "bytes_written": writer.bytes_written,
            "last_ack": writer.last_ack,
        }

    def drain(self, emit: Emit) -> None:
        """fsync what is pending (unless the policy is ``never``) and acknowledge it."""
        if self.writer.config.fsync != "never":
            self._ack(emit, self.writer.sync())

    def close(self) -> None:
        """fsync and close the segments."""
        self.writer.close()
