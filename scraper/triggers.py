"""When to capture: debounced pane output and file events (timers live in the scrape loop).

Agents redraw constantly while they work; capturing on every ``%output`` would capture
hundreds of times a second. :class:`Debouncer` turns a burst of pokes into one call: after
``quiet`` seconds without a poke (trailing debounce), or at the latest ``max_wait`` seconds
after the first poke of the burst, so a pane that never stops printing is still captured —
but never sooner than ``min_gap`` seconds after the previous call for that key, so a spinner
redrawing ten times a second costs one capture a second, not ten.

:class:`FileTrigger` watches the agents' own files (Codex session logs, Claude project
transcripts, configured paths) with watchdog: a write there means the agent just did
something, so its panes are worth a look. Dirs that do not exist yet are picked up by
:meth:`FileTrigger.refresh`, which the scrape loop calls on every discovery sweep.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from scraper.sources import locations

if t.TYPE_CHECKING:
    from pathlib import Path

    from scraper.config import WatchedPath

logger = logging.getLogger(__name__)

K = t.TypeVar("K")


class Debouncer(t.Generic[K]):
    """Trailing debounce with a maximum wait, per key, on one timer thread."""

    def __init__(
        self,
        fire: t.Callable[[K], None],
        quiet: float,
        max_wait: float,
        *,
        min_gap: float = 0.0,
        name: str = "debounce",
    ) -> None:
        self.fire = fire
        self.quiet = quiet
        self.max_wait = max_wait
        self.min_gap = min_gap
        self.fired = 0
        self._bursts: dict[K, tuple[float, float]] = {}  # key -> (first poke, last poke)
        self._last_fire: dict[K, float] = {}
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        """Start the timer thread."""
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop without firing pending bursts."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the timer thread runs (the supervisor of ``up`` watches it)."""
        return self._thread.is_alive()

    def poke(self, key: K) -> None:
        """Something happened for ``key``."""
        now = time.monotonic()
        with self._cond:
            first, _ = self._bursts.get(key, (now, now))
            self._bursts[key] = (first, now)
            if len(self._bursts) == 1 or first == now:
                self._cond.notify()

    def pending(self) -> int:
        """Number of keys waiting to fire."""
        with self._cond:
            return len(self._bursts)

    def _due(self, key: K, first: float, last: float) -> float:
        due = min(last + self.quiet, first + self.max_wait)
        previous = self._last_fire.get(key)
        return due if previous is None else max(due, previous + self.min_gap)

    def _loop(self) -> None:
        while True:
            ready: list[K] = []
            with self._cond:
                if self._stop:
                    return
                now = time.monotonic()
                wait: float | None = None
                for key, (first, last) in list(self._bursts.items()):
                    due = self._due(key, first, last)
                    if due <= now:
                        ready.append(key)
                        del self._bursts[key]
                        self._last_fire[key] = now
                    else:
                        wait = due - now if wait is None else min(wait, due - now)
                if not ready:
                    self._cond.wait(wait)
                    continue
            for key in ready:
                self.fired += 1
                try:
                    self.fire(key)
                except Exception:
                    logger.exception("debounced action failed", extra={"key": str(key)})


def default_watch_paths(environ: t.Mapping[str, str] | None = None) -> list[tuple[str, Path]]:
    """(provider, dir) the agents write to: Codex sessions, Claude projects."""
    paths = [("codex", locations.codex_sessions_dir(environ))]
    paths += [("claude", path) for path in locations.claude_projects_dirs(environ)]
    return paths


class _Handler(FileSystemEventHandler):
    def __init__(self, provider: str, poke: t.Callable[[str, str], None]) -> None:
        self.provider = provider
        self.poke = poke

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads (ours, the tailer's) are not activity
        self.poke(self.provider, str(event.src_path))


class FileTrigger:
    """watchdog on the agents' dirs; ``on_provider(provider)`` fires, debounced."""

    def __init__(
        self,
        on_provider: t.Callable[[str], None],
        extra: t.Sequence[WatchedPath] = (),
        debounce: float = 1.0,
        environ: t.Mapping[str, str] | None = None,
    ) -> None:
        self.paths = default_watch_paths(environ) + [(w.provider, w.path) for w in extra]
        self.events = 0
        self._debouncer: Debouncer[str] = Debouncer(
            on_provider,
            quiet=debounce,
            max_wait=debounce * 5,
            min_gap=debounce,
            name="file-trigger",
        )
        self._observer = Observer()
        self._watched: set[tuple[str, Path]] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start watching the dirs that exist now."""
        self._debouncer.start()
        self._observer.start()
        self.refresh()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the observer and the debouncer."""
        self._observer.stop()
        self._observer.join(timeout)
        self._debouncer.stop(timeout)

    @property
    def alive(self) -> bool:
        """Whether the observer and the debouncer threads run."""
        return self._observer.is_alive() and self._debouncer.alive

    def watching(self) -> list[Path]:
        """The dirs watched right now."""
        with self._lock:
            return sorted(path for _, path in self._watched)

    def refresh(self) -> None:
        """Start watching configured dirs that have appeared since the last call."""
        for provider, path in self.paths:
            key = (provider, path)
            with self._lock:
                if key in self._watched:
                    continue
            if not path.exists():
                continue
            try:
                self._observer.schedule(
                    _Handler(provider, self._poke), str(path), recursive=path.is_dir()
                )
            except OSError as exc:
                logger.warning("cannot watch %s: %s", path, exc)
                continue
            with self._lock:
                self._watched.add(key)
            logger.info("watching files", extra={"provider": provider, "path": str(path)})

    def _poke(self, provider: str, path: str) -> None:
        self.events += 1
        logger.debug("file event", extra={"provider": provider, "path": path})
        self._debouncer.poke(provider)
