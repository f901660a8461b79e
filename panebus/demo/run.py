"""``panebus demo``: the whole pipeline on a private tmux server with stand-in agents.

Steps (each waits on a condition with a deadline, never on a fixed sleep):

1. a private tmux server ``-L panebus-demo-<pid>`` with the tracker layout's agent panes
   (stand-in Codex, Claude Code and claude-monitor; no ``panebus up`` pane — the stack runs here);
2. the stack (:class:`panebus.app.Stack`, what ``panebus up`` runs) watching that server;
3. wait until discovery sees the three agents, probe Codex (``/status``) and Claude (``/usage``)
   — again now and then while the figures move — and wait until the alias cache has figures;
4. a summary: what ``occ``, ``acm`` and ``os`` print, the archive files, the window log and the
   feature-log rows;
5. clean up: stack stopped, tmux server killed, no process left.

Files go to ``PANEBUS_HOME`` (a temp dir unless the user set one) and are kept for inspection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import subprocess
import tempfile
import threading
import time
import typing as t
from pathlib import Path

from libtmux import Server

from bus.endpoints import Endpoints
from bus.paths import Paths
from bus.subscribers import Subscriber
from panebus.app import Stack
from panebus.layout import TrackerCommands, build_tracker
from panebus.oneshot import OneShotPublisher, open_publisher
from scraper.agent_panes import classify_server
from scraper.capture import ServerLink, run_tmux
from scraper.classify import ProcReader
from scraper.config import ServerSpec, load_config
from scraper.probe import TMUX_TIMEOUT, ProbeFailed, Prober, ProbeRefused, prompt_text
from sinks.alias_cache import read_alias
from sinks.config import SinksConfig
from sinks.windows_sink import read_window_log

if t.TYPE_CHECKING:
    from scraper.probe import ProbeResult

logger = logging.getLogger(__name__)

SESSION = "demo"
PANE_TIMEOUT = 20.0
PROBE_TIMEOUT = 30.0
ALIAS_TIMEOUT = 20.0
EVENT_TIMEOUT = 20.0


class DemoError(RuntimeError):
    """A step of the demo did not happen in time; the message says which."""


class Report(t.Protocol):
    """Where the demo tells the user what it does (the CLI prints)."""

    def __call__(self, line: str) -> None: ...


@dataclasses.dataclass
class Summary:
    """What the demo produced, for the closing printout (and for tests)."""

    home: Path
    aliases: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    archive_files: list[Path] = dataclasses.field(default_factory=list)
    window_rows: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    feature_rows: list[str] = dataclasses.field(default_factory=list)
    probes: list[ProbeResult] = dataclasses.field(default_factory=list)
    refusals: list[str] = dataclasses.field(default_factory=list)
    forecasts: dict[str, dict[str, t.Any]] = dataclasses.field(default_factory=dict)
    events: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)


class BusWatch:
    """Collects the ``forecast.*`` and ``event.*`` frames of the run in a thread of its own
    (events are not cached: only a subscriber that is there when they happen sees them)."""

    def __init__(self, summary: Summary) -> None:
        self.summary = summary
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-watch", daemon=True)
        self._ready = threading.Event()

    def __enter__(self) -> BusWatch:
        self._thread.start()
        self._ready.wait(5.0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        with Subscriber(Endpoints.default(), prefixes=["forecast.", "event."],
                        name="demo-watch") as sub:
            self._ready.set()
            while not self.stop.is_set():
                item = sub.recv(timeout=0.2)
                if item is None:
                    continue
                topic, body = item
                if body.get("kind") == "forecast":
                    self.summary.forecasts[topic] = body
                else:
                    self.summary.events.append(body)


# ----------------------------------------------------------------------------- the stack


def make_stack(server: ServerSpec, paths: Paths) -> Stack:
    """The whole ``panebus up`` stack, watching only the demo's tmux server.

    The timer interval is short (5 s) so the window log sees the figures move within a demo.
    """
    config = load_config(paths).with_servers([server]).with_interval(5.0)
    return Stack(paths, config)


# ----------------------------------------------------------------------------- the steps


def _wait(what: str, check: t.Callable[[], t.Any], timeout: float, stop: threading.Event) -> t.Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if stop.is_set():
            raise DemoError(f"stopped while waiting for {what}")
        if time.monotonic() >= deadline:
            raise DemoError(f"timed out after {timeout:.0f}s waiting for {what}")
        stop.wait(0.1)


def _agents_found(server: ServerSpec) -> dict[str, str]:
    """Provider → pane id of the agent panes, classified as the scraper does but without
    the screen rule: the stand-ins are known by name, and no other pane is captured for it."""
    link = ServerLink(server, timeout=TMUX_TIMEOUT)  # never started: each command a process
    found: dict[str, str] = {}
    for pane, verdict in classify_server(link, (), ProcReader(), detect=None):
        if verdict.provider is not None:
            found.setdefault(verdict.provider, pane.pane_id)
    return found if {"codex", "claude", "claude-monitor"} <= set(found) else {}


def _probe_until_done(
    prober: Prober,
    publisher: OneShotPublisher,
    provider: str,
    run: DemoRun,
) -> None:
    """Probe ``provider`` until it worked (a busy stand-in refuses; try again each second)."""
    deadline = time.monotonic() + PROBE_TIMEOUT
    while True:
        try:
            result = prober.probe(provider)
        except (ProbeRefused, ProbeFailed) as exc:
            verdict = "refused" if isinstance(exc, ProbeRefused) else "failed"
            run.summary.refusals.append(f"{provider}: {exc}")
            run.report(f"  probe {provider}: {verdict} ({exc}); trying again")
        else:
            publisher.confirm("probe", agent=provider, pane=result.pane.wire())
            run.summary.probes.append(result)
            figures = ", ".join(
                f"{limit.window}{f' ({limit.scope})' if limit.scope else ''} "
                f"{limit.used_pct:g}% used"
                for limit in (result.usage.limits if result.usage else [])
                if limit.used_pct is not None
            )
            run.report(f"  probe {provider} {result.pane.pane_id}: {figures or 'no figures'}")
            return
        if time.monotonic() >= deadline or run.stop.is_set():
            raise DemoError(f"could not probe {provider} within {PROBE_TIMEOUT:.0f}s")
        run.stop.wait(1.0)


def _show_refusal(server: ServerSpec, pane_id: str, summary: Summary, report: Report) -> None:
    """Type a draft into the Claude pane, as a person would: the probe must refuse and leave
    it alone. Then clear the draft (Ctrl-U), as that person would."""
    draft = "draft: ask about the flaky test"
    run_tmux(server, ["send-keys", "-t", pane_id, "-l", draft], TMUX_TIMEOUT)
    prober = Prober(server)
    try:
        _wait(
            "the draft in the prompt",
            lambda: (
                draft.replace(" ", "")
                == prompt_text("claude", prober.capture(pane_id, escapes=True))
            ),
            5.0,
            threading.Event(),
        )
        prober.probe("claude", pane_id)
    except ProbeRefused as exc:
        summary.refusals.append(f"claude: {exc}")
        report(f"  probe claude with a draft in its prompt: refused ({exc}) — nothing typed")
    except DemoError as exc:
        report(f"  (could not set up the refusal example: {exc})")
    finally:
        run_tmux(server, ["send-keys", "-t", pane_id, "C-u"], TMUX_TIMEOUT)


def _wait_forecast(summary: Summary, stop: threading.Event) -> None:
    """Give the forecast of the demo's Codex session a moment (it needs the probe's figure)."""
    with contextlib.suppress(DemoError):
        _wait("a forecast", lambda: any(f.get("status") == "runs-out"
                                        for f in summary.forecasts.values()), 10.0, stop)


def _ask_codex(run: DemoRun, pane_id: str) -> None:
    """Give the stand-in Codex a prompt, as a person would: it works for a moment, logs the
    turn's figures, and panebus announces that it finished (a notification)."""
    prompt = "explain the failing test"
    for attempt in (1, 2):  # a stand-in busy on its own drops the prompt; its turn ends too
        run_tmux(run.server, ["send-keys", "-t", pane_id, "-l", prompt], TMUX_TIMEOUT)
        run_tmux(run.server, ["send-keys", "-t", pane_id, "Enter"], TMUX_TIMEOUT)
        run.report(f"typed a prompt into codex {pane_id}: {prompt!r}")
        try:
            _wait("codex to finish its turn (a notification)",
                  lambda: any(e.get("event") == "finished" and e.get("provider") == "codex"
                              for e in run.summary.events), EVENT_TIMEOUT, run.stop)
        except DemoError as exc:
            run.report(f"  ({exc}{'; once more' if attempt == 1 else ''})")
        else:
            run.report("  notification: codex finished its turn")
            return


