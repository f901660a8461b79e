"""When to capture: pane output, coalesced per pane, and file events (timers: the scrape loop).

Agents redraw constantly while they work; capturing on every ``%output`` would capture
hundreds of times a second, and a spinner redrawing ten times a second holds nothing new.
:class:`OutputGate` decides per pane, from the bytes of each ``%output``
(:func:`scraper.changes.may_hold_figure`):

- output that may hold a new figure (a new card, banner, footer gauge or limit line), and the
  first output after a quiet spell, are captured at once: after ``quiet`` seconds without
  more output, at the latest ``max_wait`` after the first, never sooner than ``min_gap`` after
  the previous such capture;
- anything else is coalesced: at most one capture per ``busy`` seconds while the output keeps
  coming, that interval doubling (up to ``max_busy``) while the captures find only spinner
  ticks, and one capture as soon as the pane has been quiet for ``settle`` seconds; these
  captures fall due on a quarter-second grid, so many busy panes share one wakeup, and they go
  out together (``fire_routine``) so the scraper captures them in one pipelined round trip.

:class:`Debouncer` is the plain trailing debounce with a maximum wait, per key (file events).
:class:`FileTrigger` watches the agents' own files (Codex session logs, Claude project
transcripts, configured paths) with watchdog: a write there means the agent just did
something, so its panes are worth a look. Dirs that do not exist yet are picked up by
:meth:`FileTrigger.refresh`, which the scrape loop calls on every discovery sweep.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import logging
import math
import threading
import time
import typing as t

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from scraper.changes import Known, may_hold_figure
from scraper.sources import locations

if t.TYPE_CHECKING:
    from pathlib import Path

    from scraper.config import WatchedPath

logger = logging.getLogger(__name__)

K = t.TypeVar("K")
#: Coalescing of output that holds no new figure (seconds); see :class:`OutputGate`.
BUSY_INTERVAL = 1.0
#: The longest gap between coalesced captures of a pane whose captures find only spinner ticks:
#: the default timer interval, the floor a pane had before output triggers existed.
MAX_BUSY_INTERVAL = 30.0
SETTLE = 1.5
#: Coalesced captures are due on a grid of this many seconds, so busy panes share wakeups.
ROUTINE_GRID = 0.25


class _Schedule(t.Generic[K]):
    """One timer thread firing keys when they come due; what is due is the subclass's call.

    Due times sit in a heap, so a wakeup costs only the keys due then, not one look at every
    key (200 busy panes would otherwise be scanned on every new burst), and a poke that does not
    make anything due sooner wakes nobody. The heap is lazy: a key gets a new entry only when it
    comes due earlier than its scheduled entry; an entry that fires finds the key's real due
    time then (later pokes may have moved it) and is pushed again when that is still ahead.
    """

    #: Logged when ``fire`` raises (the thread goes on).
    failure = "scheduled action failed"

    def __init__(
        self, fire: t.Callable[[K], None], quiet: float, max_wait: float, min_gap: float, name: str
    ) -> None:
        self.fire = fire
        self.quiet = quiet  # seconds without more pokes before a key fires
        self.max_wait = max_wait  # ... at the latest this long after its first poke
        self.min_gap = min_gap  # ... and never sooner than this after its previous fire
        self.fired = 0
        self._cond = threading.Condition()
        self._stop = False
        self._heap: list[tuple[float, int, K]] = []
        self._order = itertools.count()  # ties: keys themselves need not be comparable
        self._scheduled: dict[K, float] = {}  # the earliest heap entry of each key
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self) -> None:
        """Start the timer thread."""
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop without firing what is pending."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the timer thread runs (the supervisor of ``up`` watches it)."""
        return self._thread.is_alive()

    def _due(self, key: K) -> float | None:
        """Under the lock: when ``key`` fires (None: nothing pending)."""
        raise NotImplementedError

    def _take(self, key: K, now: float) -> bool:
        """Under the lock: ``key`` fires now; clear what was pending. True: it is urgent."""
        raise NotImplementedError

    def _fire(self, ready: list[tuple[K, bool]]) -> None:
        """Outside the lock: act on the keys that came due, (key, urgent) each."""
        for key, _ in ready:
            self.fired += 1
            try:
                self.fire(key)
            except Exception:
                logger.exception(self.failure, extra={"key": str(key)})

    def _schedule(self, key: K) -> None:
        """Under the lock: make sure the heap holds ``key`` at or before its due time."""
        due = self._due(key)
        if due is None:
            return
        scheduled = self._scheduled.get(key)
        if scheduled is not None and scheduled <= due:
            return
        self._scheduled[key] = due
        if not self._heap or due < self._heap[0][0]:
            self._cond.notify()  # sooner than the timer thread's wait
        heapq.heappush(self._heap, (due, next(self._order), key))

    def _forget(self, key: K) -> None:
        """Under the lock: the key's heap entries are stale from now on."""
        self._scheduled.pop(key, None)

    def _ready(self, now: float) -> list[tuple[K, bool]]:
        ready: list[tuple[K, bool]] = []
        while self._heap and self._heap[0][0] <= now:
            at, _, key = heapq.heappop(self._heap)
            if self._scheduled.get(key) != at:
                continue  # superseded by an earlier entry of the same key
            del self._scheduled[key]
            due = self._due(key)
            if due is None:
                continue
            if due <= now:
                ready.append((key, self._take(key, now)))
            else:
                self._schedule(key)
        return ready

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._stop:
                    return
                now = time.monotonic()
                ready = self._ready(now)
                if not ready:
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
                    continue
            self._fire(ready)


