"""Official Codex limits on demand from ``codex app-server``, without typing into a pane.

Codex ships a JSON-RPC interface on stdio (JSON lines), the one editors and menu-bar usage
tools read limits through: ``initialize``, then ``account/rateLimits/read``, which answers with
what Codex's backend serves *now* (``/status`` shows the snapshot of Codex's last minute poll;
the rollout only what the last turn's headers said). The shape (checked with
``codex app-server generate-json-schema`` of 0.169.0)::

    {"rateLimits": {"limitId": "codex", "limitName": null,
                    "primary": {"usedPercent": 23, "windowDurationMins": 300, "resetsAt": 1796…},
                    "secondary": {"usedPercent": 58, "windowDurationMins": 10080, …},
                    "credits": {"hasCredits": false, "unlimited": false, "balance": "0"},
                    "individualLimit": null, "planType": "plus", "rateLimitReachedType": null,
                    "spendControlReached": null},
     "rateLimitsByLimitId": {"codex": {…same…}, "<other family>": {…}},
     "ordinaryUsageAllowed": null, "accountId": null, …}

The camelCase keys are the rollout's snake_case ones (``usedPercent`` = ``used_percent``, …), so
the reading is :func:`scraper.sources.rollout.snapshot_from_rate_limits`: one reader for both.
Figures are ``official``; the frame's source kind is ``api`` and its screen
``codex.app-server``, so every consumer can tell where they came from.

How it runs (:class:`CodexAppServer`): with the user's own environment (``CODEX_HOME``, login,
CA) plus configured overrides; read-only (only ``initialize`` and the read are sent); one at a
time across processes (an ``flock`` in the runtime dir); every step under a timeout; and the
process tree ended on every exit path (:class:`scraper.sources.stdio_rpc.StdioPeer`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import logging
import os
import re
import shutil
import time
import typing as t

from bus.clock import to_rfc3339, utcnow
from bus.filelock import exclusive_lock
from bus.paths import Paths, ensure_private_dir
from scraper.parsers.model import Usage
from scraper.sources.publish import earliest_reset, parsed_body
from scraper.sources.rollout import snapshot_from_rate_limits
from scraper.sources.stdio_rpc import RpcError, StdioPeer

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Mapping
    from pathlib import Path

    from bus.frames import Body

logger = logging.getLogger(__name__)

PROVIDER = "codex"
SCREEN = "codex.app-server"
SOURCE_KIND = "api"
BIN_ENV = "PANEBUS_CODEX_BIN"  # the codex binary to run (default: ``codex`` on PATH)
READ_METHOD = "account/rateLimits/read"
UPDATED_NOTIFICATION = "account/rateLimits/updated"
DEFAULT_TIMEOUT = 10.0  # seconds, per step (start + initialize, then the read)
LOCK_FILE = "codex-app-server.lock"
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
#: Keys whose snake_case form is not the rollout's name for the same thing.
_RENAMED = {"window_duration_mins": "window_minutes"}


class AppServerUnavailable(RuntimeError):
    """No reading: ``reason`` is ``unavailable``, ``timeout``, ``exited``, ``protocol``,
    ``error``, ``busy``, ``cancelled`` or ``empty`` (answered, but without any limit)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _snake(value: t.Any, depth: int = 0) -> t.Any:
    """camelCase keys → snake_case, recursively (a few levels: the payload is shallow)."""
    if depth > 6:
        return None
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = _CAMEL.sub("_", str(key)).lower()
            out[_RENAMED.get(name, name)] = _snake(item, depth + 1)
        return out
    if isinstance(value, list):
        return [_snake(v, depth + 1) for v in value]
    return value


def usage_from_rate_limits(result: object, observed_at: dt.datetime) -> Usage | None:
    """Read an ``account/rateLimits/read`` result (or an ``…/updated`` notification's params).

    The main limits come from ``rateLimitsByLimitId.codex`` or the single-bucket
    ``rateLimits`` (limit id null or ``codex``); other families become scoped limits, as in the
    rollout. ``None`` when nothing in it is a limit. Values out of range are left out.
    """
    if not isinstance(result, dict):
        return None
    payload = _snake(result)
    buckets: dict[str, t.Any] = {}
    by_id = payload.get("rate_limits_by_limit_id")
    if isinstance(by_id, dict):
        buckets.update({str(k): v for k, v in by_id.items() if isinstance(v, dict)})
    single = payload.get("rate_limits")
    if isinstance(single, dict):
        buckets.setdefault(str(single.get("limit_id") or "codex"), single)
    usage = Usage(provider=PROVIDER, screen=SCREEN)
    for limit_id in sorted(buckets, key=lambda key: (key != "codex", key)):
        bucket = dict(buckets[limit_id])
        bucket.setdefault("limit_id", limit_id)
        snapshot = snapshot_from_rate_limits(bucket, observed_at)
        if snapshot is None:
            continue
        usage.limits += snapshot.limits
        usage.warnings += snapshot.warnings
        if snapshot.is_main:
            usage.extra["plan_type"] = snapshot.plan_type
            usage.extra["credits"] = snapshot.credits
    if not usage.limits:
        return None
    allowed = payload.get("ordinary_usage_allowed")
    if allowed is False:
        usage.warnings.append("ordinary usage not allowed")
    usage.extra["observed_at"] = to_rfc3339(observed_at)
    return usage


