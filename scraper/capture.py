"""One watched tmux server: control clients kept alive, and captures that always work.

:class:`ServerLink` owns the control-mode clients of one server (one per session whose panes
need ``%output``; captures go through any of them) and a supervisor thread that reconnects with
exponential backoff when the server restarts or a session goes away. While no client is up,
commands fall back to a one-shot ``tmux`` process — the libtmux way of talking to tmux — run
with a timeout, because a wedged server must not wedge the scraper (libtmux's ``cmd`` has no
timeout). The clients are spawned by the supervisor thread, which lives as long as they do, so
``PR_SET_PDEATHSIG`` reaps them if panebus dies (see :mod:`scraper.control`).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import threading
import time
import typing as t

from scraper import discovery
from scraper.control import (
    CommandError,
    ControlClient,
    ControlError,
    server_socket,
    socket_identity,
)

if t.TYPE_CHECKING:
    from scraper.config import ServerSpec

logger = logging.getLogger(__name__)

BACKOFF_MIN = 0.1
BACKOFF_MAX = 10.0
HEALTH_CHECK = 30.0
SOCKET_POLL = 0.1  # seconds between two looks at the socket file of a server that is away


def capture_args(pane_id: str, history_lines: int = 0, escapes: bool = False) -> list[str]:
    """``capture-pane`` arguments: the visible screen, joined lines, optional history/-e."""
    args = ["capture-pane", "-p", "-J", "-t", pane_id]
    if history_lines > 0:
        args += ["-S", f"-{history_lines}"]
    if escapes:
        args.append("-e")
    return args


def normalize(lines: t.Sequence[str]) -> str:
    """Pane text as published: trailing blanks per line and trailing empty lines removed.

    ``-J`` keeps trailing spaces, and an idle screen is padded with empty rows; neither is
    content, and dropping them makes the hash stable across both capture paths.
    """
    stripped = [line.rstrip() for line in lines]
    while stripped and not stripped[-1]:
        stripped.pop()
    return "\n".join(stripped)


def run_tmux(server: ServerSpec, args: t.Sequence[str], timeout: float) -> list[str]:
    """Run one ``tmux`` command as a process (the fallback path); raise on failure."""
    tmux = shutil.which("tmux") or "tmux"
    try:
        done = subprocess.run(
            [tmux, *server.tmux_args(), *args],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        msg = f"tmux {args[0]} did not answer within {timeout}s"
        raise TimeoutError(msg) from None
    if done.returncode != 0:
        raise CommandError(done.stderr.decode("utf-8", "replace").strip() or "tmux failed")
    return done.stdout.decode("utf-8", "replace").split("\n")[:-1] if done.stdout else []


class ServerLink:
    """Control clients for one server with reconnect, and a fallback for every command."""

    def __init__(
        self,
        server: ServerSpec,
        on_output: t.Callable[[str, str, bytes], None] | None = None,
        on_event: t.Callable[[str], None] | None = None,
        timeout: float = 2.0,
    ) -> None:
        self.server = server
        self.on_output = on_output
        self.on_event = on_event
        self.timeout = timeout
        self.connects = 0
        self._was_connected = False
        self.fallback_calls = 0
        self._clients: dict[str, ControlClient] = {}
        self._lock = threading.Lock()
        self._followed: set[str] = set()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the supervisor thread (it connects in the background)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._supervise, name=f"tmux-link-{self.server.label}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Detach every client and stop the supervisor; no ``tmux -C`` is left behind."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._close_all()

    def wait_connected(self, timeout: float) -> bool:
        """Whether a control client is up within ``timeout`` seconds."""
        return self._connected.wait(timeout)

    @property
    def alive(self) -> bool:
        """Whether the reconnecting thread runs (started and not dead)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def control_up(self) -> bool:
        """Whether commands currently go through a control client."""
        return self._client() is not None

    def client_pids(self) -> list[int]:
        """Process ids of the live ``tmux -C`` clients (tests check none is left)."""
        with self._lock:
            return [c.pid for c in self._clients.values() if c.pid is not None]

    def follow(self, sessions: t.Iterable[str]) -> None:
        """Keep a client attached to each of these sessions (for their ``%output``)."""
        wanted = set(sessions)
        with self._lock:
            changed = wanted != self._followed
            self._followed = wanted
        if changed:
            self._wake.set()

    # -- commands --------------------------------------------------------------------------
    def run(self, args: t.Sequence[str], timeout: float | None = None) -> list[str]:
        """Run a tmux command through a control client, or as a process while none is up."""
        limit = self.timeout if timeout is None else timeout
        client = self._client()
        if client is not None:
            try:
                return client.command(args, timeout=limit)
            except ControlError:
                logger.info(
                    "control client lost; falling back", extra={"server": self.server.label}
                )
        self.fallback_calls += 1
        return run_tmux(self.server, args, limit)

    def capture(self, pane_id: str, history_lines: int = 0, escapes: bool = False) -> str:
        """The pane's text (normalized); raises :class:`CommandError` if the pane is gone."""
        return normalize(self.run(capture_args(pane_id, history_lines, escapes)))

    def capture_many(
        self, pane_ids: t.Sequence[str], history_lines: int = 0, escapes: bool = False
    ) -> dict[str, str | Exception]:
        """Capture several panes in one pipelined round trip (each: text or its error)."""
        batch = [capture_args(pane_id, history_lines, escapes) for pane_id in pane_ids]
        client = self._client()
        if client is not None:
            try:
                answers = client.commands(batch, timeout=self.timeout)
                return {
                    pane_id: answer if isinstance(answer, Exception) else normalize(answer)
                    for pane_id, answer in zip(pane_ids, answers, strict=True)
                }
            except ControlError:
                logger.info("control client lost; falling back")
        results: dict[str, str | Exception] = {}
        for pane_id, args in zip(pane_ids, batch, strict=True):
            self.fallback_calls += 1
            try:
                results[pane_id] = normalize(run_tmux(self.server, args, self.timeout))
            except (CommandError, TimeoutError, OSError) as exc:
                results[pane_id] = exc
        return results

    def sweep(self) -> discovery.Sweep:
        """One ``list-panes -a`` over this server."""
        return discovery.sweep(self.run, self.server.label)

    def set_output(self, pane_id: str, enabled: bool) -> None:
        """Ask tmux to send (or stop sending) ``%output`` for one pane to our clients."""
        state = "on" if enabled else "off"
        with self._lock:
            clients = list(self._clients.values())
        for client in clients:
            with contextlib.suppress(CommandError, ControlError, TimeoutError):
                client.command(["refresh-client", "-A", f"{pane_id}:{state}"], self.timeout)

    # -- supervision -----------------------------------------------------------------------
    def _client(self) -> ControlClient | None:
        with self._lock:
            for client in self._clients.values():
                if client.alive:
                    return client
        return None

    def _sessions(self) -> list[str] | None:
        try:
            return [s for s in self.run(["list-sessions", "-F", "#{session_name}"]) if s]
        except (CommandError, TimeoutError, OSError) as exc:
            logger.debug("no sessions on %s: %s", self.server.label, exc)
            return None

    def _supervise(self) -> None:
        backoff = BACKOFF_MIN
        try:
            while not self._stop.is_set():
                self._wake.clear()
                healthy = self._reconcile()
                if healthy:
                    backoff = BACKOFF_MIN
                    self._wake.wait(HEALTH_CHECK)
                else:
                    self._back_off(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            self._close_all()

    def _back_off(self, backoff: float) -> None:
        """Wait ``backoff`` seconds before reconnecting, but no longer than it takes a new
        server to create its socket: a restarted tmux is followed at once, while a server that
        stays away costs one ``stat`` every :data:`SOCKET_POLL` seconds, never a process."""
        socket = server_socket(self.server)
        before = socket_identity(socket)
        deadline = time.monotonic() + backoff
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or self._wake.wait(min(left, SOCKET_POLL)):
                return
            if socket_identity(socket) not in (before, None):
                return

    def _reconcile(self) -> bool:
        """Attach to the followed sessions that exist; True when nothing is missing."""
        with self._lock:
            dead = [name for name, client in self._clients.items() if client.closed.is_set()]
            gone = [self._clients.pop(name) for name in dead]
            followed = set(self._followed)
            have = set(self._clients)
        for client in gone:
            client.close(timeout=0.5)
        sessions = self._sessions()
        if sessions is None:
            self._connected.clear()
            return False
        existing = set(sessions)
        wanted = followed & existing
        if not wanted:
            # Nothing to follow (yet): keep one client, which carries the commands.
            wanted = (have & existing) or ({sessions[0]} if sessions else set())
        for name in have - wanted:
            with self._lock:
                client = self._clients.pop(name)
            client.close()
        complete = True
        for name in sorted(wanted - have):
            if self._stop.is_set():
                break
            client = ControlClient(
                self.server,
                name,
                on_output=self._output,
                on_event=self.on_event,
                on_exit=self._client_exited,
            )
            if client.start(timeout=self.timeout):
                self.connects += 1
                with self._lock:
                    self._clients[name] = client
                logger.info(
                    "control client attached", extra={"server": self.server.label, "session": name}
                )
            else:
                complete = False
        if self._client() is not None:
            reconnected = self._was_connected and not self._connected.is_set()
            self._was_connected = True
            self._connected.set()
            if reconnected and self.on_event is not None:
                # A restarted server has new panes (maybe under old ids): rediscover now
                # instead of at the next sweep tick.
                self.on_event("reconnected")
        else:
            self._connected.clear()
        return complete and bool(sessions)

    def _output(self, pane_id: str, data: bytes) -> None:
        if self.on_output is not None:
            self.on_output(self.server.label, pane_id, data)

    def _client_exited(self, client: ControlClient) -> None:
        logger.info(
            "control client exited",
            extra={"server": self.server.label, "session": client.session,
                   "reason": client.exit_reason},
        )
        if self._client() is None:
            self._connected.clear()
        self._wake.set()

    def _close_all(self) -> None:
        with self._lock:
            clients = list(self._clients.values())
            self._clients.clear()
        for client in clients:
            client.close()
        self._connected.clear()
