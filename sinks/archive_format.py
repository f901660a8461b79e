"""The archive's on-disk format: segment names and self-checking records.

A segment holds the raw frames of one pane for one UTC day (``<root>/<YYYY-MM-DD>/<name>.rec``,
gzipped to ``.rec.gz`` once the day is closed). Each record is one line::

    <length:8 hex> <crc32:8 hex> <orjson body>\\n

orjson never writes a raw newline, so records are lines and ``grep`` still works on a segment.
A record is whole only if its length, its CRC-32 and its final newline all check out: a crash in
the middle of a write leaves a tail that fails one of them, and :func:`scan` reports where the
last whole record ends so the writer can cut the rest.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import re
import typing as t
import zlib

from bus.clock import UTC, parse_rfc3339, utcnow
from bus.codec import dumps, loads
from sinks.files import fsync_dir

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.frames import Body

SEGMENT_SUFFIX = ".rec"
CLOSED_SUFFIX = ".rec.gz"
HEADER_LENGTH = 18  # "llllllll cccccccc "
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_UTC_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T[^+-]*(Z|z|\+00:00)$")


def encode_record(body: Body) -> bytes:
    """One framed record for ``body``."""
    payload = dumps(body)
    return b"%08x %08x %s\n" % (len(payload), zlib.crc32(payload), payload)


@dataclasses.dataclass(frozen=True)
class Scan:
    """What :func:`scan` found in a segment's bytes."""

    bodies: list[Body]
    good_length: int  # bytes up to the end of the last whole record
    torn: bool  # bytes after ``good_length`` that are not a whole record


def scan(data: bytes) -> Scan:
    """Decode every whole record from the start; stop at the first damaged one."""
    bodies: list[Body] = []
    offset = 0
    size = len(data)
    while offset < size:
        header = data[offset : offset + HEADER_LENGTH]
        try:
            if len(header) < HEADER_LENGTH or header[8:9] != b" " or header[17:18] != b" ":
                raise ValueError("bad header")
            length = int(header[0:8], 16)
            crc = int(header[9:17], 16)
        except ValueError:
            break
        start = offset + HEADER_LENGTH
        end = start + length
        if end >= size or data[end : end + 1] != b"\n":
            break
        payload = data[start:end]
        if zlib.crc32(payload) != crc:
            break
        try:
            body = loads(payload)
        except ValueError:
            break
        if not isinstance(body, dict):
            break
        bodies.append(body)
        offset = end + 1
    return Scan(bodies=bodies, good_length=offset, torn=offset < size)


def read_segment(path: Path) -> Scan:
    """Scan an open (``.rec``) or closed (``.rec.gz``) segment."""
    if path.name.endswith(CLOSED_SUFFIX):
        with gzip.open(path, "rb") as handle:
            return scan(handle.read())
    return scan(path.read_bytes())


def iter_records(path: Path) -> t.Iterator[Body]:
    """The whole records of a segment, open or compressed, in the order they were written."""
    yield from read_segment(path).bodies


def write_segment(path: Path, bodies: t.Iterable[Body]) -> None:
    """Write ``bodies`` as the whole segment ``path``, atomically (temp file, fsync, rename).

    A ``.rec.gz`` path is written compressed. For tools that rewrite a closed segment (the
    writer's compression, a purge); the writer itself only ever appends to open segments.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    data = encode_many(bodies)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # pane text: the user's only
    os.fchmod(fd, 0o600)  # a temp file a crash left behind may have had another mode
    with os.fdopen(fd, "wb") as raw:
        if path.name.endswith(CLOSED_SUFFIX):
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as zipped:
                zipped.write(data)
        else:
            raw.write(data)
        raw.flush()
        os.fsync(raw.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)


def segment_name(body: Body) -> str:
    """File name (without suffix) of the segment a raw frame belongs to: provider, server, pane,
    and, for a frame another host's forwarder relayed (``via``), that host: two hosts' panes
    of the same server name and pane id never share a segment (nor its duplicate-text check).

    >>> segment_name({"provider": "codex", "pane": {"server": "default", "pane_id": "%3"}})
    'codex-default-p3'
    >>> segment_name({"provider": "codex", "pane": {"server": "default", "pane_id": "%3"},
    ...               "via": "build-box"})
    'codex-default-p3.build-box'
    """
    pane = body.get("pane") or {}
    server = _UNSAFE.sub("_", str(pane.get("server") or "default")).strip("_.") or "default"
    pane_id = _UNSAFE.sub("_", str(pane.get("pane_id") or "unknown").lstrip("%")) or "unknown"
    provider = _UNSAFE.sub("_", str(body.get("provider") or "unknown"))
    via = body.get("via")
    host = _UNSAFE.sub("_", via).strip("_.") if isinstance(via, str) else ""
    return f"{provider}-{server}-p{pane_id}" + (f".{host}" if host else "")


def segment_day(body: Body) -> str:
    """The UTC day (``YYYY-MM-DD``) of a frame's observation: the segment's folder."""
    observed = str(body.get("observed_at") or "")
    if _UTC_STAMP.match(observed):
        return observed[:10]  # the common case, without parsing
    try:
        return parse_rfc3339(observed).astimezone(UTC).date().isoformat()
    except ValueError:
        return utcnow().date().isoformat()


def segment_relpath(body: Body) -> str:
    """``<day>/<name>.rec`` relative to the archive root (what the feature log shows)."""
    return f"{segment_day(body)}/{segment_name(body)}{SEGMENT_SUFFIX}"


def segments(root: Path) -> list[Path]:
    """Every segment under ``root``, oldest day first."""
    if not root.is_dir():
        return []
    return [
        path
        for day in sorted(root.iterdir())
        if day.is_dir() and re.fullmatch(r"\d{4}-\d{2}-\d{2}", day.name)
        for path in sorted(day.iterdir())
        if path.name.endswith((SEGMENT_SUFFIX, CLOSED_SUFFIX))
    ]


def encode_many(bodies: t.Iterable[Body]) -> bytes:
    """Records for ``bodies``, concatenated (used when compressing a segment)."""
    return b"".join(encode_record(body) for body in bodies)
