"""The REAL ``codex app-server`` of the harness's Codex: figures set on the stand-in are read back
exactly and at once (no minute lag), ``panebus probe codex`` takes them from it without typing
into the pane, and no app-server process outlives a read."""

from __future__ import annotations

import re
import secrets
import typing as t
from pathlib import Path

from scraper.sources.codex_appserver import CodexAppServer
from tests.demo.test_demo_run import processes_with
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from tests.live.conftest import Harness, Panebus

SERVED = re.compile(r"^codex\s+(5h|weekly)\s+used\s+(\d+)%\s+reset_at\s+(\d+)", re.M)


def codex_bin(harness: Harness) -> str:
    return str(Path(harness.info["CODEX_BIN"]) / "codex")


def served(output: str) -> dict[str, tuple[float, int]]:
    """``set-limits`` output → {window: (used %, reset epoch s)}."""
    return {w: (float(used), int(reset)) for w, used, reset in SERVED.findall(output)}


def reader(harness: Harness, tmp_path: Path, mark: str) -> CodexAppServer:
    """A reader with the harness's Codex login; ``mark`` tags its processes' environment."""
    env = {
        "CODEX_HOME": str(harness.codex_home),
        "HOME": str(harness.codex_home.parent),
        "CODEX_CA_CERTIFICATE": harness.info["CODEX_CA_CERTIFICATE"],
        "PANEBUS_TEST_MARK": mark,
    }
    return CodexAppServer(codex_bin(harness), env=env, lock_dir=tmp_path / "locks")


def test_appserver_reads_back_the_figures_set_exactly_and_leaves_no_process(
    harness: Harness, tmp_path: Path
) -> None:
    mark = f"PANEBUS_TEST_MARK=appserver-{secrets.token_hex(4)}"
    appserver = reader(harness, tmp_path, mark.split("=", 1)[1])
    for five, week in ((40, 15), (63, 15)):
        expected = served(harness.set_limits("codex", f"5h={five}", f"weekly={week}"))
        assert set(expected) == {"5h", "weekly"}, expected
        reading = appserver.read()  # right after set-limits: the app-server asks the server
        got = {lim.window: (lim.used_pct, lim.resets_at) for lim in reading.usage.limits
               if lim.scope is None}
        assert {w: (u, int(r.timestamp()) if r else None) for w, (u, r) in got.items()} == expected
        assert processes_with(mark.encode()) == [], "an app-server process outlived the read"
    log = harness.standin_log("codex")
    assert "/backend-api/wham/usage" in log


def test_probe_codex_reads_the_appserver_and_types_nothing(
    harness: Harness, panebus: Panebus
) -> None:
    harness.clear("codex")
    harness.set_limits("codex", "5h=52", "weekly=24")
    before = harness.screen("codex")
    panebus.env["PANEBUS_CODEX_BIN"] = codex_bin(harness)
    result = panebus.probe("codex")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("codex app-server"), result.stdout
    assert "5h 52% used" in result.stdout and "weekly 24% used" in result.stdout
    # Typed, Codex echoes the command on a line of its own; "· /status" ends its footer gauge.
    typed = re.compile(r"^\W*/status\s*$", re.M)
    assert not typed.search(harness.screen("codex")) and not typed.search(before)

    def shown() -> dict[str, t.Any]:
        figures = panebus.shown("occ", "codex")
        return figures if figures.get("5h", {}).get("used_pct") == 52.0 else {}

    figures = wait_for(shown, timeout=20, message="occ with the app-server's 52 %")
    assert figures["5h"]["source"] == {"kind": "api", "confidence": "official"}, figures
    assert figures["5h"]["screen"] == "codex.app-server", figures
    assert figures["weekly"]["used_pct"] == 24.0, figures
