"""File primitives every sink shares: atomic replace, durable append, a lock.

Sinks write files that people and shells read while panebus runs (``state.json``, the alias
lines, the feature log). A reader must never see half a file, and a crash must never leave one:
so every rewrite goes to a temp file in the same directory, is fsynced, then renamed over the
old one (rename is atomic on POSIX), and the directory is fsynced so the rename itself survives.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import typing as t
from pathlib import Path

from bus.filelock import exclusive_lock

logger = logging.getLogger(__name__)

#: Dirs a sink creates hold pane-derived data (figures, titles): the user's alone.
PRIVATE_DIR = 0o700


def fsync_dir(directory: Path) -> None:
    """Make a created, renamed or removed entry of ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp_name).chmod(mode)
        Path(tmp_name).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp_name).unlink()
        raise
    fsync_dir(path.parent)


def append_durable(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` in one write and fsync it (small, rare records: logs)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


@contextlib.contextmanager
def locked(lock_path: Path, timeout: float = 5.0) -> t.Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (read-modify-write of shared files).

    The alias sink and ``panebus alias --ingest`` may both update ``state.json``; the lock keeps
    one from overwriting the other's change.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)

    def busy() -> TimeoutError:
        return TimeoutError(f"could not lock {lock_path} within {timeout}s")

    with exclusive_lock(lock_path, timeout, busy, poll=0.005):
        yield


def cut_torn_tail(path: Path, good_length: int) -> int:
    """Truncate ``path`` to ``good_length`` bytes; return how many bytes were cut."""
    size = path.stat().st_size
    if size <= good_length:
        return 0
    with path.open("r+b") as handle:
        handle.truncate(good_length)
        handle.flush()
        os.fsync(handle.fileno())
    logger.warning(
        "cut a torn tail", extra={"path": str(path), "cut_bytes": size - good_length}
    )
    return size - good_length
