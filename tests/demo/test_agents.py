"""The stand-in agents in real tmux panes: screens, cards, Esc, names, titles, discovery."""

from __future__ import annotations

import datetime as dt
import re
import sys
import typing as t
from pathlib import Path

import pytest

from scraper import discovery
from scraper.classify import ProcReader, classify
from tests.demo.conftest import pane_format, screen, screen_with
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    import libtmux

    from tests.demo.conftest import StartAgent

REPO = Path(__file__).resolve().parents[2]
CODEX_LIMIT = re.compile(r"^  (5h|Weekly) limit: +\[[█░]{20}\] (\d+)% left \(resets [^)]+\)$", re.M)
CLAUDE_ROW = re.compile(r"^  [█▌ ]{50} (\d+)% used$", re.M)


def send(pane: libtmux.Pane, text: str) -> None:
    pane.cmd("send-keys", "-t", pane.pane_id, "-l", text)


def key(pane: libtmux.Pane, name: str) -> None:
    pane.cmd("send-keys", "-t", pane.pane_id, name)


def test_codex_composer_status_card_and_escape(start_agent: StartAgent) -> None:
    pane = start_agent("codex")
    before = screen(pane)
    assert "  >_ OpenAI Codex (v0.169.0)" in before
    assert "  ← for agents · ? for shortcuts" in before
    assert pane_format(pane, "#{pane_current_command}") == "codex"
    assert pane_format(pane, "#{alternate_on}") == "1"

    send(pane, "/status")
    wait_for(lambda: "› /status" in screen(pane), message="typed command in the composer")
    key(pane, "Enter")
    card = wait_for(lambda: screen_with(pane, "Weekly limit:"), message="card")
    rows = CODEX_LIMIT.findall(card)
    assert [window for window, _ in rows] == ["5h", "Weekly"]
    assert "information on rate limits and credits" in card
    assert card.splitlines()[-4] == "› Ask Codex to do anything"

    key(pane, "Escape")
    wait_for(lambda: screen(pane) == before, message="screen restored after Esc")


def test_codex_typing_and_working_phase(start_agent: StartAgent) -> None:
    pane = start_agent("codex", "--work-seconds", "1")
    send(pane, "hello there")
    wait_for(lambda: "› hello there" in screen(pane), message="typed text in the composer")
    key(pane, "Enter")
    wait_for(lambda: "esc to interrupt)" in screen(pane), message="working spinner")
    done = wait_for(
        lambda: screen_with(pane, "• This is the panebus stand-in"),
        message="answer after the turn",
    )
    assert "esc to interrupt" not in done
    assert done.splitlines()[-4] == "› Ask Codex to do anything"


def test_claude_prompt_usage_tab_and_escape(start_agent: StartAgent) -> None:
    pane = start_agent("claude")
    before = screen(pane)
    assert " ▐▛███▜▌   Claude Code v2.1.197" in before
    assert pane_format(pane, "#{pane_current_command}") == "claude"
    assert pane_format(pane, "#{pane_title}") == "✳ Claude Code"
    prompt = [line for line in before.splitlines() if line.startswith("❯")]
    assert prompt == ["❯"]  # "❯" + NBSP + the cursor cell, stripped

    send(pane, "/usage")
    wait_for(lambda: "❯\u00a0/usage" in screen(pane), message="typed command in the prompt")
    key(pane, "Enter")
    card = wait_for(lambda: screen_with(pane, "Esc to cancel"), message="card")
    for title in ("Current session", "Current week (all models)", "Current week (Sonnet only)"):
        assert f"  {title}" in card.splitlines()
    assert len(CLAUDE_ROW.findall(card)) == 3
    assert card.count("  Resets ") == 3

    key(pane, "Escape")
    wait_for(lambda: screen(pane) == before, message="prompt restored after Esc")


