"""One supervisor for every long-running part of ``panebus up``.

``panebus up`` runs for days beside the user's agents. Any part of it (the broker, a tmux
control link, the triggers, the rollout tailer, a sink, the probe schedule) can fail in a way
no per-message guard catches: a fork that fails, a socket that errors, a bug. Without a
supervisor that part ends for good while the rest runs on and nothing says so. Here each part
runs in its own thread under :class:`Supervisor`:

- a crash (an exception out of :meth:`Part.run`, or ``run`` returning unasked) is logged once
  with its cause — a part that keeps failing the same way is logged again only when it enters
  the ``crash-loop`` state, so a loop never floods the log;
- the part restarts after a backoff that doubles per crash up to a cap, and resets once the
  part has run :attr:`Policy.stable_after` seconds without crashing;
- ``crash-loop`` is the state of a part that crashed :attr:`Policy.loop_crashes` times within
  :attr:`Policy.loop_period` seconds (it is still restarted, at the capped backoff);
- one part's failure never touches another: each has its own thread, stop event and backoff.

The health of every part is written atomically (temp file + rename) to ``health.json`` in the
runtime dir on every state change, and looked at again every :attr:`Policy.write_interval`
seconds: rewritten when a figure in it moved, else only its modification time is refreshed.
``panebus status`` and ``panebus doctor`` read that file: it answers even when the broker is
the part that is down, and it costs the running ``up`` nothing to serve. A reader tells a stale
file (``up`` killed or wedged) by the pid and the file's age. The file is not fsynced: it says
what a running process is doing, which a crash or a reboot makes moot (the pid check), and the
fsync was about half of what writing it every two seconds cost (now a look every five).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import tempfile
import threading
import time
import typing as t
from pathlib import Path

import orjson

from bus.clock import now_rfc3339
from sinks.files import PRIVATE_DIR

logger = logging.getLogger(__name__)

HEALTH_FILE = "health.json"
HEALTH_VERSION = 1

State = t.Literal["starting", "running", "backoff", "crash-loop", "stopped"]


class PartFailed(RuntimeError):
    """A part found itself broken (its worker thread died, its link is gone)."""


@dataclasses.dataclass(frozen=True)
class Policy:
    """Restart policy shared by every part."""

    backoff_min: float = 0.5
    backoff_max: float = 30.0
    loop_crashes: int = 5
    loop_period: float = 120.0
    stable_after: float = 60.0
    #: Seconds between two looks at a quiet health file (a state change is written at once).
    write_interval: float = 5.0


class Context:
    """What a running part gets: its stop event and a way to say it is up."""

    def __init__(self, stop: threading.Event, on_ready: t.Callable[[], None]) -> None:
        self.stop = stop
        self._on_ready = on_ready

    def ready(self) -> None:
        """The part is doing its job now (state ``running``)."""
        self._on_ready()


@t.runtime_checkable
class Part(t.Protocol):
    """A long-running piece of ``up``. ``run`` blocks until ``ctx.stop`` is set or it fails."""

    name: str

    def run(self, ctx: Context) -> None:
        """Do the work; raise on failure; return promptly once ``ctx.stop`` is set."""

    def wake(self) -> None:
        """Called after ``ctx.stop`` is set, for parts blocked in something else than it."""

    def detail(self) -> dict[str, t.Any]:
        """Part-specific figures shown by ``panebus status`` (counters, connected, …)."""


@dataclasses.dataclass
class PartHealth:
    """What the supervisor knows of one part; one row of ``panebus status``."""

    name: str
    state: State = "starting"
    restarts: int = 0
    crashes: int = 0
    last_error: str | None = None
    last_crash_at: str | None = None
    since: str = dataclasses.field(default_factory=now_rfc3339)
    detail: dict[str, t.Any] = dataclasses.field(default_factory=dict)


def describe(exc: BaseException) -> str:
    """``Type: message`` — the cause of a crash as one line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class _Keeper:
    """The thread that runs one part again and again until the supervisor stops."""

    def __init__(self, part: Part, supervisor: Supervisor) -> None:
        self.part = part
        self.supervisor = supervisor
        self.health = PartHealth(part.name)
        self.stop = threading.Event()
        self.crash_times: list[float] = []
        self.last_logged: str | None = None
        self.thread = threading.Thread(
            target=self._keep, name=f"supervise-{part.name}", daemon=True
        )

    def _set(self, state: State, **changes: t.Any) -> None:
        with self.supervisor.condition:
            if state != self.health.state:
                self.health.since = now_rfc3339()
            self.health = dataclasses.replace(self.health, state=state, **changes)
            self.supervisor.condition.notify_all()
        self.supervisor.changed()

    def _keep(self) -> None:
        policy = self.supervisor.policy
        backoff = policy.backoff_min
        first = True
        while not self.stop.is_set():
            if not first:
                self._set("starting", restarts=self.health.restarts + 1)
            first = False
            began = time.monotonic()
            context = Context(self.stop, lambda: self._set("running"))
            try:
                self.part.run(context)
                if self.stop.is_set():
                    break
                cause = "stopped by itself"
                error: BaseException | None = None
            except Exception as exc:
                if self.stop.is_set():
                    logger.debug("part failed while stopping", exc_info=True,
                                 extra={"part": self.part.name})
                    break
                cause, error = describe(exc), exc
            if time.monotonic() - began >= policy.stable_after:
                backoff = policy.backoff_min
            self._crashed(cause, error, backoff)
            self.stop.wait(backoff)
            backoff = min(backoff * 2, policy.backoff_max)
        self._set("stopped")

    def _crashed(self, cause: str, error: BaseException | None, backoff: float) -> None:
        policy = self.supervisor.policy
        now = time.monotonic()
        self.crash_times = [at for at in self.crash_times if now - at < policy.loop_period]
        self.crash_times.append(now)
        looping = len(self.crash_times) >= policy.loop_crashes
        entering_loop = looping and self.health.state != "crash-loop" and (
            len(self.crash_times) == policy.loop_crashes
        )
        extra = {"part": self.part.name, "cause": cause, "restart_in_s": round(backoff, 2),
                 "crashes": self.health.crashes + 1}
        if entering_loop:
            logger.error("part %s is in a crash loop (%d crashes in %gs): %s",
                         self.part.name, len(self.crash_times), policy.loop_period, cause,
                         extra=extra)
        elif cause != self.last_logged:
            logger.error("part %s crashed: %s; restarting in %.1fs", self.part.name, cause,
                         backoff, exc_info=error, extra=extra)
        else:
            logger.debug("part %s crashed again: %s", self.part.name, cause, extra=extra)
        self.last_logged = cause
        self._set(
            "crash-loop" if looping else "backoff",
            crashes=self.health.crashes + 1,
            last_error=cause,
            last_crash_at=now_rfc3339(),
        )


