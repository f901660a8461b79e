"""The live suite: panebus against the REAL Codex CLI, Claude Code and claude-monitor.

The agents run under ``../shared/live-agents/live-agents.sh`` (``PANEBUS_LIVE_AGENTS`` names
another copy): a private tmux server, offline, each agent talking to a loopback stand-in of its
backend that serves the usage figures a test sets (``set-limits``). One harness runs per test
session (start takes ~6 s warm, ~35 s cold); every test starts its own ``panebus up`` with a
fresh ``PANEBUS_HOME`` on the harness's tmux socket, so no test sees another's cache.

Where the harness is missing (a clone with no ``../shared`` beside it) every test here is
skipped with one reason. Where it is present, a harness that cannot start is a failure that
shows the harness's own message: CI always has it, so a skip there would hide a broken run.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

import pytest

from tests import REPO, USER_SETTING_PREFIXES
from tests.demo.test_demo_run import processes_with
from tests.waiting import wait_for

LIVE_DIR = Path(__file__).resolve().parent
HARNESS_DIR = Path(os.environ.get("PANEBUS_LIVE_AGENTS") or REPO.parent / "shared" / "live-agents")
HARNESS = HARNESS_DIR / "live-agents.sh"
MISSING = (
    None
    if HARNESS.is_file()
    else f"live-agents harness not found at {HARNESS} (no ../shared beside this clone; "
    "PANEBUS_LIVE_AGENTS names another copy)"
)
#: A cold start installs ~1.3 GB from npm; warm it takes seconds.
START_TIMEOUT = 900.0
PANE_SIZE = "120x40"
WINDOWS = ("codex", "claude", "monitor")
#: Timer captures off (an hour): what a test sees came from its own action, through the
#: output and file triggers.
QUIET_CONFIG = """\
[scraper.interval]
codex = 3600.0
claude = 3600.0
claude-monitor = 3600.0
"""
IDLE = {"codex": "› Ask Codex to do anything", "claude": "for shortcuts"}


#: Without the harness only ``test_harness.py`` is collected, and it skips with the reason:
#: the whole suite is one skip, one line, instead of one per test.
collect_ignore = (
    [path.name for path in LIVE_DIR.glob("test_*.py") if path.name != "test_harness.py"]
    if MISSING
    else []
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here ``live`` (``-m "not live"`` leaves the suite out)."""
    for item in items:
        if LIVE_DIR in item.path.parents:
            item.add_marker(pytest.mark.live)


# ----------------------------------------------------------------------------------- harness


