"""Give memory back to the system after a burst, and say how much ``panebus up`` holds.

A sink that falls behind for a while (a slow disk under the alias files' fsyncs, a machine
busy with something else) lets frames queue in ZeroMQ: every subscriber takes every frame for
gap detection, so the queue holds raw screens of about 5 KB each. Once the sink catches up,
Python and ZeroMQ free those buffers, but glibc's allocator keeps the pages of its arenas: the
resident size of ``up`` stays at the peak of the worst burst it ever saw, which over days looks
exactly like a leak. ``malloc_trim(0)`` hands free pages back (measured in
docs/architecture.md, "Long runs": 212 MB kept after a burst without it, 84 MB with it).
Where the C library has no ``malloc_trim`` (musl, macOS) trimming is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import typing as t
from pathlib import Path

logger = logging.getLogger(__name__)

CHECK_INTERVAL = 10.0  # seconds between two looks at the resident size (a /proc read)
TRIM_INTERVAL = 60.0  # seconds between two trims at most (a trim costs milliseconds)
TRIM_GROWTH_KB = 8 * 1024  # resident growth since the last trim that trims at once


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> t.Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return t.cast("t.Callable[[int], int]", trim)


def can_release() -> bool:
    """Whether :func:`release_free_memory` does anything on this system."""
    return _malloc_trim() is not None


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; True when some were returned."""
    trim = _malloc_trim()
    if trim is None:
        return False
    return bool(trim(0))


class Trimmer:
    """When to trim: at once after the resident size grew by :data:`TRIM_GROWTH_KB` (a burst
    just drained, or is draining), and every :data:`TRIM_INTERVAL` s in any case."""

    def __init__(self) -> None:
        self.trims = 0
        self.peak_kb = 0
        self.last_kb: int | None = None
        self._after_trim_kb: int | None = None
        self._next_trim = 0.0

    def check(self, now: float) -> bool:
        """Look at the resident size; trim when due. True when it trimmed."""
        rss = resident_kb()
        if rss is not None:
            self.last_kb = rss
            self.peak_kb = max(self.peak_kb, rss)
        grown = (rss is not None and self._after_trim_kb is not None
                 and rss - self._after_trim_kb >= TRIM_GROWTH_KB)
        if not grown and now < self._next_trim:
            return False
        release_free_memory()
        self.trims += 1
        self._next_trim = now + TRIM_INTERVAL
        self._after_trim_kb = resident_kb()
        return True


def resident_kb(pid: int | None = None) -> int | None:
    """Resident set size of a process in KB (this one by default); None when unreadable."""
    status = Path(f"/proc/{os.getpid() if pid is None else pid}/status")
    try:
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None