def test_monitor_realtime_screen(start_agent: StartAgent) -> None:
    pane = start_agent("monitor")
    text = screen(pane)
    assert pane_format(pane, "#{pane_current_command}") == "claude-monitor"
    assert text.splitlines()[1] == "=" * 60
    assert re.search(r"^💰 Cost Usage: +🟢|🟡|🔴", text, re.M)
    assert re.search(r"\d+\.\d% \(local estimate\) +[\d,]+ /", text)
    assert re.search(
        r"^⏰ \d+:\d\d:\d\d [AP]M 📝 Active session \| Ctrl\+C to exit 🟢$", text, re.M
    )


def test_discovery_classifies_the_stand_ins(
    server: libtmux.Server, start_agent: StartAgent
) -> None:
    for agent in ("codex", "claude", "monitor"):
        start_agent(agent)
    server.new_session("shell", window_command="exec sh")
    panes = discovery.sweep(lambda args: server.cmd(*args).stdout, "test").panes
    proc = ProcReader()
    verdicts = {p.session: classify(p, (), proc) for p in panes}
    assert verdicts["codex1"].provider == "codex"
    assert verdicts["claude2"].provider == "claude"
    assert verdicts["monitor3"].provider == "claude-monitor"
    assert {verdicts[s].rule for s in ("codex1", "claude2", "monitor3")} == {"command"}
    assert verdicts["shell"].provider is None


def _parse(text: str, provider: str) -> t.Any:
    """The real parsers' reading (skips while that provider's parser is not installed)."""
    from scraper.parsers.registry import parse_screen, providers

    assert provider in providers(), f"no {provider} parser registered"
    now = dt.datetime.now(dt.timezone.utc)
    return parse_screen(text, now, now.astimezone().tzinfo or dt.timezone.utc, provider=provider)


@pytest.mark.parametrize(
    ("agent", "command", "marker"),
    [
        ("codex", "/status", "Weekly limit:"),
        ("claude", "/usage", "Esc to cancel"),
    ],
)
def test_real_parsers_read_the_stand_in_cards(
    start_agent: StartAgent, agent: str, command: str, marker: str
) -> None:
    pane = start_agent(agent)
    idle = _parse(screen(pane), agent)
    assert idle is not None
    assert idle.state == "idle"
    send(pane, command)
    wait_for(lambda: command in screen(pane), message="typed command")
    key(pane, "Enter")
    card = wait_for(lambda: screen_with(pane, marker), message="card")
    usage = _parse(card, agent)
    assert usage is not None
    shown = [float(p) for p in re.findall(r"(\d+)% (?:left|used)", card)]
    used = sorted(limit.used_pct for limit in usage.limits if limit.metric == "quota")
    expected = sorted(100 - p for p in shown) if agent == "codex" else sorted(shown)
    assert used == expected
    assert all(limit.resets_at is not None for limit in usage.limits)


PAINT_FULL_ROW = """import time
from panebus.demo.agents import Screen, Terminal
with Terminal(0, 1, alternate=False) as terminal:
    width = terminal.size()[0]
    terminal.paint(Screen(["x" * (width - 1) + ")", "short"], None))
    time.sleep(60)
"""


def test_a_row_as_wide_as_the_pane_keeps_its_last_character(server: libtmux.Server) -> None:
    """Autowrap is off while a stand-in paints, so the cursor stays on the last cell of a full
    row; erasing to the end of the line there took that cell (a Claude reset phrase ending in
    "(Etc/UTC)" lost its ")" at 50 columns after 19:00 UTC, and the parser rightly refused it)."""
    session = server.new_session("paint", x=30, y=5, start_directory=str(REPO),
                                 window_command=f"{sys.executable} -c '{PAINT_FULL_ROW}'")
    pane = session.active_window.active_pane
    assert pane is not None
    text = wait_for(lambda: screen_with(pane, "short"), message="the painted rows")
    assert text.splitlines()[0] == "x" * 29 + ")"
