"""``panebus parse`` run as a user runs it: the real console script, files and stdin."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import typing as t

import pytest

from tests import FIXTURES, REPO

if t.TYPE_CHECKING:
    from pathlib import Path

SCREENS = FIXTURES / "screens"
ROLLOUT = (
    FIXTURES / "codex" / "rollout" / "sessions" / "2026" / "02" / "18"
    / "rollout-2026-02-18T09-03-51-019c70b1-2d4e-7c83-a1f5-6e9b0c4d7e21.jsonl"
)
REPORT = FIXTURES / "reports" / "ccusage-18.0.11-weekly.json"


def _command() -> list[str]:
    venv = REPO / ".venv" / "bin" / "panebus"
    if venv.exists():
        return [str(venv)]
    found = shutil.which("panebus")
    return [found] if found else [sys.executable, "-m", "panebus"]


def _run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), "parse", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
        check=False,
    )


def _need(path: Path) -> Path:
    return path


KEYS = {"provider", "screen", "state", "version", "model", "limits", "context_left_pct",
        "warnings", "source"}
LIMIT_KEYS = {"window", "scope", "metric", "used_pct", "resets_at", "resets_text", "used",
              "limit", "estimate"}


@pytest.mark.usefixtures("panebus_home")
def test_claude_usage_file_json() -> None:
    path = _need(SCREENS / "claude" / "claude-code-2.1.197-usage-tab-max-120x40.ansi.txt")
    result = _run([str(path), "--json", "--now", "2026-11-25T06:39:11Z",
                   "--tz", "America/New_York"])
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    assert obj.keys() >= KEYS
    assert (obj["provider"], obj["screen"], obj["state"]) == ("claude", "claude.usage", "idle")
    assert obj["source"] == {"kind": "screen", "confidence": "parsed"}
    assert all(set(limit) == LIMIT_KEYS for limit in obj["limits"])
    figures = [(lim["window"], lim["scope"], lim["used_pct"]) for lim in obj["limits"]]
    assert figures == [("5h", None, 37.0), ("weekly", None, 64.0), ("weekly", "sonnet only", 12.0)]
    first = dt.datetime.fromisoformat(obj["limits"][0]["resets_at"])
    assert first == dt.datetime(2026, 11, 25, 9, 59, tzinfo=dt.timezone.utc)


@pytest.mark.usefixtures("panebus_home")
def test_monitor_on_stdin_with_forced_provider() -> None:
    text = _need(SCREENS / "claude" / "claude-monitor-4.0.0-realtime-max5-1.txt").read_text(
        encoding="utf-8")
    result = _run(["-", "--provider", "claude-monitor", "--json", "--now",
                   "2026-11-25T06:33:35Z", "--tz", "UTC"], stdin=text)
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    figures = [(lim["metric"], lim["used_pct"], lim["used"], lim["limit"]) for lim in obj["limits"]]
    assert figures == [("cost", 58.3, 20.4, 35.0), ("tokens", 107.0, 94175.0, 88000.0),
                       ("messages", 28.0, 280.0, 1000.0)]
    assert {lim["resets_at"] for lim in obj["limits"]} == {"2026-11-25T08:00:00+00:00"}


@pytest.mark.usefixtures("panebus_home")
def test_human_table() -> None:
    path = _need(SCREENS / "claude" / "claude-code-2.0.76-usage-tab-max-120x40.txt")
    result = _run([str(path), "--now", "2026-11-25T06:41:48Z", "--tz", "America/New_York"])
    assert result.returncode == 0, result.stderr
    assert "claude  claude.usage  state=idle (/usage dialog)" in result.stdout
    assert "sonnet only" in result.stdout
    assert "2026-11-28T11:59:00-05:00" in result.stdout


@pytest.mark.usefixtures("panebus_home")
def test_idle_screen_without_limits_exits_zero() -> None:
    path = _need(SCREENS / "claude" / "claude-monitor-4.0.0-realtime-idle-1.txt")
    result = _run([str(path), "--json"])
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    assert (obj["provider"], obj["limits"], obj["warnings"]) == (
        "claude-monitor", [], ["No active session"])


@pytest.mark.usefixtures("panebus_home")
def test_codex_screen_is_detected() -> None:
    path = _need(SCREENS / "codex" / "codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn.txt")
    result = _run([str(path), "--json", "--now", "2026-11-25T06:30:19Z", "--tz", "UTC"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["provider"] == "codex"


@pytest.mark.usefixtures("panebus_home")
def test_unrecognised_input_exits_one() -> None:
    result = _run(["-", "--json"], stdin="just some shell output\n$ ls\n")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "recognised" in result.stderr


@pytest.mark.usefixtures("panebus_home")
@pytest.mark.parametrize("args", [["--tz", "Not/AZone"], ["--now", "yesterday"],
                                  ["--provider", "gemini"]])
def test_usage_errors_exit_two(args: list[str]) -> None:
    result = _run(["-", *args], stdin="x")
    assert result.returncode == 2
    assert "usage:" in result.stderr


@pytest.mark.usefixtures("panebus_home")
def test_missing_file_exits_two(tmp_path: Path) -> None:
    result = _run([str(tmp_path / "nope.txt")])
    assert result.returncode == 2
    assert "cannot read" in result.stderr


@pytest.mark.usefixtures("panebus_home")
def test_codex_rollout_file() -> None:
    result = _run([str(_need(ROLLOUT)), "--json"])
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    assert (obj["provider"], obj["screen"]) == ("codex", "codex.rollout")
    assert obj["source"] == {"kind": "log", "confidence": "official"}
    assert [(lim["window"], lim["used_pct"]) for lim in obj["limits"]] == [
        ("5h", 61.0), ("weekly", 88.0)]


@pytest.mark.usefixtures("panebus_home")
def test_claude_statusline_json_on_stdin() -> None:
    hook_input = {
        "session_id": "abc",
        "model": {"id": "claude-opus-4-5", "display_name": "Opus 4.5"},
        "rate_limits": {"five_hour": {"used_percentage": 37, "resets_at": 1795597140},
                        "seven_day": {"used_percentage": 64, "resets_at": 1795888740}},
    }
    result = _run(["-", "--json", "--now", "2026-11-25T06:39:11Z"], stdin=json.dumps(hook_input))
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    assert (obj["provider"], obj["screen"], obj["model"]) == (
        "claude", "claude.statusline", "Opus 4.5")
    assert obj["source"] == {"kind": "hook", "confidence": "official"}
    assert [(lim["window"], lim["used_pct"]) for lim in obj["limits"]] == [
        ("5h", 37.0), ("weekly", 64.0)]


@pytest.mark.usefixtures("panebus_home")
def test_ccusage_report() -> None:
    result = _run([str(_need(REPORT)), "--json"])
    assert result.returncode == 0, result.stderr
    obj = json.loads(result.stdout)
    assert obj["provider"] == "ccusage"
    assert obj["screen"].startswith("ccusage.weekly")
    assert obj["source"] == {"kind": "report", "confidence": "parsed"}