def _alias_lines(paths: Paths) -> dict[str, list[str]]:
    alias_dir = SinksConfig.load(paths).alias_dir
    return {name: read_alias(alias_dir, name) or [] for name in ("occ", "acm", "os")}


def _has_figures(paths: Paths) -> dict[str, list[str]] | None:
    lines = _alias_lines(paths)
    if all(any("%" in line for line in lines[name]) for name in ("occ", "acm")):
        return lines
    return None


def collect(paths: Paths, summary: Summary) -> Summary:
    """Read what the sinks wrote: alias lines, archive files, window log, feature-log rows."""
    config = SinksConfig.load(paths)
    summary.aliases = _alias_lines(paths)
    root = config.archive.root
    if root.exists():
        summary.archive_files = sorted(
            p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
    summary.window_rows = read_window_log(config.window_log) if config.window_log.exists() else []
    if config.feature_log.exists():
        text = config.feature_log.read_text(encoding="utf-8")
        summary.feature_rows = [
            line
            for line in text.splitlines()
            if line.startswith("|") and not set(line) <= set("|-: ")
        ]
    return summary


@dataclasses.dataclass
class DemoRun:
    """One demo run: where it watches, where files go, what it found, how to report and stop."""

    server: ServerSpec
    paths: Paths
    summary: Summary
    report: Report
    stop: threading.Event
    seconds: float


def script(run: DemoRun) -> None:
    """Steps 3–4: find the agents, probe, watch the figures move, probe again, wait for aliases.

    One publisher for every probe of the run: one producer, one gapless sequence.
    """
    found = _wait(
        "the three agent panes", lambda: _agents_found(run.server), PANE_TIMEOUT, run.stop
    )
    run.report("agents found: " + ", ".join(f"{p} {pane}" for p, pane in sorted(found.items())))
    started = time.monotonic()
    _show_refusal(run.server, found["claude"], run.summary, run.report)
    with open_publisher("demo-probe") as publisher:
        if publisher is None:
            raise DemoError("the bus did not come up")
        prober = Prober(run.server, publisher=publisher)
        for provider in ("codex", "claude"):
            _probe_until_done(prober, publisher, provider, run)
        lines = _wait(
            "figures in the alias cache", lambda: _has_figures(run.paths), ALIAS_TIMEOUT, run.stop
        )
        run.report(f"alias cache: occ → {lines['occ'][0] if lines['occ'] else '(empty)'}")
        _ask_codex(run, found["codex"])
        while not run.stop.is_set():
            left = run.seconds - (time.monotonic() - started)
            if left <= 0 or run.stop.wait(min(15.0, left)):
                break
            if time.monotonic() - started >= run.seconds:
                break
            run.report("figures moved on; probing again")
            for provider in ("codex", "claude"):
                _probe_until_done(prober, publisher, provider, run)


# ----------------------------------------------------------------------------- the whole run


@contextlib.contextmanager
def demo_home(report: Report) -> t.Iterator[Path]:
    """``PANEBUS_HOME`` for the demo: the user's, or a new temp dir (kept afterwards).

    ``CODEX_HOME`` and ``CLAUDE_CONFIG_DIR`` point inside it for the demo's duration, so the
    stack's log tailers read the demo's dirs (the stand-in Codex writes its session log there),
    never the user's real sessions.
    """
    saved = {k: os.environ.get(k) for k in ("PANEBUS_HOME", "CODEX_HOME", "CLAUDE_CONFIG_DIR")}
    if saved["PANEBUS_HOME"]:
        home = Path(saved["PANEBUS_HOME"])
        report(f"PANEBUS_HOME={home} (yours)")
    else:
        home = Path(tempfile.mkdtemp(prefix="panebus-demo-"))
        os.environ["PANEBUS_HOME"] = str(home)
        report(f"PANEBUS_HOME={home} (a temp dir; kept afterwards)")
    os.environ["CODEX_HOME"] = str(home / "codex-home")
    os.environ["CLAUDE_CONFIG_DIR"] = str(home / "claude-home")
    try:
        yield home
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_demo(
    report: Report, *, seconds: float = 40.0, attach: bool = False, seed: int = 0
) -> Summary:
    """Run the demo end to end; raises :class:`DemoError` when a step fails. Always cleans up."""

    socket_name = f"panebus-demo-{os.getpid()}"
    spec = ServerSpec(socket_name=socket_name)
    with demo_home(report) as home:
        paths = Paths.from_env()
        summary = Summary(home=home)
        server = Server(socket_name=socket_name)
        stack: Stack | None = None
        try:
            # The stand-in Codex writes its session log where Codex would (the demo's
            # CODEX_HOME), and the stack's rollout tailer reads it.
            commands = TrackerCommands.choose(
                demo=True, seed=seed, fast=True, stack=False,
                codex_rollout_dir=Path(os.environ["CODEX_HOME"]) / "sessions")
            build_tracker(server, commands, session_name=SESSION)
            report(f"tmux server -L {socket_name}: stand-in Codex, Claude Code, claude-monitor")
            stack = make_stack(spec, paths)
            stack.start(report=lambda line: report(f"  {line}"))
            run = DemoRun(spec, paths, summary, report, threading.Event(), seconds)
            with BusWatch(summary):
                if attach:
                    _attached(socket_name, run)
                else:
                    script(run)
                _wait_forecast(summary, run.stop)
            collect(paths, summary)
        finally:
            if stack is not None:
                stack.stop()
            _kill_server(server)
            report(f"cleaned up: tmux server -L {socket_name} killed, stack stopped")
    return summary


def _kill_server(server: Server) -> None:
    """Kill the demo's tmux server and remove its socket file (tmux may leave it behind)."""
    socket_path = None
    with contextlib.suppress(Exception):
        found = server.cmd("display-message", "-p", "#{socket_path}").stdout
        socket_path = Path(found[0]) if found else None
    with contextlib.suppress(Exception):
        server.kill()
    if socket_path is not None:
        socket_path.unlink(missing_ok=True)


def _attached(socket_name: str, run: DemoRun) -> None:
    """Run the script in a thread while the user watches; detaching ends the demo."""
    errors: list[BaseException] = []
    held: list[str] = []
    spec = run.server

    def report(line: str) -> None:
        """Printing would scribble over tmux's screen: hold the lines for after the detach,
        and show each on tmux's status line meanwhile."""
        held.append(line)
        with contextlib.suppress(Exception):
            run_tmux(spec, ["display-message", line.strip()[:200]], TMUX_TIMEOUT)

    attached_run = dataclasses.replace(run, report=report)

    def body() -> None:
        try:
            script(attached_run)
        except BaseException as exc:  # reported after detach
            errors.append(exc)

    worker = threading.Thread(target=body, name="demo-script", daemon=True)
    worker.start()
    # Interactive by nature: it returns when the user detaches (or the server is killed).
    subprocess.run(["tmux", "-L", socket_name, "attach", "-t", SESSION], check=False)
    run.stop.set()
    worker.join(timeout=PROBE_TIMEOUT)
    for line in held:
        run.report(line)
    if errors and not isinstance(errors[0], DemoError):
        raise errors[0]
