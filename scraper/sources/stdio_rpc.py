"""A JSON-RPC peer on a child process's stdio (JSON lines), that never outlives its caller.

What :mod:`scraper.sources.codex_appserver` talks to ``codex app-server`` through. Three
promises, because the peer is someone else's program started on the user's machine:

* **A deadline on every step.** Reads wait on the pipe with ``selectors`` against a monotonic
  deadline; no call blocks without one. A line longer than :data:`MAX_LINE` is an error, not
  unbounded memory.
* **Nothing left behind.** The child starts in its own session (so its own process group). On
  every exit path :meth:`StdioPeer.close` closes its stdin (a polite peer exits on EOF), then
  signals the whole group (SIGTERM, then SIGKILL), and also every descendant that moved to
  another group, found by walking ``/proc`` from the child *before* the signals — by PID and
  start time, never by name.
* **Clear errors.** :class:`RpcError` says what happened (could not start, timed out, exited
  with its code and the tail of its stderr, sent something that is not JSON-RPC, answered with
  an error) in ``reason``, so callers can fall back and say why.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import signal
import subprocess
import tempfile
import time
import typing as t
from pathlib import Path

from bus.codec import dumps, loads

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

logger = logging.getLogger(__name__)

MAX_LINE = 4 * 1024 * 1024  # bytes: a JSON-RPC line longer than this is refused
MAX_GARBAGE = 50  # non-JSON stdout lines tolerated before the peer is given up
EXIT_GRACE = 1.0  # seconds a peer gets to exit on EOF before it is signalled
KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL
STDERR_TAIL = 2000  # characters of stderr quoted in an error


class RpcError(RuntimeError):
    """The peer could not answer. ``reason``: ``unavailable``, ``timeout``, ``exited``,
    ``protocol`` or ``error`` (a JSON-RPC error response)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _stat(pid: int) -> tuple[int, int] | None:
    """``(ppid, start time in clock ticks)`` of ``pid`` from ``/proc``, or None when gone."""
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()  # the name may hold spaces and parentheses
    try:
        return int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def descendants(pid: int) -> dict[int, int]:
    """Every live descendant of ``pid``: PID → start time (empty where ``/proc`` is absent)."""
    children: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    try:
        pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    except OSError:
        return {}
    for each in pids:
        stat = _stat(each)
        if stat is not None:
            children.setdefault(stat[0], []).append(each)
            starts[each] = stat[1]
    found: dict[int, int] = {}
    todo = list(children.get(pid, ()))
    while todo:
        child = todo.pop()
        if child not in found and child in starts:
            found[child] = starts[child]
            todo.extend(children.get(child, ()))
    return found


def _kill_tree(tree: Mapping[int, int]) -> None:
    """SIGKILL each PID of ``tree`` that still has the recorded start time (not a reused PID)."""
    for pid, start in tree.items():
        stat = _stat(pid)
        if stat is not None and stat[1] == start:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