class Supervisor:
    """Run parts, restart the ones that crash, and publish everyone's health to a file."""

    def __init__(self, status_path: Path | None = None, policy: Policy | None = None) -> None:
        self.status_path = status_path
        self.policy = policy or Policy()
        self.lock = threading.Lock()
        self.condition = threading.Condition(self.lock)
        self.started_at = now_rfc3339()
        self._keepers: dict[str, _Keeper] = {}
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self._stopped_at: str | None = None
        self._written: tuple[bytes, str | None] | None = None  # what the file says, but the time

    def add(self, part: Part) -> None:
        """Run ``part`` from now on (names are unique)."""
        if part.name in self._keepers:
            msg = f"a part named {part.name!r} is already supervised"
            raise ValueError(msg)
        keeper = _Keeper(part, self)
        self._keepers[part.name] = keeper
        keeper.thread.start()
        if self._writer is None and self.status_path is not None:
            self._writer = threading.Thread(target=self._write_loop, name="health-writer",
                                            daemon=True)
            self._writer.start()
        self.changed()

    def part(self, name: str) -> Part:
        """The supervised part called ``name``."""
        return self._keepers[name].part

    def wait_started(self, name: str, timeout: float) -> PartHealth:
        """Wait until ``name`` is running or has crashed (not ``starting``); its health."""
        keeper = self._keepers[name]
        with self.condition:
            self.condition.wait_for(
                lambda: keeper.health.state != "starting" or keeper.health.crashes > 0,
                timeout,
            )
            return dataclasses.replace(keeper.health)

    def names(self) -> list[str]:
        """Names of the parts, in the order they were added."""
        return list(self._keepers)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every part, last added first, and write the final health."""
        for keeper in reversed(list(self._keepers.values())):
            keeper.stop.set()
            try:
                keeper.part.wake()
            except Exception:
                logger.exception("waking a part to stop failed", extra={"part": keeper.part.name})
            keeper.thread.join(timeout)
            if keeper.thread.is_alive():
                logger.warning("part did not stop in time", extra={"part": keeper.part.name})
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout)
        self._stopped_at = now_rfc3339()
        self.write()

    def changed(self) -> None:
        """A part changed state: rewrite the health file soon."""
        self._dirty.set()

    def health(self) -> list[PartHealth]:
        """Every part's health, with its current details."""
        rows = []
        for keeper in list(self._keepers.values()):
            with self.lock:
                row = dataclasses.replace(keeper.health)
            try:
                row.detail = dict(keeper.part.detail())
            except Exception as exc:
                row.detail = {"detail_error": describe(exc)}
            rows.append(row)
        return rows

    def snapshot(self) -> dict[str, t.Any]:
        """The document ``health.json`` holds."""
        document: dict[str, t.Any] = orjson.loads(self._document(self._parts()))
        return document

    def _parts(self) -> bytes:
        # orjson writes the dataclasses itself: ten times cheaper than ``dataclasses.asdict``.
        return orjson.dumps(self.health(), default=str)

    def _document(self, parts: bytes) -> bytes:
        return orjson.dumps({
            "v": HEALTH_VERSION,
            "pid": os.getpid(),
            "started_at": self.started_at,
            "updated_at": now_rfc3339(),
            "write_interval": self.policy.write_interval,
            "stopped_at": self._stopped_at,
            "parts": orjson.Fragment(parts),
        })

    def write(self) -> None:
        """Write ``health.json`` atomically (a reader sees the old or the new one); when nothing
        in it but the time would change, refresh the file's modification time only."""
        if self.status_path is None:
            return
        try:
            parts = self._parts()
            if self._written == (parts, self._stopped_at):
                os.utime(self.status_path)  # the age a reader judges liveness by
                return
            replace(self.status_path, self._document(parts))
            self._written = (parts, self._stopped_at)
        except OSError as exc:
            self._written = None
            logger.warning("cannot write the health file: %s", exc,
                           extra={"path": str(self.status_path)})

    def _write_loop(self) -> None:
        while not self._stop.is_set():
            self._dirty.clear()
            self.write()
            # A burst of changes is one write; quiet parts are looked at now and then so a
            # reader can tell a live file from the leftover of a killed ``up``.
            if self._dirty.wait(self.policy.write_interval):
                self._stop.wait(0.05)


