"""An exclusive ``flock`` on a file, taken within a deadline: one helper for every lock.

Three places need "at most one of us at a time, across processes": a probe per pane
(:mod:`scraper.probe_lock`), the Codex app-server reader (:mod:`scraper.sources.codex_appserver`)
and the sinks' read-modify-write of shared files (:func:`sinks.files.locked`). They differ only
in how long they wait, how often they retry and what they say when the lock stays taken, so
those are the parameters; the open, the retry loop, the unlock and the close live here once.

``flock`` locks belong to an open file description: two threads of one process exclude each
other too (each opens its own), and the kernel releases the lock when the holder dies, so a
crashed holder never leaves the file locked. The file is created (0600) when missing and stays
(empty) for reuse. The caller creates its directory, with the mode it needs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path

POLL = 0.05
"""Seconds between attempts while another holder has the lock."""


@contextlib.contextmanager
def exclusive_lock(
    path: Path, wait: float, busy: t.Callable[[], BaseException], *, poll: float = POLL
) -> t.Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` for the ``with`` block.

    Tries without blocking every ``poll`` seconds until ``wait`` seconds have passed, then
    raises ``busy()`` (the caller's own exception, with the caller's own message).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                time.sleep(poll)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