class StdioPeer:
    """One child process spoken to in JSON lines. Use as a context manager."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self.notifications: list[dict[str, t.Any]] = []
        self.garbage = 0
        self._next_id = 0
        self._buffer = b""
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        try:
            self.process = subprocess.Popen(  # argv from config, no shell
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            self._stderr.close()
            raise RpcError("unavailable", f"cannot start {self.argv[0]}: {exc}") from exc
        assert self.process.stdout is not None
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.process.stdout, selectors.EVENT_READ)

    def __enter__(self) -> StdioPeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int:
        """The child's PID (also its process group and session id)."""
        return self.process.pid

    # -- messages ------------------------------------------------------------------------------
    def _write(self, message: Mapping[str, t.Any]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(dumps(dict(message)) + b"\n")
            self.process.stdin.flush()
        except OSError as exc:  # BrokenPipeError: it exited
            raise self._exited() from exc

    def notify(self, method: str, params: t.Any = None) -> None:
        """Send a notification (no answer expected)."""
        message: dict[str, t.Any] = {"method": method}
        if params is not None:
            message["params"] = params
        self._write(message)

    def request(self, method: str, params: t.Any, timeout: float) -> t.Any:
        """Send a request and return its ``result`` within ``timeout`` seconds.

        Notifications that arrive meanwhile are kept in :attr:`notifications`; a request from
        the peer is refused with a JSON-RPC error (this client serves nothing).
        """
        self._next_id += 1
        ident = self._next_id
        message: dict[str, t.Any] = {"id": ident, "method": method}
        if params is not None:
            message["params"] = params
        self._write(message)
        deadline = time.monotonic() + timeout
        while True:
            incoming = self._read_message(deadline, method)
            if "method" in incoming and "id" in incoming:
                self._write({"id": incoming["id"], "error": {
                    "code": -32601, "message": "panebus serves no requests"}})
            elif "method" in incoming:
                self.notifications.append(incoming)
            elif incoming.get("id") == ident:
                if "error" in incoming:
                    error = incoming["error"]
                    text = error.get("message") if isinstance(error, dict) else error
                    raise RpcError("error", f"{method}: {text}")
                if "result" not in incoming:
                    raise RpcError("protocol", f"{method}: a response without result or error")
                return incoming["result"]

    def _read_message(self, deadline: float, waiting_for: str) -> dict[str, t.Any]:
        while True:
            line = self._read_line(deadline, waiting_for)
            try:
                message = loads(line)
            except ValueError:
                message = None
            if isinstance(message, dict):
                return message
            self.garbage += 1
            logger.info("app peer wrote a line that is not a JSON object",
                        extra={"peer": self.argv[0], "line": line[:200]})
            if self.garbage > MAX_GARBAGE:
                raise RpcError("protocol", f"{self.argv[0]} writes lines that are not JSON-RPC "
                                           f"({self.garbage}), e.g. {line[:80]!r}")

    def _read_line(self, deadline: float, waiting_for: str) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_LINE:
                raise RpcError("protocol", f"a line longer than {MAX_LINE} bytes")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RpcError("timeout", f"no answer to {waiting_for} within the timeout")
            if not self._selector.select(remaining):
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                raise self._exited()
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.strip()

    def _exited(self) -> RpcError:
        try:
            code = self.process.wait(timeout=EXIT_GRACE)
        except subprocess.TimeoutExpired:
            return RpcError("exited", f"{self.argv[0]} closed its output")
        return RpcError("exited", f"{self.argv[0]} exited with code {code}: {self.stderr_tail()}")

    def stderr_tail(self) -> str:
        """The last :data:`STDERR_TAIL` characters the peer wrote to stderr."""
        try:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - STDERR_TAIL * 4))
            text = self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        return text[-STDERR_TAIL:].strip()

    # -- ending --------------------------------------------------------------------------------
    def close(self) -> None:
        """End the peer and everything it started; safe to call more than once."""
        process = self.process
        tree = descendants(process.pid)  # before the leader goes: its orphans lose their parent
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=EXIT_GRACE)
        except subprocess.TimeoutExpired:
            for signum in (signal.SIGTERM, signal.SIGKILL):
                tree.update(descendants(process.pid))
                self._signal_group(signum)  # the leader is alive: its group id is still ours
                try:
                    process.wait(timeout=KILL_GRACE)
                    break
                except subprocess.TimeoutExpired:
                    continue
        _kill_tree(tree)  # members that outlived the leader, or left its group
        self._selector.close()
        with contextlib.suppress(OSError):
            if process.stdout is not None:
                process.stdout.close()
        self._stderr.close()

    def kill(self) -> None:
        """From another thread: end the peer and its descendants now (the reader then sees
        its output close)."""
        if self.process.returncode is not None:
            return
        tree = descendants(self.process.pid)
        self._signal_group(signal.SIGKILL)
        _kill_tree(tree)

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)