def replace(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (mode 0600) by a rename: a reader sees the old file or
    the new one, never half of one. No fsync: see the module's docstring."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp_name).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp_name).unlink()
        raise


class BasePart:
    """Defaults for :class:`Part`: nothing to wake, no details."""

    name: str = "part"

    def wake(self) -> None:
        """Nothing blocks outside ``ctx.stop``."""

    def detail(self) -> dict[str, t.Any]:
        """No figures of its own."""
        return {}


def read_health(path: Path) -> dict[str, t.Any] | None:
    """The health document at ``path``, or ``None`` when there is none or it is unreadable."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("parts"), list) else None


@dataclasses.dataclass(frozen=True)
class HealthView:
    """What a reader makes of ``health.json``: is ``up`` alive, and which parts are not well."""

    path: Path
    document: dict[str, t.Any] | None
    up: t.Literal["running", "stale", "not running"]
    reason: str
    unwell: tuple[str, ...] = ()

    @property
    def parts(self) -> list[dict[str, t.Any]]:
        """The rows of the document (empty when there is none)."""
        return list(self.document["parts"]) if self.document else []


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def view_health(path: Path, *, now: float | None = None) -> HealthView:
    """Read ``health.json`` and judge it: a dead writer or an old file is not a running ``up``.

    The file is rewritten or touched every ``write_interval`` seconds (the document says how
    often), so one older than three intervals (and at least 10 s) belongs to an ``up`` that is
    wedged or gone.
    """
    document = read_health(path)
    if document is None:
        return HealthView(path, None, "not running", f"no health file at {path}")
    pid = document.get("pid")
    if document.get("stopped_at"):
        return HealthView(path, document, "not running",
                          f"pid {pid} stopped at {document['stopped_at']}")
    if not _pid_alive(pid):
        return HealthView(path, document, "not running",
                          f"pid {pid} is gone (last written {document.get('updated_at')})")
    age = (time.time() if now is None else now) - path.stat().st_mtime
    interval = float(document.get("write_interval") or 2.0)
    if age > max(3 * interval, 10.0):
        return HealthView(path, document, "stale",
                          f"pid {pid} has not written its health for {age:.0f}s")
    unwell = tuple(
        str(row.get("name")) for row in document["parts"] if row.get("state") != "running"
    )
    return HealthView(path, document, "running", f"pid {pid}", unwell)
