"""A tmux control-mode client: commands without a fork, and ``%output`` notifications.

``tmux -C attach-session -f read-only,ignore-size -t SESSION`` keeps one ``tmux`` process
connected to the server. A command written to its stdin comes back as a block::

    %begin 1795601106 275 1
    …lines…
    %end 1795601106 275 1        (or %error … on failure)

The number is the server's command counter; the last field is 1 for commands this client sent.
Blocks of our commands come back in the order we sent them, so a FIFO of pending requests
matches them, and the end line must repeat the ``%begin`` triple exactly, so pane text that
happens to contain ``%end`` cannot end a block early. Outside blocks come notifications:
``%output %3 <octal-escaped bytes>`` (the pane printed something), ``%exit`` (detached, the
session or the server went away), ``%window-add`` and friends.

Why these flags: ``ignore-size`` keeps this client out of the size calculation (it must never
resize the user's panes); ``read-only`` keeps key bindings from acting through it. The client
runs in its own process group with stdin as a pipe; :meth:`ControlClient.close` closes stdin
first (tmux detaches cleanly on EOF), then terminates the group. ``PR_SET_PDEATHSIG`` (Linux)
makes the kernel send SIGTERM to the client when the *thread* that started it dies, including
when panebus is killed with SIGKILL — so start it from a thread that lives as long as the
client (:class:`scraper.capture.ServerLink` does).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import ctypes.util
import dataclasses
import logging
import os
import signal
import subprocess
import threading
import time
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from scraper.config import ServerSpec

logger = logging.getLogger(__name__)

ATTACH_FLAGS = "read-only,ignore-size"
READ_SIZE = 1 << 16  # bytes per read of the client's output
PR_SET_PDEATHSIG = 1
NOTIFICATIONS_FOR_SWEEP = frozenset(
    {
        b"%window-add",
        b"%window-close",
        b"%unlinked-window-add",
        b"%unlinked-window-close",
        b"%sessions-changed",
        b"%layout-change",
        b"%window-pane-changed",
    }
)


class ControlError(RuntimeError):
    """The control client is not connected, or went away while a command was pending."""


class CommandError(RuntimeError):
    """tmux answered a command with ``%error``; the message is tmux's own."""


@dataclasses.dataclass
class _Request:
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    lines: list[bytes] = dataclasses.field(default_factory=list)
    error: bool = False
    lost: bool = False


def quote(arg: str) -> str:
    """Quote one argument for tmux's command parser (single quotes are literal there)."""
    if arg and all(ch.isalnum() or ch in "-_./" for ch in arg):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


def unescape_output(data: bytes) -> bytes:
    """Decode the octal escapes (``\\ooo``) tmux uses in ``%output`` data."""
    if b"\\" not in data:
        return data
    out = bytearray()
    index = 0
    while index < len(data):
        byte = data[index]
        digits = data[index + 1 : index + 4]
        if byte == 0x5C and len(digits) == 3 and digits.isdigit():
            out.append(int(digits, 8) & 0xFF)
            index += 4
        else:
            out.append(byte)
            index += 1
    return bytes(out)


def _pdeathsig_setter() -> t.Callable[[], None] | None:
    """A preexec function asking the kernel to SIGTERM the child when its parent dies."""
    name = ctypes.util.find_library("c")
    if not name or not hasattr(os, "getppid"):
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return preexec


_PREEXEC = _pdeathsig_setter() if os.uname().sysname == "Linux" else None


def server_socket(server: ServerSpec, environ: t.Mapping[str, str] | None = None) -> Path:
    """The socket file of a tmux server: ``-S PATH``, else ``$TMUX_TMPDIR/tmux-UID/NAME``."""
    if server.socket_path:
        return Path(server.socket_path)
    env = os.environ if environ is None else environ
    base = Path(env.get("TMUX_TMPDIR") or "/tmp")  # tmux's own default
    return base / f"tmux-{os.getuid()}" / (server.socket_name or "default")


def socket_identity(path: Path) -> tuple[int, int] | None:
    """(inode, change time) of a socket file, ``None`` when missing: a new server makes a new
    one, so a link waiting to reconnect can notice a restart with a ``stat``, no process."""
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_ctime_ns)


