"""The probe's safety checks, each on a real tmux pane with a stand-in agent that logs every
key it receives: a refused probe sends nothing, Esc only reaches an open card, the lock holds
across processes, and a command typed into a draft is removed only where provably ours."""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t

import pytest

from panebus.standins import agent_command
from scraper.config import ServerSpec
from scraper.probe import Prober, ProbeRefused
from scraper.probe_guard import Expect, read_facts, send_if
from scraper.probe_keys import NotSent, Typist, snapshot
from scraper.probe_lock import PaneBusy, pane_lock
from scraper.probe_screen import (
    card_settled,
    find_composer,
    removable_suffix,
    steady_text,
    unsettled_marker,
)
from tests.scraper.probe_torture import _Client
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    import libtmux

READY = {"codex": "Ask Codex to do anything", "claude": "? for shortcuts"}


class Agent(t.NamedTuple):
    pane: libtmux.Pane
    keylog: Path

    @property
    def pane_id(self) -> str:
        return str(self.pane.pane_id)

    def received(self) -> list[dict[str, t.Any]]:
        text = self.keylog.read_text(encoding="utf-8") if self.keylog.exists() else ""
        return [json.loads(line) for line in text.splitlines()]

    def screen(self) -> str:
        return "\n".join(self.pane.capture_pane() or [])

    def type(self, text: str) -> None:
        self.pane.cmd("send-keys", "-t", self.pane_id, "-l", text)


@pytest.fixture
def agent(server: libtmux.Server, tmp_path: Path) -> t.Callable[[str], Agent]:
    def start(provider: str) -> Agent:
        keylog = tmp_path / f"{provider}-keys.jsonl"
        session = server.new_session(
            provider,
            window_command=agent_command(provider, extra=("--busy", "0", "--keylog", str(keylog))),
            x=120,
            y=40,
        )
        pane = session.active_window.active_pane
        assert pane is not None
        started = Agent(pane, keylog)
        wait_for(lambda: READY[provider] in started.screen(), message=f"{provider} prompt")
        return started

    return start


def prober(server: libtmux.Server, tmp_path: Path, **kwargs: t.Any) -> Prober:
    return Prober(
        ServerSpec(socket_name=server.socket_name), lock_dir=tmp_path / "locks", **kwargs
    )


# -- pure rules --------------------------------------------------------------------------------


class SuffixCase(t.NamedTuple):
    test_id: str
    draft: str
    removable: bool


SUFFIXES = [
    SuffixCase("only-ours", "/status", True),
    SuffixCase("person-typed-before", "AB/status", True),
    SuffixCase("person-typed-after", "/statusAB", False),
    SuffixCase("ours-in-the-middle", "A/statusB", False),
    SuffixCase("same-either-way", "/status/status", True),
    SuffixCase("ambiguous-tail", "/statusus/status", False),
    SuffixCase("not-ours-at-all", "AB", False),
]


@pytest.mark.parametrize("case", SUFFIXES, ids=[c.test_id for c in SUFFIXES])
def test_only_a_provable_tail_is_removable(case: SuffixCase) -> None:
    assert removable_suffix(case.draft, "/status") is case.removable


# Claude Code 2.1.197 /usage, captured 0.08 s and 0.23 s after Enter on the live harness, then
# settled (the server's figures; the wall-clock line ticks).
CLAUDE_FIRST = """  Current session
  ██████████████████▌                                37% used
  Resets 6:10pm (UTC)
  What's contributing to your limits usage?
  Approximate, based on local sessions on this machine — does not include other devices
  Scanning local sessions…
  Refreshing…
  Esc to cancel"""
CLAUDE_SETTLED = """  Total duration (wall): 49s
  Current session
  ██████████████████▌                                37% used
  Resets 6:10pm (UTC)
  Esc to cancel"""


