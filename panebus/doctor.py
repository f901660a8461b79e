"""``panebus doctor``: check what panebus needs and say what to fix, one line per check.

Each check is a small function returning a :class:`Check`; none of them changes anything.
A check that cannot run (a missing optional part) reports ``warn`` rather than failing the
whole run, so the user always gets the complete list.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import re
import shutil
import subprocess
import typing as t
from pathlib import Path

import panebus
from bus.endpoints import EndpointError, Endpoints
from bus.frames import draft, source
from bus.keys import MissingKeysError
from bus.paths import InsecureDirectoryError, Paths, ensure_private_dir
from bus.publisher import Publisher
from scraper.agent_panes import discover_agent_panes
from scraper.sources.locations import claude_settings_files

logger = logging.getLogger(__name__)

Status = t.Literal["ok", "warn", "fail"]
MIN_TMUX = (3, 2)  # `attach -f read-only,ignore-size` for the control client
COMMAND_TIMEOUT = 5.0
#: The top-level packages installed beside ``panebus`` (the folders of the user's card). Their
#: names are generic, so another installed package of the same name could shadow one.
SIBLINGS = ("bus", "scraper", "sinks")


@dataclasses.dataclass(frozen=True)
class Check:
    """The outcome of one check and, when not ok, what to do about it."""

    name: str
    status: Status
    detail: str
    fix: str = ""


def check_packages() -> Check:
    """``bus``, ``scraper`` and ``sinks`` must be the ones installed beside ``panebus``.

    They are top-level packages with generic names (docs/architecture.md "Package names"): a
    package of the same name earlier on ``sys.path`` would be imported instead, and fail in
    ways that do not name the cause. This check names it.
    """
    home = Path(panebus.__file__).resolve().parent.parent
    strays = []
    for name in SIBLINGS:
        try:
            found = importlib.import_module(name).__file__
        except ImportError as exc:
            strays.append(f"{name} cannot be imported ({exc})")
            continue
        if found is None or Path(found).resolve().parent.parent != home:
            strays.append(f"{name} is {found or 'a namespace package'}")
    if strays:
        return Check("packages", "fail", f"{'; '.join(strays)}, not beside panebus in {home}",
                     "uninstall the other package of that name, or run panebus from its own venv")
    return Check("packages", "ok", f"bus, scraper, sinks beside panebus in {home}")


def check_tmux() -> Check:
    """tmux must exist and be new enough for read-only, ignore-size control clients."""
    tmux = shutil.which("tmux")
    if tmux is None:
        return Check("tmux", "fail", "tmux is not on PATH", "apt-get install tmux")
    try:
        out = subprocess.run(
            [tmux, "-V"], capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("tmux", "fail", f"tmux -V failed: {exc}", "reinstall tmux")
    match = re.search(r"(\d+)\.(\d+)", out)
    if match is None:
        return Check("tmux", "warn", f"unrecognised version {out!r}")
    found = (int(match.group(1)), int(match.group(2)))
    if found < MIN_TMUX:
        return Check(
            "tmux", "fail", f"{out} is older than 3.2", "install tmux 3.2 or newer"
        )
    return Check("tmux", "ok", out)


def check_dirs(paths: Paths) -> Check:
    """The runtime dir holds the bus sockets: it must be private to the user."""
    try:
        runtime = ensure_private_dir(paths.runtime_dir)
    except InsecureDirectoryError as exc:
        return Check("dirs", "fail", str(exc),
                     "set PANEBUS_HOME or XDG_RUNTIME_DIR to a dir you own")
    except OSError as exc:
        return Check("dirs", "fail", f"cannot create {paths.runtime_dir}: {exc}",
                     "set PANEBUS_HOME to a writable dir")
    return Check("dirs", "ok", f"runtime {runtime} (0700), data {paths.data_dir}")


def check_access() -> Check:
    """Who else can reach the bus: insecure tcp lets every local user read every pane."""
    try:
        endpoints = Endpoints.default()
    except (EndpointError, MissingKeysError) as exc:
        return Check("access", "fail", str(exc),
                     "fix the [bus] section of the config (see docs/faq.md)")
    if endpoints.readable_by_others:
        return Check(
            "access", "warn",
            f"insecure tcp at {endpoints.subscribe}: every local user can read pane text "
            "(secrets included) and publish frames",
            "remove `insecure` and the tcp endpoints (the default ipc socket is private), or "
            "run `panebus keys` and use CURVE",
        )
    if endpoints.subscribe.startswith("ipc://"):
        where = endpoints.subscribe[len("ipc://"):].rsplit("/", 1)[0]
        return Check("access", "ok", f"ipc sockets in {where} (only you can enter it)")
    return Check("access", "ok", f"tcp with CURVE keys at {endpoints.subscribe}")


def check_bus(timeout: float = 1.0) -> Check:
    """The broker answers an acknowledged publish."""
    endpoints = Endpoints.default()
    body = draft("sys", "unknown", source("manual", "parsed"), what="doctor")
    with Publisher(endpoints, name="doctor") as publisher:
        acked = publisher.send_acked(body, topic="sys.doctor", timeout=timeout)
    if not acked:
        return Check("bus", "fail", f"no broker answered at {endpoints.snapshot}",
                     "start one: `panebus up` (everything) or `panebus bus`")
    return Check("bus", "ok", f"broker at {endpoints.subscribe}")


def check_panes(server_args: t.Sequence[str] = ()) -> Check:
    """At least one agent pane should be visible on the watched tmux server."""
    try:
        panes = discover_agent_panes(list(server_args))
    except Exception as exc:  # doctor reports every failure as a line
        return Check("panes", "warn", f"cannot list panes: {exc}",
                     "is a tmux server running? (`tmux ls`, or pass -L NAME)")
    if not panes:
        return Check("panes", "warn", "no agent panes found",
                     "start codex/claude in tmux, or see `panebus panes --explain`")
    summary = ", ".join(f"{pane.pane_id}={pane.provider}" for pane in panes)
    return Check("panes", "ok", summary)


def check_claude_hook() -> Check:
    """Claude Code's statusLine should call ``panebus hook claude-statusline``."""
    for settings in claude_settings_files():
        try:
            data = json.loads(settings.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as exc:
            return Check("claude hook", "warn", f"{settings} unreadable: {exc}", "fix the JSON")
        command = str((data.get("statusLine") or {}).get("command", ""))
        if "panebus hook claude-statusline" in command:
            return Check("claude hook", "ok", f"statusLine set in {settings}")
    return Check(
        "claude hook", "warn", "Claude Code's statusLine does not call panebus",
        'add {"statusLine": {"type": "command", "command": "panebus hook claude-statusline"}} '
        "to ~/.claude/settings.json (see docs/guide.md)",
    )


def check_ccusage() -> Check:
    """ccusage is optional: it adds token and cost totals."""
    if shutil.which("ccusage"):
        return Check("ccusage", "ok", "ccusage on PATH")
    return Check("ccusage", "warn", "ccusage not on PATH (optional)",
                 "npm install -g ccusage, then `panebus ingest ccusage --run weekly`")


def check_health(paths: Paths) -> Check:
    """The parts of the running ``panebus up``, from the health file its supervisor writes."""
    from panebus.supervisor import HEALTH_FILE, view_health  # noqa: PLC0415 - doctor only

    view = view_health(paths.runtime_dir / HEALTH_FILE)
    if view.up != "running":
        return Check("up", "warn", f"panebus up is {view.up}: {view.reason}",
                     "start it: `panebus up` (or run `panebus bus`, `scrape`, `sink NAME`)")
    rows = {str(row.get("name")): row for row in view.parts}
    looping = [name for name in view.unwell if rows[name].get("state") == "crash-loop"]
    restarts = sum(int(row.get("restarts") or 0) for row in rows.values())
    if not view.unwell:
        return Check("up", "ok", f"{len(rows)} parts running ({view.reason}), "
                     f"{restarts} restart(s)")
    described = "; ".join(
        f"{name} {rows[name].get('state')} ({rows[name].get('last_error') or 'no error yet'})"
        for name in view.unwell
    )
    return Check("up", "fail" if looping else "warn", described,
                 "`panebus status` shows each part; the log of `panebus up` has the cause")


def run_checks(server_args: t.Sequence[str] = (), bus_timeout: float = 1.0) -> list[Check]:
    """Run every check; an exception inside one becomes a ``fail`` line, never a crash."""
    paths = Paths.from_env()
    checks: list[t.Callable[[], Check | None]] = [
        check_packages,
        check_tmux,
        lambda: check_dirs(paths),
        check_access,
        lambda: check_bus(bus_timeout),
        lambda: check_health(paths),
        lambda: check_panes(server_args),
        check_claude_hook,
        check_ccusage,
    ]
    checks += _host_checks(paths)
    results: list[Check] = []
    for check in checks:
        try:
            result = check()
            if result is None:  # a check that does not apply here (several hosts)
                continue
            results.append(result)
        except Exception as exc:  # one broken check must not hide the others
            logger.exception(
                "doctor check failed", extra={"check": getattr(check, "__name__", "check")}
            )
            results.append(Check(getattr(check, "__name__", "check"), "fail", str(exc)))
    return results


def _host_checks(paths: Paths) -> list[t.Callable[[], Check | None]]:
    """The several-hosts checks (:mod:`panebus.doctor_hosts`): upstream link, central host."""
    from panebus import doctor_hosts  # noqa: PLC0415 - it imports this module

    return [lambda: doctor_hosts.check_upstream(paths), lambda: doctor_hosts.check_listen(paths)]