class ControlClient:
    """One ``tmux -C attach`` process and the thread reading its output."""

    def __init__(
        self,
        server: ServerSpec,
        session: str,
        *,
        on_output: t.Callable[[str, bytes], None] | None = None,
        on_event: t.Callable[[str], None] | None = None,
        on_exit: t.Callable[[ControlClient], None] | None = None,
        tmux: str = "tmux",
    ) -> None:
        self.server = server
        self.session = session
        self.on_output = on_output
        self.on_event = on_event
        self.on_exit = on_exit
        self.tmux = tmux
        self.exit_reason: str | None = None
        self.output_notifications = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._pending: collections.deque[_Request] = collections.deque()
        self._write_lock = threading.Lock()
        self._ready = threading.Event()
        self._closed = threading.Event()

    @property
    def pid(self) -> int | None:
        """Process id of the ``tmux -C`` client (also its process group id)."""
        return self._process.pid if self._process else None

    @property
    def alive(self) -> bool:
        """Whether the client is attached and answering."""
        return self._ready.is_set() and not self._closed.is_set()

    @property
    def closed(self) -> threading.Event:
        """Set once the client has exited (EOF on its output)."""
        return self._closed

    def start(self, timeout: float = 5.0) -> bool:
        """Spawn and attach; True once tmux has answered the attach."""
        argv = [
            self.tmux,
            *self.server.tmux_args(),
            "-C",
            "attach-session",
            "-f",
            ATTACH_FLAGS,
            "-t",
            f"={self.session}",
        ]
        try:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_PREEXEC,  # noqa: PLW1509 - only calls prctl, async-signal-safe
                close_fds=True,
            )
        except OSError as exc:  # fork failed (EAGAIN, ENOMEM) or no tmux: retried with backoff
            self.exit_reason = f"cannot start {self.tmux}: {exc}"
            logger.warning("cannot start the control client: %s", exc,
                           extra={"server": self.server.label, "session": self.session})
            self._closed.set()
            return False
        self._reader = threading.Thread(
            target=self._read_loop, name=f"tmux-control-{self.server.label}", daemon=True
        )
        self._reader.start()
        if not self._ready.wait(timeout) or self._closed.is_set():
            self.close()
            return False
        return True

    def command(self, args: t.Sequence[str], timeout: float = 2.0) -> list[str]:
        """Run one tmux command through the client; return its output lines.

        Raises :class:`CommandError` when tmux answers ``%error``, :class:`ControlError` when
        the client is down or goes away, :class:`TimeoutError` after ``timeout`` seconds.
        """
        return [line.decode("utf-8", "replace") for line in self.command_bytes(args, timeout)]

    def command_bytes(self, args: t.Sequence[str], timeout: float = 2.0) -> list[bytes]:
        """Like :meth:`command`, without decoding."""
        return self._await(self._submit([args])[0], args, timeout)

    def commands(
        self, batch: t.Sequence[t.Sequence[str]], timeout: float = 2.0
    ) -> list[list[str] | Exception]:
        """Pipeline several commands: write them all, then collect each answer.

        One round trip for the batch instead of one per command — how a sweep captures
        twenty panes for little more than the cost of one. Each item is the output lines, or
        the exception that command would have raised.
        """
        requests = self._submit(batch)
        deadline = time.monotonic() + timeout
        results: list[list[str] | Exception] = []
        for request, args in zip(requests, batch, strict=True):
            try:
                lines = self._await(request, args, max(0.0, deadline - time.monotonic()))
                results.append([line.decode("utf-8", "replace") for line in lines])
            except (CommandError, ControlError, TimeoutError) as exc:
                results.append(exc)
        return results

    def _submit(self, batch: t.Sequence[t.Sequence[str]]) -> list[_Request]:
        process = self._process
        if process is None or process.stdin is None or not self.alive:
            msg = f"control client for {self.server.label} is not connected"
            raise ControlError(msg)
        requests = [_Request() for _ in batch]
        data = b"".join(
            (" ".join(quote(arg) for arg in args) + "\n").encode("utf-8") for args in batch
        )
        with self._write_lock:
            self._pending.extend(requests)
            try:
                process.stdin.write(data)
                process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                self._fail_pending()
                msg = f"control client for {self.server.label} went away"
                raise ControlError(msg) from None
        return requests

    @staticmethod
    def _await(request: _Request, args: t.Sequence[str], timeout: float) -> list[bytes]:
        if not request.done.wait(timeout):
            msg = f"tmux did not answer {args[0]!r} within {timeout}s"
            raise TimeoutError(msg)
        if request.lost:
            msg = f"control client exited during {args[0]!r}"
            raise ControlError(msg)
        if request.error:
            raise CommandError(b" ".join(request.lines).decode("utf-8", "replace").strip())
        return request.lines

    def close(self, timeout: float = 2.0) -> None:
        """Detach: close stdin (tmux exits on EOF), then terminate the process group."""
        process = self._process
        if process is None:
            return
        with self._write_lock, contextlib.suppress(OSError, ValueError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, sig)
                try:
                    process.wait(timeout=timeout)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout)
        if process.stdout is not None:
            with contextlib.suppress(OSError):
                process.stdout.close()
        self._closed.set()
        self._fail_pending()

    def _fail_pending(self) -> None:
        while self._pending:
            request = self._pending.popleft()
            request.lost = True
            request.done.set()

    def _read_loop(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        fd = process.stdout.fileno()
        block: tuple[bytes, bool] | None = None  # (begin triple, ours)
        lines: list[bytes] = []
        partial = b""
        try:
            # Whole chunks, split here: 200 busy panes send ~1 MB/s of %output, and one
            # read per line (the buffered reader's iteration) cost more than the lines' work.
            while chunk := os.read(fd, READ_SIZE):
                received = chunk.split(b"\n")
                if partial:
                    received[0] = partial + received[0]
                partial = received.pop()  # the unfinished last line (b"" after a newline)
                for line in received:
                    if block is not None:
                        triple, ours = block
                        if line.startswith((b"%end ", b"%error ")) and (
                            line.split(b" ", 1)[1] == triple
                        ):
                            self._finish_block(ours, lines, error=line.startswith(b"%error"))
                            block, lines = None, []
                        else:
                            lines.append(line)
                        continue
                    if line.startswith(b"%begin "):
                        triple = line.split(b" ", 1)[1]
                        block = (triple, triple.rsplit(b" ", 1)[-1] == b"1")
                        continue
                    self._notification(line)
            if partial and block is None:
                self._notification(partial)  # a last line without its newline
        except (OSError, ValueError):
            logger.debug("control client stream closed", extra={"server": self.server.label})
        finally:
            self._closed.set()
            with self._write_lock:
                self._fail_pending()
            if self.on_exit is not None:
                self.on_exit(self)

    def _finish_block(self, ours: bool, lines: list[bytes], error: bool) -> None:
        if not ours:
            if not self._ready.is_set():
                if error:
                    self.exit_reason = b" ".join(lines).decode("utf-8", "replace")
                else:
                    self._ready.set()
            return
        with self._write_lock:
            request = self._pending.popleft() if self._pending else None
        if request is None:
            logger.warning(
                "control block without a pending command",
                extra={"lines": len(lines), "error": error},
            )
            return
        request.lines = lines
        request.error = error
        request.done.set()

    def _notification(self, line: bytes) -> None:
        if line.startswith(b"%output "):
            self.output_notifications += 1
            pane, _, data = line[8:].partition(b" ")
            pane_id = pane.decode("ascii", "replace")
            if self.on_output is not None:
                try:
                    self.on_output(pane_id, data)  # data: tmux-escaped bytes the pane printed
                except Exception:
                    logger.exception("output callback failed", extra={"pane_id": pane_id})
            return
        name = line.split(b" ", 1)[0]
        if name == b"%exit":
            self.exit_reason = line[6:].decode("utf-8", "replace") or "exit"
            return
        if name == b"%session-changed" and not self._ready.is_set():
            self._ready.set()
        if name in NOTIFICATIONS_FOR_SWEEP and self.on_event is not None:
            try:
                self.on_event(name.decode("ascii"))
            except Exception:
                logger.exception("event callback failed", extra={"event": name})