@dataclasses.dataclass
class Harness:
    """One running live-agents harness: its name, state and the KEY=VALUE block of ``start``."""

    name: str
    live_state: Path
    run_env: dict[str, str]
    info: dict[str, str] = dataclasses.field(default_factory=dict)

    def run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """``live-agents.sh ARGS…`` (not checked: callers say what a failure means)."""
        return subprocess.run(
            ["bash", str(HARNESS), *args], env=self.run_env, capture_output=True, text=True,
            timeout=timeout, check=False, stdin=subprocess.DEVNULL,
        )

    def checked(self, *args: str, timeout: float = 120.0) -> str:
        result = self.run(*args, timeout=timeout)
        assert result.returncode == 0, (
            f"live-agents {' '.join(args)} failed (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
        return result.stdout

    def start(self) -> None:
        result = self.run("start", self.name, timeout=START_TIMEOUT)
        if result.returncode != 0:
            pytest.fail(
                f"live-agents start {self.name} failed (exit {result.returncode}):\n"
                f"{result.stderr}{result.stdout}",
                pytrace=False,
            )
        self.info = dict(re.findall(r"^([A-Z_]+)=(.*)$", result.stdout, re.M))
        self.start_log = result.stderr

    def stop(self) -> subprocess.CompletedProcess[str]:
        return self.run("stop", self.name, timeout=120.0)

    @property
    def state_dir(self) -> Path:
        return Path(self.info["LIVE_STATE_DIR"])

    @property
    def codex_home(self) -> Path:
        return Path(self.info["CODEX_HOME"])

    @property
    def claude_config_dir(self) -> Path:
        return Path(self.info["CLAUDE_CONFIG_DIR"])

    def standin_log(self, agent: str) -> str:
        path = self.state_dir / "logs" / f"{agent}-standin.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def set_limits(self, agent: str, *figures: str) -> str:
        """``set-limits NAME AGENT k=v…``; returns what the screens should then show."""
        return self.checked("set-limits", self.name, agent, *figures)

    def turn(self, agent: str, text: str, *, wait: bool = True) -> str:
        """A real turn; with ``wait`` it returns once the agent is idle again."""
        args = ["turn", self.name, agent, text] + ([] if wait else ["--no-wait"])
        return self.checked(*args, timeout=150.0)

    # -- tmux on the harness's socket

    def tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.name, *args], capture_output=True, text=True, timeout=10,
            check=False,
        )
        assert result.returncode == 0, f"tmux {' '.join(args)}: {result.stderr}"
        return result.stdout

    def screen(self, window: str) -> str:
        """The visible screen of ``agents:WINDOW``, wrapped lines joined."""
        return self.tmux("capture-pane", "-p", "-J", "-t", f"agents:{window}")

    def pane_sizes(self) -> dict[str, str]:
        out = self.tmux("list-panes", "-a", "-F", "#{window_name} #{pane_width}x#{pane_height}")
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def control_clients(self) -> list[str]:
        """Control-mode clients attached to the harness's server (panebus's scraper is one)."""
        out = self.tmux("list-clients", "-F", "#{client_pid} #{client_flags}")
        return [line for line in out.splitlines() if "control-mode" in line]

    def type_line(self, window: str, text: str) -> None:
        """Type ``text`` as a person would and press Enter once the agent shows it (a slash
        command also in its popup: Enter before the popup filters picks the wrong command)."""
        before = self.screen(window).count(text)
        shown = before + (2 if text.startswith("/") else 1)
        self.tmux("send-keys", "-t", f"agents:{window}", "-l", text)
        wait_for(lambda: self.screen(window).count(text) >= shown, timeout=10,
                 message=f"{text!r} typed into {window}")
        self.tmux("send-keys", "-t", f"agents:{window}", "Enter")

    def wait_idle(self, agent: str, timeout: float = 30.0) -> str:
        """The screen once the agent is at its prompt and not working."""

        def idle() -> str:
            text = self.screen(agent)
            working = "esc to interrupt" in text.lower()
            return text if IDLE[agent] in text and not working else ""

        return wait_for(idle, timeout=timeout, message=f"{agent} idle at its prompt")

    def clear(self, agent: str) -> None:
        """``/clear``: nothing of an earlier test (a card, a banner, a reply) left on screen."""
        self.wait_idle(agent)
        self.type_line(agent, "/clear")

        def cleared() -> bool:
            text = self.screen(agent)
            if agent == "codex":  # the whole history goes; the composer empties
                return "/clear" not in text and IDLE[agent] in text
            above = text.split("❯ /clear")[0]  # Claude echoes the command under its header
            return "❯ /clear" in text and not any(m in above for m in ("●", "⎿", "❯ "))

        wait_for(cleared, timeout=20, message=f"{agent} cleared by /clear")
        self.wait_idle(agent)


def _run_env(live_state: Path) -> dict[str, str]:
    """The harness's environment, fixed at session start: tests later point HOME and XDG at
    temp dirs, and the install cache must stay the warm one."""
    env = dict(os.environ)
    env["LIVE_STATE"] = str(live_state)
    env.setdefault("LIVE_CACHE", str(Path.home() / ".cache" / "live-agents"))
    return env


@pytest.fixture(scope="session")
def harness() -> t.Iterator[Harness]:
    """One harness per session; always stopped, and nothing it started may be left."""
    live_state = Path(tempfile.mkdtemp(prefix="panebus-live-"))
    running = Harness(f"pbl{os.getpid()}{secrets.token_hex(2)}", live_state, _run_env(live_state))
    problems: list[str] = []
    try:
        running.start()
        sizes = running.pane_sizes()
        assert sizes == dict.fromkeys(WINDOWS, PANE_SIZE), f"harness panes at start: {sizes}"
        yield running
        after = running.pane_sizes()
        if after != sizes:
            problems.append(f"pane sizes changed during the session: {sizes} -> {after}")
    finally:
        stopped = running.stop()
        if stopped.returncode != 0 or "no recorded process alive" not in stopped.stderr:
            problems.append(
                f"live-agents stop {running.name} (exit {stopped.returncode}) left something:\n"
                f"{stopped.stdout}{stopped.stderr}"
            )
        if not problems and not os.environ.get("PANEBUS_LIVE_KEEP"):
            shutil.rmtree(live_state, ignore_errors=True)  # ~410 MB per state dir
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------------ panebus under test