class Debouncer(_Schedule[K]):
    """Trailing debounce with a maximum wait, per key, on one timer thread."""

    failure = "debounced action failed"

    def __init__(
        self,
        fire: t.Callable[[K], None],
        quiet: float,
        max_wait: float,
        *,
        min_gap: float = 0.0,
        name: str = "debounce",
    ) -> None:
        super().__init__(fire, quiet, max_wait, min_gap, name)
        self._bursts: dict[K, tuple[float, float]] = {}  # key -> (first poke, last poke)
        self._last_fire: dict[K, float] = {}

    def poke(self, key: K) -> None:
        """Something happened for ``key``."""
        now = time.monotonic()
        with self._cond:
            first, _ = self._bursts.get(key, (now, now))
            self._bursts[key] = (first, now)
            self._schedule(key)

    def pending(self) -> int:
        """Number of keys waiting to fire."""
        with self._cond:
            return len(self._bursts)

    def _due(self, key: K) -> float | None:
        burst = self._bursts.get(key)
        if burst is None:
            return None
        first, last = burst
        due = min(last + self.quiet, first + self.max_wait)
        previous = self._last_fire.get(key)
        return due if previous is None else max(due, previous + self.min_gap)

    def _take(self, key: K, now: float) -> bool:
        del self._bursts[key]
        self._last_fire[key] = now
        return False


@dataclasses.dataclass
class _Pane:
    known: Known | None = None
    last_poke: float = -1e9
    urgent: tuple[float, float] | None = None  # (first, last) poke of pending urgent output
    routine: tuple[float, float] | None = None  # the same for output without a new figure
    last_fire: float = -1e9
    last_urgent_fire: float = -1e9
    gap: float = BUSY_INTERVAL