def test_an_unsettled_card_is_recognised_and_ticking_lines_do_not_count() -> None:
    assert unsettled_marker(CLAUDE_FIRST) == "Refreshing…"
    assert unsettled_marker(CLAUDE_SETTLED) is None
    assert not card_settled("claude", CLAUDE_FIRST)
    assert card_settled("claude", CLAUDE_SETTLED)  # its tab line is cut off: the rest counts
    tabs = "  Settings  Status   Config   Usage   Stats\n"
    assert not card_settled("claude", tabs + CLAUDE_FIRST)
    assert card_settled("claude", tabs + CLAUDE_SETTLED)
    later = CLAUDE_SETTLED.replace("49s", "50s")
    assert steady_text(later) == steady_text(CLAUDE_SETTLED)
    assert steady_text(later.replace("37%", "38%")) != steady_text(CLAUDE_SETTLED)


# -- the lock ----------------------------------------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from scraper.probe_lock import pane_lock
with pane_lock(Path(sys.argv[1]), "/tmp/tmux-x/sock", "%7"):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_the_pane_lock_holds_across_processes_and_dies_with_its_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(PaneBusy, match="another probe"), pane_lock(
            tmp_path, "/tmp/tmux-x/sock", "%7"
        ):
            pass
        with pane_lock(tmp_path, "/tmp/tmux-x/sock", "%8"):  # another pane: free
            pass
    finally:
        holder.kill()
        holder.wait(10)
    with pane_lock(tmp_path, "/tmp/tmux-x/sock", "%7"):  # the kernel released it
        pass


# -- refusals send nothing ---------------------------------------------------------------------


def test_copy_mode_refuses_and_sends_nothing(
    server: libtmux.Server, agent: t.Callable[[str], Agent], tmp_path: Path
) -> None:
    codex = agent("codex")
    codex.pane.cmd("copy-mode", "-t", codex.pane_id)
    with pytest.raises(ProbeRefused, match="copy mode"):
        prober(server, tmp_path).probe("codex")
    assert codex.received() == []


def test_synchronized_panes_and_input_off_refuse(
    server: libtmux.Server, agent: t.Callable[[str], Agent], tmp_path: Path
) -> None:
    codex = agent("codex")
    codex.pane.cmd("set-option", "-w", "-t", codex.pane_id, "synchronize-panes", "on")
    with pytest.raises(ProbeRefused, match="synchronize-panes"):
        prober(server, tmp_path).probe("codex")
    codex.pane.cmd("set-option", "-w", "-t", codex.pane_id, "synchronize-panes", "off")
    codex.pane.cmd("select-pane", "-d", "-t", codex.pane_id)
    with pytest.raises(ProbeRefused, match="input to the pane is disabled"):
        prober(server, tmp_path).probe("codex")
    assert codex.received() == []


def test_a_person_typing_through_a_client_is_left_alone_until_quiet(
    server: libtmux.Server, agent: t.Callable[[str], Agent], tmp_path: Path
) -> None:
    claude = agent("claude")
    client = _Client(str(server.socket_name), "claude")
    try:
        wait_for(
            lambda: server.cmd("list-clients").stdout, message="the person's client attached"
        )
        client.send("HI")
        wait_for(lambda: "HI" in claude.screen(), message="the person's keys")
        client.send("\x08\x08")
        wait_for(lambda: "HI" not in claude.screen(), message="the person's deletes")
        typed = len(claude.received())
        with pytest.raises(ProbeRefused, match="typed through a tmux client"):
            prober(server, tmp_path, quiet=30.0).probe("claude")
        assert len(claude.received()) == typed  # nothing sent
        # Once the person has been quiet for the (short) period, the probe goes ahead.
        quiet = prober(server, tmp_path, quiet=1.0)

        def probed() -> bool:
            try:
                return quiet.probe("claude").restored
            except ProbeRefused:
                return False

        assert wait_for(probed, timeout=15, interval=0.3, message="a probe after quiet")
    finally:
        client.close()
    escapes = [k for k in claude.received() if k["key"] == "esc"]
    assert len(escapes) == 1 and escapes[0]["card"] and not escapes[0]["working"]