@dataclasses.dataclass
class Panebus:
    """``panebus up -L <harness>`` with a private PANEBUS_HOME, and a recording of the bus."""

    harness: Harness
    home: Path
    env: dict[str, str]
    up: subprocess.Popen[bytes] | None = None
    tail: subprocess.Popen[bytes] | None = None

    @property
    def frames_file(self) -> Path:
        return self.home / "frames.jsonl"

    def cli(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """One ``panebus`` command with this environment (not checked)."""
        return subprocess.run(
            [sys.executable, "-m", "panebus", *args], env=self.env, capture_output=True,
            text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
        )

    def probe(self, provider: str, *args: str) -> subprocess.CompletedProcess[str]:
        """``panebus probe PROVIDER -L <harness>``, once the probe's quiet period after the
        test's own typing has passed (a refusal for that reason is retried, nothing else)."""

        def attempt() -> subprocess.CompletedProcess[str] | None:
            result = self.cli("probe", provider, "-L", self.harness.name, *args)
            return None if "someone typed" in result.stderr else result

        return wait_for(attempt, timeout=30, interval=0.5,
                        message=f"probe {provider} past its quiet period")

    def start(self) -> None:
        log = (self.home / "up.log").open("wb")
        self.up = subprocess.Popen(
            [sys.executable, "-m", "panebus", "up", "-L", self.harness.name], env=self.env,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        wait_for(
            lambda: b"running; Ctrl-C stops" in (self.home / "up.log").read_bytes()
            or self.up is None or self.up.poll() is not None,
            timeout=30, message="panebus up running",
        )
        assert self.up.poll() is None, f"panebus up exited: {self.up_log()}"
        frames = self.frames_file.open("wb")
        self.tail = subprocess.Popen(
            [sys.executable, "-m", "panebus", "tail", "--json", "raw.", "parsed."],
            env=self.env, stdout=frames, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        # The broker hands a new subscriber its cached frames: the first line means connected.
        wait_for(lambda: self.frames_file.stat().st_size > 0, timeout=30,
                 message="panebus tail receiving")

    def stop(self) -> None:
        for process in (self.tail, self.up):
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
                raise AssertionError(f"pid {process.pid} ignored SIGINT for 30 s") from None
        assert self.up is None or self.up.returncode == 0, f"panebus up: {self.up_log()}"

    def up_log(self) -> str:
        path = self.home / "up.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # -- what panebus published and shows

    def frames(self) -> list[dict[str, t.Any]]:
        """Every frame ``panebus tail`` received so far (``{"topic", "body"}``)."""
        import orjson

        out = []
        for line in self.frames_file.read_bytes().splitlines():
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue  # the line being written right now
        return out

    def parsed(self, provider: str) -> list[dict[str, t.Any]]:
        return [
            f["body"] for f in self.frames()
            if f["body"].get("kind") == "parsed" and f["body"].get("provider") == provider
        ]

    def raw(self, frame_id: str) -> dict[str, t.Any] | None:
        for frame in self.frames():
            if frame["body"].get("kind") == "raw" and frame["body"].get("id") == frame_id:
                body: dict[str, t.Any] = frame["body"]
                return body
        return None

    def wait_cached(self, body: dict[str, t.Any]) -> None:
        """Wait until the alias sink has folded in the parsed frame ``body`` (it keeps the
        newest frame of each screen, whatever it then shows)."""
        import orjson

        state_file = self.home / "cache" / "alias" / "state.json"

        def folded() -> bool:
            if not state_file.exists():
                return False
            state = orjson.loads(state_file.read_bytes())
            screens = state["providers"].get(body["provider"], {}).get("screens", {})
            kept = screens.get(body["screen"]) or {}
            return str(kept.get("observed_at", "")) >= str(body["observed_at"])

        wait_for(folded, timeout=10, message=f"alias cache folded in frame {body['id']}")

    def alias(self, name: str) -> dict[str, t.Any]:
        """``panebus alias NAME --json``: the figures the alias shows."""
        import orjson

        result = self.cli("alias", name, "--json")
        assert result.returncode == 0, result.stderr
        data: dict[str, t.Any] = orjson.loads(result.stdout)
        return data

    def shown(self, alias: str, provider: str) -> dict[str, dict[str, t.Any]]:
        """The figures ``alias`` shows for ``provider``, keyed ``window`` or ``window/scope``."""
        entry = self.alias(alias)["providers"].get(provider) or {}
        return {
            figure["window"] + (f"/{figure['scope']}" if figure.get("scope") else ""): figure
            for figure in entry.get("limits", [])
        }

    def shows(
        self, alias: str, provider: str, expected: dict[str, float]
    ) -> dict[str, dict[str, t.Any]]:
        """The figures ``alias`` shows when their used % equal ``expected`` ({window or
        window/scope: used %}), else {} (for ``wait_for``)."""
        shown = self.shown(alias, provider)
        got = {key: figure["used_pct"] for key, figure in shown.items()}
        return shown if all(got.get(key) == pct for key, pct in expected.items()) else {}

    def wait_shows(
        self, alias: str, provider: str, expected: dict[str, float], why: str,
        timeout: float = 20.0,
    ) -> dict[str, dict[str, t.Any]]:
        """Wait until ``alias`` shows ``expected``; on timeout say what it shows instead."""
        try:
            return wait_for(lambda: self.shows(alias, provider, expected), timeout=timeout,
                            interval=0.2, message=why)
        except AssertionError as exc:
            shown = self.shown(alias, provider)
            got = {key: (figure["used_pct"], figure["source"]) for key, figure in shown.items()}
            raise AssertionError(
                f"{exc}; {alias} shows {self.alias_line(alias).strip()!r} {got}"
            ) from None

    def alias_line(self, alias: str) -> str:
        return self.cli("alias", alias).stdout


def panebus_env(home: Path, harness: Harness, codex_home: Path | None = None) -> dict[str, str]:
    """panebus's environment: a private PANEBUS_HOME and XDG dirs, the harness's agent dirs
    and ``codex`` on PATH (Codex's app-server reaches the stand-in with its CODEX_HOME, CA
    and HOME), never the user's."""
    codex = codex_home or harness.codex_home
    env = {k: v for k, v in harness.run_env.items() if not k.startswith(USER_SETTING_PREFIXES)}
    for name in ("TMUX", "TMUX_PANE", "LIVE_STATE", "LIVE_CACHE"):
        env.pop(name, None)
    xdg = home / "xdg"
    env.update(
        PANEBUS_HOME=str(home),
        HOME=str(codex.parent),
        XDG_RUNTIME_DIR=str(xdg / "run"),
        XDG_CONFIG_HOME=str(xdg / "config"),
        XDG_CACHE_HOME=str(xdg / "cache"),
        XDG_DATA_HOME=str(xdg / "data"),
        XDG_STATE_HOME=str(xdg / "state"),
        CODEX_HOME=str(codex),
        CODEX_CA_CERTIFICATE=harness.info["CODEX_CA_CERTIFICATE"],
        CLAUDE_CONFIG_DIR=str(harness.claude_config_dir),
        # The user's shell finds `codex` (panebus asks its app-server) as the pane's does.
        PATH=os.pathsep.join((harness.info["CODEX_BIN"], env.get("PATH", os.defpath))),
    )
    return env


class StartPanebus(t.Protocol):
    def __call__(self, *, codex_home: Path | None = None) -> Panebus: ...


@pytest.fixture
def start_panebus(harness: Harness, tmp_path: Path) -> t.Iterator[StartPanebus]:
    """Start ``panebus up`` on the harness (once per test). On the way out it must stop
    cleanly and leave the agents as it found them: panes 120x40, no control client, no process
    of its own (e.g. a ``codex app-server``) still running."""
    started: list[Panebus] = []

    def start(*, codex_home: Path | None = None) -> Panebus:
        home = tmp_path / f"pbhome{len(started)}"
        (home / "config").mkdir(parents=True, mode=0o700)
        (home / "config" / "config.toml").write_text(QUIET_CONFIG)
        running = Panebus(harness, home, panebus_env(home, harness, codex_home))
        started.append(running)
        running.start()
        return running

    yield start
    for running in started:
        running.stop()
    for running in started:
        entry = f"PANEBUS_HOME={running.home}".encode()
        wait_for(lambda entry=entry: not processes_with(entry), timeout=15,
                 message=f"no process of panebus ({entry.decode()}) left")
    wait_for(lambda: not harness.control_clients(), timeout=10,
             message="no control client left on the harness's tmux server")
    assert harness.pane_sizes() == dict.fromkeys(WINDOWS, PANE_SIZE)


@pytest.fixture
def panebus(start_panebus: StartPanebus) -> Panebus:
    """``panebus up`` on the harness with the harness's CODEX_HOME."""
    return start_panebus()
