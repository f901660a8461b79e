"""panebus under test: ``panebus up -L <harness>`` with a private PANEBUS_HOME, a recording
of the bus (``panebus tail``), and what the aliases show."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import typing as t

from tests import USER_SETTING_PREFIXES
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from tests.live.harness import Harness

#: Timer captures off (an hour): what a test sees came from its own action, through the
#: output and file triggers.
QUIET_CONFIG = """\
[scraper.interval]
codex = 3600.0
claude = 3600.0
claude-monitor = 3600.0
"""


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