class OutputGate(_Schedule[K]):
    """Per-pane capture scheduling from ``%output``: figures at once, spinners coalesced.

    ``poke(key, data)`` comes from the control clients' reader threads; ``fire(key)`` (each
    urgent pane) and ``fire_routine(keys)`` (the coalesced ones due together; without it, each
    goes to ``fire``) are called from the gate's own timer thread; :meth:`captured` (from the
    worker that captured the pane) tells the gate what the pane shows now and whether it was
    only a spinner tick.
    """

    failure = "output capture request failed"

    def __init__(
        self,
        fire: t.Callable[[K], None],
        quiet: float,
        max_wait: float,
        *,
        min_gap: float = 0.0,
        busy: float = BUSY_INTERVAL,
        max_busy: float = MAX_BUSY_INTERVAL,
        settle: float = SETTLE,
        fire_routine: t.Callable[[list[K]], None] | None = None,
        name: str = "output-gate",
    ) -> None:
        super().__init__(fire, quiet, max_wait, min_gap, name)
        self.fire_routine = fire_routine
        self.busy = busy
        self.max_busy = max(busy, max_busy)
        self.settle = settle
        self.urgent_fired = 0
        self.pokes = 0
        self._panes: dict[K, _Pane] = {}

    def poke(self, key: K, data: bytes = b"", count: int = 1) -> None:
        """The pane printed ``data`` (tmux-escaped ``%output`` bytes of ``count``
        notifications)."""
        now = time.monotonic()
        pane = self._panes.get(key)
        known = pane.known if pane is not None else None
        # Outside the lock: the only look at the bytes, and the reader thread's own work.
        urgent = pane is None or now - pane.last_poke >= self.settle
        urgent = urgent or may_hold_figure(data, known)
        with self._cond:
            pane = self._panes.setdefault(key, _Pane())
            self.pokes += count
            pane.last_poke = now
            burst = pane.urgent if urgent else pane.routine
            if urgent:
                pane.urgent = (burst[0] if burst else now, now)
            else:
                pane.routine = (burst[0] if burst else now, now)
            if burst is None:  # within a burst the due time only moves later: nothing to do
                self._schedule(key)

    def captured(self, key: K, known: Known | None, spinner_only: bool) -> None:
        """The pane was just captured (any trigger): what it shows, and what the change was."""
        with self._cond:
            pane = self._panes.setdefault(key, _Pane())
            pane.known = known
            pane.gap = min(pane.gap * 2, self.max_busy) if spinner_only else self.busy
            self._schedule(key)  # a shorter gap brings pending output forward

    def forget(self, key: K) -> None:
        """The pane is gone or was respawned."""
        with self._cond:
            self._panes.pop(key, None)
            self._forget(key)

    def pending(self) -> int:
        """Number of panes waiting for a capture."""
        with self._cond:
            return sum(1 for p in self._panes.values() if p.urgent or p.routine)

    def _due(self, key: K) -> float | None:
        pane = self._panes.get(key)
        if pane is None:
            return None
        due: float | None = None
        if pane.urgent is not None:
            first, last = pane.urgent
            due = max(min(last + self.quiet, first + self.max_wait),
                      pane.last_urgent_fire + self.min_gap)
        if pane.routine is not None:
            first, last = pane.routine
            routine = min(last + self.settle, max(first + self.quiet, pane.last_fire + pane.gap))
            # Late by under a quarter second, which a coalesced capture can afford: 200 busy
            # panes then wake the timer (and the worker) a few times a second, not 30.
            routine = math.ceil(routine / ROUTINE_GRID) * ROUTINE_GRID
            due = routine if due is None else min(due, routine)
        return due

    def _take(self, key: K, now: float) -> bool:
        pane = self._panes[key]
        urgent = pane.urgent is not None
        if urgent:
            pane.last_urgent_fire = now
            self.urgent_fired += 1
        pane.urgent = pane.routine = None
        pane.last_fire = now
        return urgent

    def _fire(self, ready: list[tuple[K, bool]]) -> None:
        if self.fire_routine is None:
            super()._fire(ready)
            return
        super()._fire([item for item in ready if item[1]])
        routine = [key for key, urgent in ready if not urgent]
        if routine:
            self.fired += len(routine)
            try:
                self.fire_routine(routine)
            except Exception:
                logger.exception(self.failure, extra={"keys": len(routine)})


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
                logger.warning(
                    "cannot watch %s: %s", path, exc,
                    extra={"path": str(path), "provider": provider, "reason": type(exc).__name__},
                )
                continue
            with self._lock:
                self._watched.add(key)
            logger.info("watching files", extra={"provider": provider, "path": str(path)})

    def _poke(self, provider: str, path: str) -> None:
        self.events += 1
        logger.debug("file event", extra={"provider": provider, "path": path})
        self._debouncer.poke(provider)
