"""Rewriting archive history: re-redact old snapshots, purge records, crash-safe.

A user who finds a leaked key in the archive (a secret shape the redactor did not know when the
frame was written, or a ``[[redact]]`` pattern added since) must be able to clean the disk:
``panebus archive redact`` applies the current rules to every archived frame and ``panebus
archive purge`` removes the frames of a time range or a pane. Both go through :func:`rewrite`:

- each segment that changes is written whole to a temp file, fsynced and renamed over the old
  one (:func:`sinks.archive_format.write_segment`), so a crash leaves every segment either as it
  was or as it is meant to be, never half; running the command again finishes the job (a
  segment already clean is not touched), and a temp file a crash left behind is removed;
- closed (gzipped) segments are rewritten gzipped, open ones plain; a segment left empty is
  deleted, and so is a day folder left empty;
- there is no separate index to go stale: each record carries its own length and CRC and is
  re-framed with its new body, frame ids are kept (replay and acknowledgements still match),
  ``sha256`` is recomputed for the new text, and the archive writer rebuilds what it remembers
  (last hash per pane, ids) from the segments when it starts;
- it never runs beside a writer: the writer holds a shared lock on ``<root>/.lock`` while it is
  open, a rewrite takes it exclusively, and :class:`ArchiveBusy` says to stop the sink first.

Pure of the scraper: the redaction itself is passed in (``sinks`` never imports ``scraper``).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import fcntl
import logging
import os
import typing as t

from sinks import archive_format as fmt
from sinks.files import fsync_dir

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.frames import Body
    from sinks.archive_query import Query

logger = logging.getLogger(__name__)

LOCK_FILE = ".lock"
PRIVATE_DIR = 0o700


class ArchiveBusy(RuntimeError):
    """A running archive writer holds the archive; a rewrite would lose what it appends."""


#: One frame in, the frame to keep (changed or not) or ``None`` to drop it, and what changed.
Transform = t.Callable[["Body"], tuple["Body | None", "collections.Counter[str]"]]


@dataclasses.dataclass
class SegmentChange:
    """What a rewrite did (or, in a dry run, would do) to one segment."""

    path: Path
    records: int  # whole records before
    kept: int  # records after
    changed: int  # records kept but rewritten
    torn_bytes: int  # a torn tail dropped with the rewrite
    counts: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)

    @property
    def removed(self) -> int:
        """Records dropped."""
        return self.records - self.kept


@dataclasses.dataclass
class RewriteReport:
    """Every segment looked at and the ones that changed."""

    dry_run: bool
    segments: int = 0
    records: int = 0
    changes: list[SegmentChange] = dataclasses.field(default_factory=list)
    stale_temp_files: int = 0

    @property
    def removed(self) -> int:
        """Records dropped in all segments."""
        return sum(change.removed for change in self.changes)

    @property
    def changed(self) -> int:
        """Records rewritten (kept, with new content) in all segments."""
        return sum(change.changed for change in self.changes)

    @property
    def counts(self) -> collections.Counter[str]:
        """What the transform counted over all segments (secrets masked per kind)."""
        total: collections.Counter[str] = collections.Counter()
        for change in self.changes:
            total.update(change.counts)
        return total


def _lock(root: Path, operation: int) -> int | None:
    """Open ``<root>/.lock`` and flock it (non-blocking); the fd, or None when held elsewhere."""
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def hold_for_writing(root: Path) -> int | None:
    """The archive writer's shared lock (several writers in tests are fine; a rewrite is not).

    Returns the fd to release with :func:`release`, or None while a rewrite runs (the writer
    then goes on without it: losing frames is worse than racing a rewrite the user started).
    """
    fd = _lock(root, fcntl.LOCK_SH)
    if fd is None:
        logger.warning(
            "archive is being rewritten while the writer starts", extra={"root": str(root)}
        )
    return fd


def release(fd: int | None) -> None:
    """Release a lock taken by :func:`hold_for_writing` (closing the fd drops the flock)."""
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def make_private(root: Path) -> None:
    """The archive root and its day folders: 0700, whatever they were created with."""
    for directory in (root, *sorted({path.parent for path in fmt.segments(root)})):
        with contextlib.suppress(OSError):
            if directory.stat().st_mode & 0o077:
                directory.chmod(PRIVATE_DIR)


def _remove_stale_temp_files(root: Path) -> int:
    removed = 0
    if not root.is_dir():
        return 0
    for day in root.iterdir():
        if not day.is_dir():
            continue
        for path in day.iterdir():
            if path.name.startswith(".") and path.name.endswith(".tmp"):
                path.unlink()  # a rewrite or compression a crash interrupted
                removed += 1
    return removed


def rewrite(
    root: Path,
    transform: Transform,
    *,
    dry_run: bool = False,
    days: tuple[str, str] = ("0000-00-00", "9999-99-99"),
) -> RewriteReport:
    """Apply ``transform`` to every frame of the segments of ``days`` (inclusive); write back
    only segments that change. Raises :class:`ArchiveBusy` while a writer has the archive."""
    report = RewriteReport(dry_run=dry_run)
    if not root.is_dir():
        return report
    fd = _lock(root, fcntl.LOCK_EX)
    if fd is None:
        msg = (
            f"the archive at {root} is open in a running archive sink (`panebus up` or "
            "`panebus sink archive`): stop it, run this again, then start it"
        )
        raise ArchiveBusy(msg)
    try:
        if not dry_run:
            report.stale_temp_files = _remove_stale_temp_files(root)
        for path in fmt.segments(root):
            if not days[0] <= path.parent.name <= days[1]:
                continue
            report.segments += 1
            change, bodies = _rewrite_one(path, transform)
            report.records += change.records
            if change.kept == change.records and not change.changed and not change.torn_bytes:
                continue
            report.changes.append(change)
            if not dry_run:
                _write_back(path, bodies)
        if not dry_run:
            make_private(root)
    finally:
        release(fd)
    return report


def _rewrite_one(path: Path, transform: Transform) -> tuple[SegmentChange, list[Body]]:
    scan = fmt.read_segment(path)
    torn = 0
    if scan.torn and path.name.endswith(fmt.SEGMENT_SUFFIX):
        torn = path.stat().st_size - scan.good_length
    change = SegmentChange(path=path, records=len(scan.bodies), kept=0, changed=0,
                           torn_bytes=torn)
    kept: list[Body] = []
    for body in scan.bodies:
        new, counts = transform(body)
        if new is None:
            continue
        kept.append(new)
        if new != body:
            change.changed += 1
            change.counts.update(counts)
    change.kept = len(kept)
    return change, kept


def _write_back(path: Path, bodies: list[Body]) -> None:
    if bodies:
        fmt.write_segment(path, bodies)
        logger.info("rewrote a segment", extra={"path": str(path), "records": len(bodies)})
        return
    path.unlink()
    fsync_dir(path.parent)
    logger.info("removed an emptied segment", extra={"path": str(path)})
    with contextlib.suppress(OSError):  # not empty: other segments remain
        path.parent.rmdir()
        fsync_dir(path.parent.parent)


def purge(query: Query) -> Transform:
    """A transform dropping every frame ``query`` matches."""

    def drop(body: Body) -> tuple[Body | None, collections.Counter[str]]:
        return (None if query.matches(body) else body), collections.Counter()

    return drop


def only(query: Query, transform: Transform) -> Transform:
    """``transform`` for the frames ``query`` matches; the others are kept as they are."""

    def apply(body: Body) -> tuple[Body | None, collections.Counter[str]]:
        if query.matches(body):
            return transform(body)
        return body, collections.Counter()

    return apply


class Redacting(t.Protocol):
    """What :func:`redaction` needs from :class:`scraper.redact.Redactor`."""

    def redact(self, text: str, width: int | None = None) -> t.Any: ...  # .text, .counts

    def redact_fields(self, values: t.Mapping[str, t.Any]) -> tuple[dict[str, t.Any], int]: ...


def redaction(redactor: Redacting, digest: t.Callable[[str], str]) -> Transform:
    """A transform masking secrets in a frame's ``text`` and ``pane`` with today's rules;
    ``digest`` recomputes ``sha256`` (the scraper's :func:`scraper.pipeline.sha256_text`)."""

    def mask(body: Body) -> tuple[Body | None, collections.Counter[str]]:
        counts: collections.Counter[str] = collections.Counter()
        new = dict(body)
        text = body.get("text")
        pane = body.get("pane")
        width = pane.get("width") if isinstance(pane, dict) else None
        if isinstance(text, str):
            result = redactor.redact(text, width if isinstance(width, int) else None)
            if result.text != text:
                new["text"] = result.text
                new["sha256"] = digest(result.text)
                counts.update(result.counts)
        if isinstance(pane, dict):
            fields, masked = redactor.redact_fields(pane)
            if fields != pane:
                new["pane"] = fields
                counts["pane-field"] += masked
        return new, counts

    return mask
