"""Follow Codex session logs as Codex writes them and report each change of the figures.

A watchdog observer watches ``$CODEX_HOME/sessions`` (and any configured dir) recursively.
For each ``rollout-*.jsonl`` it keeps the byte offset read so far and reads only what was
appended; a line is used once its newline has arrived (Codex may be caught mid-write). A file
whose inode changed or that shrank was rotated or truncated: it is read again from the start.
A broken line is counted and logged, never fatal. A sessions dir that does not exist yet (a
fresh install) is waited for by watching its nearest existing parent; the tailer moves down
as the dirs appear.

At start only the newest existing log is read and reported: older sessions are read silently
the first time they grow again (a resumed session), so their old figures never overwrite the
current ones. ``on_usage(path, usage)`` is called only when a newly read ``token_count`` (or a
limit-hit error) changed the figures; calls are serialized.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import threading
import typing as t
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from scraper.sources import locations
from scraper.sources.publish import earliest_reset, parsed_body
from scraper.sources.rollout import MAX_LINE_BYTES, RolloutState, figures_key

if t.TYPE_CHECKING:
    from bus.frames import Body
    from scraper.parsers.model import Usage

logger = logging.getLogger(__name__)

UsageCallback = t.Callable[[Path, "Usage"], None]
READ_CHUNK = 1 << 20
#: How many of the newest logs ``scan`` reads at start to find current figures.
NEWEST_TRIES = 5
#: Bound on re-checking the watched dirs after one event (``mkdir -p`` races the watcher).
MAX_WATCH_MOVES = 32


def rollout_frame(usage: Usage) -> Body:
    """The ``parsed.codex.rollout`` body for ``usage`` (source log, confidence official)."""
    return parsed_body(usage, "log", "official", stale_after=earliest_reset(usage))


@dataclasses.dataclass
class _Tracked:
    """Reading position and accumulated figures of one rollout file."""

    ident: tuple[int, int]
    offset: int = 0
    pending: bytes = b""
    silent_until: int = 0
    #: Complete lines read so far (for "file:line" in logs).
    lines: int = 0
    #: Inside a line longer than ``MAX_LINE_BYTES``: its bytes are dropped up to its newline.
    oversized: int = 0
    state: RolloutState = dataclasses.field(default_factory=RolloutState)


class _Handler(FileSystemEventHandler):
    def __init__(self, tailer: RolloutTailer) -> None:
        self.tailer = tailer

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            self.tailer.handle_event(event)
        except Exception:  # one bad event must not stop the observer thread
            logger.exception("rollout event failed", extra={"path": str(event.src_path)})


class RolloutTailer:
    """Tail every rollout file under ``roots`` and call ``on_usage`` when figures change.

    ``roots`` defaults to ``$CODEX_HOME/sessions``; ``extra_roots`` adds configured dirs.
    Use as a context manager or call :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        on_usage: UsageCallback,
        roots: t.Sequence[Path] | None = None,
        *,
        extra_roots: t.Sequence[Path] = (),
        environ: t.Mapping[str, str] | None = None,
    ) -> None:
        base = list(roots) if roots is not None else [locations.codex_sessions_dir(environ)]
        self.roots = [Path(root).expanduser().absolute() for root in (*base, *extra_roots)]
        self.on_usage = on_usage
        #: Lines skipped so far (unreadable or too long), and why: see :meth:`stats`.
        self.bad_lines = 0
        self.skip_reasons: collections.Counter[str] = collections.Counter()
        self.callback_errors = 0
        self.reported = 0
        self._files: dict[Path, _Tracked] = {}
        self._baseline: dict[Path, tuple[tuple[int, int], int]] = {}
        self._last_key: tuple[t.Any, ...] | None = None
        self._lock = threading.RLock()
        self._observer: t.Any = None
        self._watches: dict[tuple[Path, bool], t.Any] = {}
        self._handler = _Handler(self)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Watch the roots (or their nearest existing parents) and report the newest log."""
        self._observer = Observer()
        self._observer.daemon = True
        with self._lock:
            self._refresh_watches()
        self._observer.start()
        self.scan(report="newest")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching; joins the observer thread for at most ``timeout`` seconds."""
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            observer.join(timeout)
        self._watches.clear()

    def __enter__(self) -> RolloutTailer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def watching(self) -> list[Path]:
        """The dirs watched right now (a root, or the nearest parent while it is missing)."""
        with self._lock:
            return sorted(path for path, _ in self._watches)

    def stats(self) -> dict[str, t.Any]:
        """Counters for health reports: reports, skipped lines by reason, callback errors."""
        with self._lock:
            return {
                "files": len(self._files),
                "reported": self.reported,
                "bad_lines": self.bad_lines,
                "skip_reasons": dict(self.skip_reasons),
                "callback_errors": self.callback_errors,
            }

    def position(self, path: Path) -> int | None:
        """Bytes of ``path`` read so far (``None`` when it is not followed)."""
        with self._lock:
            tracked = self._files.get(Path(path))
            return None if tracked is None else tracked.offset

    # -- reading ---------------------------------------------------------------------------

    def rollout_files(self) -> list[Path]:
        """Every rollout file under the roots, oldest first (by modification time)."""
        found: list[tuple[float, Path]] = []
        for root in self.roots:
            if not root.is_dir():
                continue
            for path in root.rglob(locations.ROLLOUT_GLOB):
                try:
                    found.append((path.stat().st_mtime, path))
                except OSError:
                    continue
        return [path for _, path in sorted(found)]

    def scan(self, report: t.Literal["newest", "all"] = "newest") -> None:
        """Read the existing logs: ``newest`` reports the newest one with figures; ``all``
        reads every one.

        With ``newest`` the logs are tried newest first (a session that just started has no
        ``token_count`` yet), at most :data:`NEWEST_TRIES` of them; the others are remembered
        at their current size and read silently when they next grow, so an old session never
        overwrites the current figures.
        """
        files = self.rollout_files()
        with self._lock:
            if report == "all":
                for path in files:
                    self.poll(path)
                return
            reported = self.reported
            tried = 0
            for path in reversed(files):
                if tried < NEWEST_TRIES and self.reported == reported:
                    tried += 1
                    self.poll(path)
                    continue
                try:
                    info = path.stat()
                except OSError:
                    continue
                self._baseline[path] = ((info.st_dev, info.st_ino), info.st_size)

    def poll(self, path: Path) -> None:
        """Read what was appended to ``path`` since the last call and report a change."""
        with self._lock:
            try:
                info = path.stat()
            except FileNotFoundError:
                self.forget(path)
                return
            ident = (info.st_dev, info.st_ino)
            tracked = self._files.get(path)
            if tracked is not None and (tracked.ident != ident or info.st_size < tracked.offset):
                logger.info("rollout file rotated or truncated", extra={"path": str(path)})
                tracked = None
            if tracked is None:
                baseline = self._baseline.pop(path, None)
                silent = baseline[1] if baseline is not None and baseline[0] == ident else 0
                tracked = _Tracked(ident=ident, silent_until=silent)
                self._files[path] = tracked
            self._read_appended(path, tracked)

    def forget(self, path: Path) -> None:
        """Drop a deleted or moved-away file."""
        with self._lock:
            self._files.pop(path, None)
            self._baseline.pop(path, None)

    def _read_appended(self, path: Path, tracked: _Tracked) -> None:
        """Read to the end, then report once: a burst of lines is one change, not many."""
        changed = False
        try:
            with path.open("rb") as handle:
                handle.seek(tracked.offset)
                while chunk := handle.read(READ_CHUNK):
                    changed = self._feed_chunk(path, tracked, chunk) or changed
        except FileNotFoundError:
            self.forget(path)
            return
        except OSError as exc:
            logger.warning("cannot read rollout file: %s", exc, extra={"path": str(path)})
        if changed:
            self._report(path, tracked.state)

    def _feed_chunk(self, path: Path, tracked: _Tracked, chunk: bytes) -> bool:
        """Feed the complete lines of ``chunk``; whether a reported line changed the state.

        ``offset`` moves past each line as it is handled, so nothing can skip the rest of a
        chunk; a line longer than ``MAX_LINE_BYTES`` is dropped as it streams by (memory stays
        bounded by one such line plus one chunk) and counted once its newline arrives.
        """
        state = tracked.state
        skipped_before = collections.Counter(state.skip_reasons)
        changed = False
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            if newline < 0:
                self._hold_partial(tracked, chunk[start:])
                break
            piece = chunk[start:newline]
            start = newline + 1
            tracked.lines += 1
            if tracked.oversized:
                line_bytes = tracked.oversized + len(piece)
                tracked.oversized = 0
                tracked.offset += len(piece) + 1
                self._skip_oversized(path, tracked, line_bytes)
                continue
            line = tracked.pending + piece if tracked.pending else piece
            tracked.pending = b""
            tracked.offset += len(piece) + 1
            if not line.strip():
                continue
            marks = (state.token_counts, state.error)
            state.read_line(line, path=str(path), line_number=tracked.lines)
            if tracked.offset > tracked.silent_until and (state.token_counts, state.error) != marks:
                changed = True
        self._count_skipped(state, skipped_before)
        return changed

    @staticmethod
    def _hold_partial(tracked: _Tracked, rest: bytes) -> None:
        """Keep the start of a line whose newline has not arrived (bounded, see above)."""
        tracked.offset += len(rest)
        if tracked.oversized:
            tracked.oversized += len(rest)
            return
        if len(tracked.pending) + len(rest) > MAX_LINE_BYTES:
            tracked.oversized = len(tracked.pending) + len(rest)
            tracked.pending = b""
            return
        tracked.pending += rest

    @staticmethod
    def _skip_oversized(path: Path, tracked: _Tracked, size: int) -> None:
        tracked.state.skip(
            "line too long", f"{size} bytes", path=str(path), line_number=tracked.lines
        )

    def _count_skipped(self, state: RolloutState, before: collections.Counter[str]) -> None:
        """Add what ``state`` skipped since ``before`` to the tailer's own counters."""
        new = state.skip_reasons - before
        if new:
            self.skip_reasons.update(new)
            self.bad_lines += sum(new.values())

    def _report(self, path: Path, state: RolloutState) -> None:
        usage = state.usage()
        if usage is None:
            return
        key = figures_key(usage)
        if key == self._last_key:
            return
        self._last_key = key
        try:
            self.on_usage(path, usage)
            self.reported += 1
        except Exception:  # a failing consumer must not stop the tailer
            self.callback_errors += 1
            logger.exception("rollout callback failed", extra={"path": str(path)})

    # -- watching --------------------------------------------------------------------------

    def handle_event(self, event: FileSystemEvent) -> None:
        """Dispatch one watchdog event (public so the scraper can forward its own events)."""
        src = Path(os.fsdecode(event.src_path))
        if isinstance(event, (DirCreatedEvent, DirDeletedEvent, DirMovedEvent)):
            with self._lock:
                self._refresh_watches()
                if isinstance(event, DirCreatedEvent) and self._under_root(src):
                    for path in sorted(src.rglob(locations.ROLLOUT_GLOB)):
                        self.poll(path)
            return
        if isinstance(event, FileDeletedEvent):
            self.forget(src)
        elif isinstance(event, FileMovedEvent):
            self.forget(src)
            dest = Path(os.fsdecode(event.dest_path))
            if locations.is_rollout_file(dest) and self._under_root(dest):
                self.poll(dest)
        elif (
            isinstance(event, (FileCreatedEvent, FileModifiedEvent, FileClosedEvent))
            and locations.is_rollout_file(src)
            and self._under_root(src)
        ):
            self.poll(src)

    def _under_root(self, path: Path) -> bool:
        return any(root == path or root in path.parents for root in self.roots)

    def _wanted_watches(self) -> set[tuple[Path, bool]]:
        wanted: set[tuple[Path, bool]] = set()
        for root in self.roots:
            if root.is_dir():
                wanted.add((root, True))
                continue
            parent = locations.nearest_existing(root.parent)
            if parent is not None:
                wanted.add((parent, False))
        return wanted

    def _refresh_watches(self) -> None:
        """Watch each root recursively once it exists, else its nearest existing parent.

        Repeats until nothing changes: a dir created while a watch was being moved would
        otherwise send its event to no one.
        """
        if self._observer is None:
            return
        for _ in range(MAX_WATCH_MOVES):
            wanted = self._wanted_watches()
            if wanted == set(self._watches) or not self._apply_watches(wanted):
                return

    def _apply_watches(self, wanted: set[tuple[Path, bool]]) -> bool:
        """Move the watches to ``wanted``; ``False`` when a dir could not be watched."""
        complete = True
        newly_existing = [path for path, recursive in wanted - set(self._watches) if recursive]
        for key in set(self._watches) - wanted:
            try:
                self._observer.unschedule(self._watches.pop(key))
            except (KeyError, OSError):
                logger.debug("watch already gone", extra={"path": str(key[0])})
        for key in wanted - set(self._watches):
            path, recursive = key
            try:
                self._watches[key] = self._observer.schedule(
                    self._handler, str(path), recursive=recursive
                )
                logger.info("watching for rollout files", extra={"path": str(path)})
            except OSError as exc:
                complete = False
                logger.warning(
                    "cannot watch %s: %s", path, exc,
                    extra={"path": str(path), "reason": type(exc).__name__},
                )
        if self._observer.is_alive():
            # Files written before the recursive watch existed would otherwise be missed.
            for root in newly_existing:
                for path in sorted(root.rglob(locations.ROLLOUT_GLOB)):
                    self.poll(path)
        return complete
