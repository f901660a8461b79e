"""The outage buffer of a host's link to its upstream: an append-only file and an acked offset.

Every frame the forwarder takes for the upstream is appended here first, and sent from here;
the upstream's acknowledgements move the acked offset (written beside the file, atomically).
So a link that is down for minutes, or a ``panebus up`` that restarts meanwhile, loses nothing:
what was not acknowledged is sent again, in order, when the upstream answers (the upstream
drops the ids it already took). It lives on disk under the data dir, next to the archive, so
an outage costs disk, not memory: the process holds only the frames in flight.

Bounded: past ``max_bytes`` of unacknowledged frames, new frames are counted in ``dropped``
(logged once per outage) instead of filling the disk. Acknowledged bytes are reclaimed by
copying the unacknowledged tail to a new file once they are most of the file.

Record: 4-byte big-endian topic length, 4-byte body length, topic, body. A record cut short by
a crash (the tail of the file) is found when the spool opens and cut off. The acked offset is
written with the file's inode, so it never applies to another file.
"""

from __future__ import annotations

import logging
import os
import struct
import typing as t

from bus.paths import ensure_private_dir

if t.TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

HEADER = struct.Struct(">II")
SPOOL_FILE = "spool.bin"
ACKED_FILE = "spool.acked"
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
COMPACT_AT = 1024 * 1024
"""Acknowledged bytes at the head of the file before they are reclaimed."""
RECORD_MAX = 64 * 1024 * 1024

Record = tuple[int, bytes, bytes]
"""``(offset after the record, topic, body)``."""


class Spool:
    """One forwarder's buffer. Single-threaded: the forwarder's loop owns it."""

    def __init__(self, directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.directory = ensure_private_dir(directory)
        self.path = directory / SPOOL_FILE
        self.acked_path = directory / ACKED_FILE
        self.max_bytes = max_bytes
        self.dropped = 0
        self.appended = 0
        self._full_logged = False
        self._file = self.path.open("ab+")
        self.size = self._recover()
        self.acked = min(self._read_acked(), self.size)

    # -- opening -------------------------------------------------------------------------------
    def _read_acked(self) -> int:
        """The acked offset, when it was written for this very file (``inode offset``): a
        crash between a compaction's rename and the new offset leaves the old inode, and the
        compacted file is then all unacknowledged, which is right."""
        try:
            inode, offset = self.acked_path.read_text(encoding="ascii").split()
            if int(inode) != os.fstat(self._file.fileno()).st_ino:
                return 0
            return max(0, int(offset))
        except (OSError, ValueError):
            return 0

    def _recover(self) -> int:
        """The length of the whole records in the file; a torn last record is cut off."""
        self._file.seek(0, os.SEEK_END)
        end = self._file.tell()
        offset = 0
        self._file.seek(0)
        while offset + HEADER.size <= end:
            head = self._file.read(HEADER.size)
            topic_len, body_len = HEADER.unpack(head)
            following = offset + HEADER.size + topic_len + body_len
            if following > end or topic_len + body_len > RECORD_MAX:
                break
            self._file.seek(following)
            offset = following
        if offset != end:
            logger.warning("spool: a torn record at the end was cut off",
                           extra={"spool": str(self.path), "bytes": end - offset})
            self._file.truncate(offset)
        return offset

    # -- writing -------------------------------------------------------------------------------
    @property
    def pending_bytes(self) -> int:
        """Bytes appended and not yet acknowledged."""
        return self.size - self.acked

    def append(self, topic: bytes, body: bytes) -> bool:
        """Keep one frame for the upstream; False (counted) when the spool is full."""
        record = HEADER.pack(len(topic), len(body)) + topic + body
        if self.pending_bytes + len(record) > self.max_bytes:
            self.dropped += 1
            if not self._full_logged:
                self._full_logged = True
                logger.error("spool full: frames for the upstream are dropped",
                             extra={"spool": str(self.path), "max_bytes": self.max_bytes})
            return False
        self._file.seek(0, os.SEEK_END)
        self._file.write(record)
        self._file.flush()  # in the kernel: a crash of this process loses nothing
        self.size += len(record)
        self.appended += 1
        return True

    # -- reading -------------------------------------------------------------------------------
    def read(self, offset: int, limit: int) -> list[Record]:
        """Up to ``limit`` records from ``offset`` (a record boundary)."""
        records: list[Record] = []
        self._file.seek(offset)
        while len(records) < limit and offset + HEADER.size <= self.size:
            topic_len, body_len = HEADER.unpack(self._file.read(HEADER.size))
            topic = self._file.read(topic_len)
            body = self._file.read(body_len)
            offset += HEADER.size + topic_len + body_len
            records.append((offset, topic, body))
        return records

    def ack(self, offset: int) -> int:
        """Everything before ``offset`` reached the upstream. Returns how far every offset
        moved back (a compaction reclaimed that many bytes), else 0."""
        if offset <= self.acked:
            return 0
        self.acked = offset
        self._full_logged = False
        shift = 0
        if self.acked >= COMPACT_AT and self.acked * 2 >= self.size:
            shift = self.acked
            self._compact()
        self._write_acked()
        return shift

    def _write_acked(self) -> None:
        temp = self.acked_path.with_suffix(".tmp")
        inode = os.fstat(self._file.fileno()).st_ino
        temp.write_text(f"{inode} {self.acked}", encoding="ascii")
        temp.replace(self.acked_path)

    def _compact(self) -> None:
        """Copy the unacknowledged tail to a new file; offsets restart at 0."""
        temp = self.path.with_suffix(".tmp")
        self._file.seek(self.acked)
        with temp.open("wb") as out:
            while chunk := self._file.read(1024 * 1024):
                out.write(chunk)
        temp.replace(self.path)
        self._file.close()
        self._file = self.path.open("ab+")
        self.size -= self.acked
        self.acked = 0

    def close(self) -> None:
        """Close the file (what is in it stays for the next start)."""
        self._file.close()
