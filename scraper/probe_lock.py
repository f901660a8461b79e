"""One probe per pane at a time, across processes: an ``flock`` on a file per pane.

A manual ``panebus probe`` and the ``up --every`` schedule (or two terminals) must never type
into the same pane at once: their keys would interleave and each would see the other's command
in the composer. The lock is a file in the runtime dir (private, 0700; :mod:`bus.paths`) named
after the tmux server's socket path and the pane id, so two names for one server (``-L x`` and
``-S /tmp/tmux-1000/x``) still share a lock. ``flock`` locks belong to an open file description:
two threads of one process exclude each other too, and the kernel releases the lock when the
holder dies, so a crashed probe never leaves a pane locked. The files stay (empty) for reuse.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import typing as t

from bus.filelock import exclusive_lock
from bus.paths import Paths, ensure_private_dir

if t.TYPE_CHECKING:
    from pathlib import Path

logger = logging.getLogger(__name__)

LOCK_DIR_NAME = "probe-locks"
POLL = 0.05


class PaneBusy(RuntimeError):
    """Another probe holds this pane's lock."""


def default_lock_dir() -> Path:
    """``<runtime dir>/probe-locks`` (the runtime dir of :class:`bus.paths.Paths`)."""
    return Paths.from_env().runtime_dir / LOCK_DIR_NAME


def lock_path(lock_dir: Path, socket_path: str, pane_id: str) -> Path:
    """The lock file of one pane of one tmux server."""
    server = hashlib.sha256(socket_path.encode("utf-8", "replace")).hexdigest()[:16]
    return lock_dir / f"{server}-{pane_id.lstrip('%')}.lock"


@contextlib.contextmanager
def pane_lock(
    lock_dir: Path, socket_path: str, pane_id: str, *, wait: float = 0.0
) -> t.Iterator[Path]:
    """Hold the pane's lock for the ``with`` block; raise :class:`PaneBusy` if another probe
    still holds it after ``wait`` seconds."""
    if not lock_dir.parent.exists():
        ensure_private_dir(lock_dir.parent)  # the runtime dir: private from its creation on
    ensure_private_dir(lock_dir)
    path = lock_path(lock_dir, socket_path, pane_id)

    def busy() -> PaneBusy:
        return PaneBusy(f"another probe is running on pane {pane_id}")

    with exclusive_lock(path, wait, busy, poll=POLL):
        logger.debug("probe lock taken", extra={"pane_id": pane_id, "lock": str(path)})
        yield path