def appserver_frame(usage: Usage) -> Body:
    """The ``parsed.codex.app-server`` body (source ``api``, confidence ``official``)."""
    return parsed_body(usage, SOURCE_KIND, "official", stale_after=earliest_reset(usage))


@dataclasses.dataclass(frozen=True)
class Reading:
    """One successful read."""

    usage: Usage
    seconds: float  # from spawning the app-server to its answer
    notifications: tuple[str, ...]  # methods of the notifications it sent meanwhile


def find_binary(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """``explicit``, else ``$PANEBUS_CODEX_BIN``, else ``codex`` on the PATH."""
    environ = os.environ if env is None else env
    name = explicit or environ.get(BIN_ENV) or "codex"
    found = shutil.which(name, path=environ.get("PATH"))
    if found is None:
        msg = f"{name!r} not found (install Codex, or name it with --codex-bin or ${BIN_ENV})"
        raise AppServerUnavailable("unavailable", msg)
    return found


@contextlib.contextmanager
def _one_at_a_time(lock_dir: Path, wait: float) -> Iterator[None]:
    """An ``flock`` shared by every panebus process of this user (threads too: one fd each)."""
    ensure_private_dir(lock_dir)

    def busy() -> AppServerUnavailable:
        return AppServerUnavailable("busy", "another panebus process is reading the app-server")

    with exclusive_lock(lock_dir / LOCK_FILE, wait, busy, poll=0.05):
        yield


def _version() -> str:
    try:
        return importlib.metadata.version("panebus")
    except importlib.metadata.PackageNotFoundError:
        return "0"


class CodexAppServer:
    """Reads official Codex limits through ``codex app-server``, one read per spawn."""

    def __init__(
        self,
        binary: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        lock_dir: Path | None = None,
        args: tuple[str, ...] = ("app-server",),
    ) -> None:
        self.binary = binary
        self.env = dict(env or {})
        self.timeout = timeout
        self.lock_dir = lock_dir
        self.args = args
        self._peer: StdioPeer | None = None
        self._cancelled = False

    def environment(self) -> dict[str, str]:
        """The user's environment with the configured overrides on top."""
        environ = dict(os.environ)
        environ.update(self.env)
        return environ

    def cancel(self) -> None:
        """From another thread: end a read in progress (and refuse further ones)."""
        self._cancelled = True
        peer = self._peer
        if peer is not None:
            peer.kill()

    def read(self) -> Reading:
        """Spawn, initialize, read, end the process; raise :class:`AppServerUnavailable`."""
        if self._cancelled:
            raise AppServerUnavailable("cancelled", "codex app-server reads were cancelled")
        environ = self.environment()
        binary = find_binary(self.binary, environ)
        lock_dir = self.lock_dir or Paths.from_env().runtime_dir
        with _one_at_a_time(lock_dir, wait=self.timeout):
            started = time.monotonic()
            try:
                with StdioPeer([binary, *self.args], env=environ,
                               cwd=environ.get("HOME") or "/") as peer:
                    self._peer = peer
                    if self._cancelled:  # cancel() came between the check and the spawn
                        peer.kill()
                    result = self._session(peer)
                    notes = tuple(str(n.get("method")) for n in peer.notifications)
                    updates = [n.get("params") for n in peer.notifications
                               if n.get("method") == UPDATED_NOTIFICATION]
            except RpcError as exc:
                raise AppServerUnavailable(exc.reason, f"codex app-server: {exc}") from exc
            finally:
                self._peer = None
            seconds = time.monotonic() - started
        moment = utcnow()
        usage = usage_from_rate_limits(result, moment)
        if usage is None and updates:
            usage = usage_from_rate_limits(updates[-1], moment)
        if usage is None:
            raise AppServerUnavailable("empty", "codex app-server answered without any limit "
                                                "(signed in with an API key?)")
        logger.info("codex app-server read", extra={"seconds": round(seconds, 3),
                                                    "limits": len(usage.limits)})
        return Reading(usage=usage, seconds=seconds, notifications=notes)

    def _session(self, peer: StdioPeer) -> t.Any:
        info = {"name": "panebus", "title": "panebus", "version": _version()}
        peer.request("initialize", {"clientInfo": info}, self.timeout)
        peer.notify("initialized")
        return peer.request(READ_METHOD, None, self.timeout)