# -- guarded keys ------------------------------------------------------------------------------


def test_a_guarded_key_is_not_sent_when_the_cursor_moved(
    server: libtmux.Server, agent: t.Callable[[str], Agent], tmp_path: Path
) -> None:
    codex = agent("codex")
    run = prober(server, tmp_path)._tmux
    snap = snapshot(run, codex.pane_id)
    composer = find_composer("codex", snap.rows)
    assert composer is not None
    codex.type("X")
    wait_for(lambda: "› X" in codex.screen(), message="the person's key")
    expect = Expect(None, attached=0, cursor=snap.cursor, row=composer.row, line=composer.line)
    sent, facts = send_if(run, codex.pane_id, expect, ["/status"], literal=True)
    assert not sent
    assert facts.cursor != snap.cursor
    assert [k["key"] for k in codex.received()] == ["X"]


def _typist(server: libtmux.Server, codex: Agent, tmp_path: Path) -> Typist:
    run = prober(server, tmp_path)._tmux
    facts = read_facts(run, codex.pane_id)
    return Typist(run, "codex", "/status", facts, codex.pane_id, people=False, quiet=3.0,
                  timeout=3.0)


def test_take_back_removes_only_a_provable_tail(
    server: libtmux.Server, agent: t.Callable[[str], Agent], tmp_path: Path
) -> None:
    codex = agent("codex")
    codex.type("AB/status")  # as if the person's AB reached the agent just before our keys
    wait_for(lambda: "› AB/status" in codex.screen(), message="the draft")
    with pytest.raises(NotSent, match="removed exactly /status") as caught:
        _typist(server, codex, tmp_path).take_back()
    assert caught.value.typed and not caught.value.left
    wait_for(lambda: "› AB" in codex.screen().split("\n"), message="AB left")
    assert [k["raw"] for k in codex.received()][-7:] == ["\x7f"] * 7


def test_take_back_leaves_a_draft_it_cannot_prove(
    server: libtmux.Server, agent: t.Callable[[str], Agent], tmp_path: Path
) -> None:
    codex = agent("codex")
    codex.type("/statusAB")  # the person typed AB right after our command
    wait_for(lambda: "› /statusAB" in codex.screen(), message="the draft")
    typed = len(codex.received())
    with pytest.raises(NotSent, match="left in their draft") as caught:
        _typist(server, codex, tmp_path).take_back()
    assert caught.value.left == "/status"
    assert len(codex.received()) == typed  # not one key sent
    assert "› /statusAB" in codex.screen()


def test_esc_is_not_sent_when_no_card_is_on_screen(
    server: libtmux.Server, agent: t.Callable[[str], Agent], tmp_path: Path
) -> None:
    claude = agent("claude")
    run = prober(server, tmp_path)._tmux
    typist = Typist(run, "claude", "/usage", read_facts(run, claude.pane_id), claude.pane_id,
                    people=False, quiet=3.0, timeout=1.0)
    assert typist.close_card()  # nothing to close
    assert claude.received() == []


def test_esc_is_held_back_while_the_agent_works(
    server: libtmux.Server, agent: t.Callable[[str], Agent], tmp_path: Path
) -> None:
    """The card's last line is on screen (here in the transcript), but the agent works: the
    guarded Esc does not go out."""
    claude = agent("claude")
    claude.type("Esc to cancel")
    claude.pane.cmd("send-keys", "-t", claude.pane_id, "Enter")
    wait_for(lambda: "esc to interrupt" in claude.screen(), message="working")
    run = prober(server, tmp_path)._tmux
    expect = Expect(None, attached=0, screen_has=("Esc to cancel",))
    sent, _facts = send_if(run, claude.pane_id, expect, ["Escape"])
    assert not sent
    assert [k for k in claude.received() if k["key"] == "esc"] == []
