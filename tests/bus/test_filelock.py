"""The one flock helper (bus.filelock): exclusive across threads and processes, a deadline,
the caller's own exception when the lock stays taken, and released when the holder dies."""

from __future__ import annotations

import subprocess
import sys
import threading
import typing as t

import pytest

from bus.filelock import exclusive_lock

if t.TYPE_CHECKING:
    from pathlib import Path


class Busy(RuntimeError):
    """The caller's own exception."""


def busy() -> Busy:
    return Busy("held elsewhere")


def test_a_second_holder_gets_the_callers_exception(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    with (
        exclusive_lock(path, 0.0, busy),
        pytest.raises(Busy, match="held elsewhere"),
        exclusive_lock(path, 0.0, busy),
    ):
        pass
    with exclusive_lock(path, 0.0, busy):  # released on leaving the block
        pass
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_waiter_takes_the_lock_once_it_is_released(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    waiting = threading.Event()
    taken = threading.Event()
    errors: list[BaseException] = []

    def waiter() -> None:
        waiting.set()
        try:
            with exclusive_lock(path, 30.0, busy, poll=0.005):
                taken.set()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    with exclusive_lock(path, 0.0, busy):
        thread = threading.Thread(target=waiter)
        thread.start()
        assert waiting.wait(10)
        assert not taken.is_set()
    thread.join(30)
    assert taken.is_set(), errors


HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_lock_held_by_a_dead_process_is_free(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(Busy), exclusive_lock(path, 0.0, busy):
            pass
    finally:
        holder.kill()
        holder.wait(10)
    with exclusive_lock(path, 10.0, busy):
        pass
