"""occ / acm / os through the real ``panebus shell-init bash`` in a bash subprocess."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from bus.clock import utcnow
from bus.subscribers import Subscriber
from sinks import alias_cache
from tests import FIXTURES
from tests.sinks.frames import limit, parsed, stamp
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.broker import Broker
    from bus.endpoints import Endpoints
    from bus.paths import Paths

PANEBUS = str(Path(sys.executable).with_name("panebus"))
M = dt.timedelta(minutes=1)
CODEX_STATUS = FIXTURES / "screens/codex/codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn.txt"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def bash(script: str, stdin: bytes | None = None, args: t.Sequence[str] = ()) -> str:
    """Run ``script`` after the real shell-init, stdin a pipe (``stdin``) or /dev/null."""
    full = f'eval "$({PANEBUS} shell-init bash)"\n{script}'
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", full, "bash", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def seed(paths: Paths) -> None:
    now = utcnow()
    codex = parsed(
        [limit("5h", 23.0, now + 60 * M), limit("weekly", 58.0, now + 3000 * M)],
        at=now - 12 * dt.timedelta(seconds=1),
        stale_after=now + 10 * M,
        model="gpt-5.1-codex",
    )
    claude = parsed(
        [
            limit("5h", 37.0, now + 60 * M),
            limit("weekly", 64.0, now + 3000 * M),
            limit("weekly", 12.0, now + 3000 * M, scope="sonnet only"),
        ],
        at=now - 20 * M,
        provider="claude",
        screen="claude.usage",
        stale_after=now - 10 * M,
    )
    alias_cache.update(paths.alias_dir, [stamp(codex), stamp(claude)])


def test_functions_print_figures_age_and_staleness(sink_paths: Paths) -> None:
    seed(sink_paths)
    out = bash("occ; echo ---; acm; echo ---; os; echo ---; type os | head -1").split("---\n")
    occ, acm, os_lines, kind = out
    assert occ.startswith("codex 5h 23% (resets ") and "weekly 58%" in occ
    assert "gpt-5.1-codex" in occ and ("12s ago" in occ or "13s ago" in occ)
    assert "[stale]" not in occ
    assert acm.startswith("claude session 37%") and "week 64%" in acm
    assert "sonnet only 12%" in acm and acm.rstrip().endswith("20m ago [stale]")
    assert [line.split()[0] for line in os_lines.splitlines()] == ["codex", "claude"]
    assert kind.strip() == "os is a function"


def test_missing_file_falls_back_to_panebus_alias(sink_paths: Paths) -> None:
    assert not (sink_paths.alias_dir / "occ").exists()
    assert bash("occ").strip() == "codex: no data yet"
    assert '"alias":"occ"' in bash("occ --json")


def test_text_on_stdin_is_ingested_and_the_cache_updates(sink_paths: Paths) -> None:
    out = bash("occ", stdin=CODEX_STATUS.read_bytes())
    assert "codex 5h 23%" in out and "weekly 58%" in out
    state = alias_cache.load_state(sink_paths.alias_dir)
    figure = state["providers"]["codex"]["figures"]["5h||quota"]
    assert figure["source"] == {"kind": "manual", "confidence": "parsed"}
    assert bash("occ").startswith("codex 5h 23%")  # now a plain file read


def test_ingested_screen_is_published_as_a_manual_frame(
    broker: Broker, endpoints: Endpoints, sink_paths: Paths
) -> None:
    with Subscriber(endpoints, prefixes=["parsed.codex."], name="watch") as watch:
        out = bash("cat \"$1\" | occ", args=[str(CODEX_STATUS)])
        assert "codex 5h 23%" in out
        item = wait_for(lambda: watch.recv(timeout=0.1), message="the manual frame")
    assert item is not None
    topic, body = item
    assert topic.startswith("parsed.codex.") and body["source"]["kind"] == "manual"
    assert [(x["window"], x["used_pct"]) for x in body["limits"][:2]] == [
        ("5h", 23.0),
        ("weekly", 58.0),
    ]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_functions_print_the_same_lines(sink_paths: Paths) -> None:
    seed(sink_paths)
    script = f'eval "$({PANEBUS} shell-init zsh)"\nos'
    out = subprocess.run(
        ["zsh", "-f", "-c", script], stdin=subprocess.DEVNULL, capture_output=True,
        timeout=60, check=True,
    ).stdout.decode()
    assert out.startswith("codex 5h 23%") and "ago" in out and "[stale]" in out
