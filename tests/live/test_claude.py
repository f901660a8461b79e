"""The real Claude Code: the statusLine hook → ``acm``, ``panebus probe claude`` against a
card that first draws stale figures (issue 12, item 2), and a probe refused while it works."""

from __future__ import annotations

import re
import shlex
import sys
import typing as t
from pathlib import Path

import orjson
import pytest

from bus.clock import to_rfc3339, utcnow
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    import subprocess

    from tests.live.conftest import Harness, Panebus

REPLY = "OK. (loopback stand-in reply)"
#: Server figures for the probe rounds: each differs from the one before, so a first render
#: of the previous figures can never pass for the new ones.
ROUNDS = ((66, 35, 7), (48, 22, 3), (81, 57, 19))


def panebus_command() -> str:
    """The installed ``panebus`` script beside this Python (``python -m panebus`` without)."""
    script = Path(sys.executable).with_name("panebus")
    if script.exists():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m panebus"


@pytest.fixture
def statusline_hook(harness: Harness, panebus: Panebus) -> t.Iterator[None]:
    """``panebus hook claude-statusline`` as Claude's statusLine command (Claude re-reads its
    settings.json while running), pointed at this test's panebus; restored afterwards."""
    settings = harness.claude_config_dir / "settings.json"
    original = settings.read_bytes()
    command = (f"PANEBUS_HOME={shlex.quote(str(panebus.home))} "
               f"{panebus_command()} hook claude-statusline")
    config = orjson.loads(original)
    config["statusLine"] = {"type": "command", "command": command}
    settings.write_bytes(orjson.dumps(config, option=orjson.OPT_INDENT_2))
    try:
        wait_for(lambda: "for shortcuts" not in harness.screen("claude"), timeout=20,
                 message="Claude showing the hook's status line instead of its footer")
        yield
    finally:
        settings.write_bytes(original)
        # The harness's `turn` and our idle checks read the footer back.
        wait_for(lambda: "for shortcuts" in harness.screen("claude"), timeout=20,
                 message="Claude's own footer back once the statusLine is removed")


def transcript_after(harness: Harness, prompt: str) -> list[dict[str, t.Any]]:
    """The transcript entries from the one holding ``prompt`` on (empty: not written yet)."""
    for path in (harness.claude_config_dir / "projects").glob("*/*.jsonl"):
        entries = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
        for index, entry in enumerate(entries):
            if prompt in orjson.dumps(entry.get("message", {})).decode():
                return entries[index:]
    return []


def answered(entries: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """``entries`` once one of them is the stand-in's reply, else []."""
    replied = any(
        e.get("type") == "assistant" and REPLY in orjson.dumps(e).decode() for e in entries
    )
    return entries if replied else []


def test_statusline_hook_brings_official_figures_to_acm(
    harness: Harness, panebus: Panebus, statusline_hook: None
) -> None:
    harness.set_limits("claude", "session=71", "week=45", "sonnet=9")
    # With a statusLine Claude draws no "? for shortcuts": the harness's turn cannot see idle.
    harness.turn("claude", "hello from the hook scenario", wait=False)
    shown = panebus.wait_shows("acm", "claude", {"5h": 71.0, "weekly": 45.0},
                               "acm with the figures of the turn's reply headers")
    for window in ("5h", "weekly"):
        assert shown[window]["source"] == {"kind": "hook", "confidence": "official"}, shown
    wait_for(lambda: REPLY in harness.screen("claude")
             and "esc to interrupt" not in harness.screen("claude"),
             timeout=30, message="the turn answered")


def test_probe_refused_while_claude_works_and_the_turn_completes(
    harness: Harness, panebus: Panebus
) -> None:
    harness.set_limits("claude", "session=24", "reply-delay=15")
    prompt = "a slow question the probe must not interrupt"
    try:
        harness.turn("claude", prompt, wait=False)
        wait_for(lambda: "esc to interrupt" in harness.screen("claude"), timeout=20,
                 message="Claude working on the turn")
        result = panebus.probe("claude")
        assert "esc to interrupt" in harness.screen("claude"), "the turn ended before the probe"
        assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
        assert "refused, nothing typed" in result.stderr, result.stderr
        assert "working" in result.stderr, result.stderr
        entries = wait_for(
            lambda: answered(transcript_after(harness, prompt)), timeout=40,
            message="the turn's reply in Claude's transcript",
        )
    finally:
        harness.set_limits("claude", "reply-delay=0")
    text = orjson.dumps(entries).decode()
    assert "interrupted" not in text.lower(), text
    assert "/usage" not in text, "the probe's command reached the conversation"
    harness.wait_idle("claude")


Round = tuple[dict[str, float], str, "subprocess.CompletedProcess[str]"]


def probe_rounds(harness: Harness, panebus: Panebus) -> t.Iterator[Round]:
    """For each round: set new server figures, then at once ``panebus probe claude``."""
    harness.clear("claude")
    for session, week, sonnet in ROUNDS:
        since = to_rfc3339(utcnow())
        harness.set_limits("claude", f"session={session}", f"week={week}", f"sonnet={sonnet}")
        result = panebus.probe("claude", "--json")
        assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
        yield {"5h": session, "weekly": week, "weekly/sonnet only": sonnet}, since, result
        harness.wait_idle("claude")


def exact_figures(body: dict[str, t.Any]) -> dict[str, float | None]:
    return {
        limit["window"] + (f"/{limit['scope']}" if limit.get("scope") else ""): limit["used_pct"]
        for limit in body.get("limits") or []
        if not limit.get("estimate") and limit.get("window") in ("5h", "weekly")
    }


def test_probe_claude_publishes_the_server_figures_never_the_first_render(
    harness: Harness, panebus: Panebus
) -> None:
    """Item 2: /usage first draws the figures Claude held ("Approximate…", "Refreshing…"),
    then the server's. The probe must publish the settled server figures, every time."""
    for server, _since, result in probe_rounds(harness, panebus):
        match = re.search(r"published raw (\S+)", result.stderr)
        assert match, result.stderr
        raw_id = match.group(1)
        published = wait_for(
            lambda raw_id=raw_id: [
                b for b in panebus.parsed("claude") if b.get("raw_id") == raw_id
            ], timeout=10, message="the probe's parsed frame on the bus",
        )[0]
        assert exact_figures(published) == server, (
            f"the probe published {exact_figures(published)}, the server serves {server}"
        )
        panebus.wait_shows("acm", "claude", {"5h": server["5h"], "weekly": server["weekly"]},
                           "acm with the probed server figures")


def test_no_exact_figure_published_from_the_unsettled_usage_render(
    harness: Harness, panebus: Panebus
) -> None:
    """Item 2: the output trigger also sees the first render while the probe waits; the
    parser must never publish its stale figures as exact (estimate at most, or nothing)."""
    for server, since, _result in probe_rounds(harness, panebus):
        published = [
            (body["screen"], exact_figures(body)) for body in panebus.parsed("claude")
            if body["observed_at"] >= since and exact_figures(body)
        ]
        wrong = [(screen, got) for screen, got in published
                 if any(server.get(key) != pct for key, pct in got.items())]
        assert not wrong, f"server serves {server}; exact figures published: {wrong}"
