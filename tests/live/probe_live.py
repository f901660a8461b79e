"""The probe torture against the REAL Codex CLI and Claude Code (the live-agents harness).

The real agents keep no key log, so the person checks its own draft instead: it types,
deletes (capitals, digits, spaces; through ``send-keys`` and through an attached client) and
before each submit waits for the composer to hold still and compares it with what it meant to
type. What differs is counted: its characters missing (lost), and the probe's characters in
its draft (left). Interrupted turns are counted from the agents' own logs (Claude's transcript
``[Request interrupted by user]``, Codex's rollout ``turn_aborted``): the person never presses
Esc, so every one would be a probe's. Used by tests/live/test_probe_live.py (small) and by
``tests/bench/bench_probe_torture.py --live NAME`` (large).
"""

from __future__ import annotations

import collections
import dataclasses
import difflib
import random
import subprocess
import threading
import time
import typing as t

from scraper.config import ServerSpec
from scraper.probe import Prober
from scraper.probe_keys import snapshot
from scraper.probe_screen import card_on_screen, find_composer
from tests.scraper.probe_torture import USER_ALPHABET, Figures, _Client, run_probers
from tests.waiting import WaitTimeout, wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

INTERRUPTED = {"claude": "Request interrupted by user", "codex": "turn_aborted"}
#: Seconds between two reads of the composer that must agree before the person trusts them.
COMPOSER_STILL = 0.25


@dataclasses.dataclass
class LiveFigures(Figures):
    """:class:`Figures` plus what the person saw in its own drafts."""

    checks: int = 0
    user_chars_lost: int = 0
    user_chars_extra: int = 0
    probe_chars_seen_in_draft: int = 0
    interrupted_turns: int = 0

    def lines(self) -> list[str]:
        head = [line for line in super().lines() if not line.startswith((
            "person's", "probe c", "probe s", "probe E", "Esc", "  of which", "key-log"))]
        return [
            *head,
            f"person's draft checks before submit: {self.checks}",
            f"person's characters lost:                        {self.user_chars_lost}",
            f"person's deleted characters still there (its delete hit a probe character): "
            f"{self.user_chars_extra}",
            f"probe characters found in the person's draft:   {self.probe_chars_seen_in_draft}",
            f"Esc sent by probes: {self.escapes_sent}; turns interrupted (agent's own log): "
            f"{self.interrupted_turns}",
        ]


def _tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True,
                          timeout=10, check=False).stdout


def count_interrupted(provider: str, home: Path) -> int:
    """Interrupted turns in the agent's own logs under ``home`` (CLAUDE_CONFIG_DIR or
    CODEX_HOME)."""
    pattern = "projects" if provider == "claude" else "sessions"
    total = 0
    for path in (home / pattern).rglob("*.jsonl"):
        total += path.read_text(errors="replace").count(INTERRUPTED[provider])
    return total


class Person:
    """Types, deletes, checks its draft, submits — at random, in its own thread."""

    def __init__(self, socket: str, pane_id: str, provider: str, tmux_window: str, *,
                 seed: int, channel: str) -> None:
        self.socket, self.pane_id, self.provider = socket, pane_id, provider
        self.rng = random.Random(seed)
        self.channel = channel
        self.draft = ""
        self.figures_lost = 0  # the person's characters missing from its draft
        self.figures_extra = 0  # the person's characters still there after it deleted them
        self.figures_left = 0
        self.checks = 0
        self.typed = 0
        self.actions: collections.Counter[str] = collections.Counter()
        self.stop = threading.Event()
        self.client: _Client | None = None
        if channel in ("client", "both"):
            _tmux(socket, "select-window", "-t", f"agents:{tmux_window}")
            self.client = _Client(socket, "agents")
        self.thread = threading.Thread(target=self._loop, name="person", daemon=True)

    def _run(self) -> t.Callable[[t.Sequence[str]], list[str]]:
        def run(args: t.Sequence[str]) -> list[str]:
            return _tmux(self.socket, *args).split("\n")[:-1]
        return run

    def _send(self, data: str) -> None:
        via_client = self.client is not None and (
            self.channel == "client" or self.rng.random() < 0.5
        )
        if via_client and self.client is not None:
            self.client.send({"\b": "\x7f", "\n": "\r"}.get(data, data))
        elif data == "\b":
            _tmux(self.socket, "send-keys", "-t", self.pane_id, "BSpace")
        elif data == "\n":
            _tmux(self.socket, "send-keys", "-t", self.pane_id, "Enter")
        else:
            _tmux(self.socket, "send-keys", "-t", self.pane_id, "-l", data)

    def _composer_text(self, timeout: float = 8.0) -> str | None:
        """The draft once the composer shows and holds still (None: it never did)."""
        last: list[str | None] = [None]

        def held_still() -> tuple[str] | None:
            snap = snapshot(self._run(), self.pane_id)
            composer = find_composer(self.provider, snap.rows)
            text = (composer.text if composer.typed else "") if composer else None
            if text is not None and text == last[0]:
                return (text,)
            last[0] = text
            return None

        try:  # the same draft in two reads COMPOSER_STILL apart: what a person sees as typed
            return wait_for(held_still, timeout=timeout, interval=COMPOSER_STILL,
                            message="the composer holding still")[0]
        except WaitTimeout:
            return None

    def _card_open(self) -> bool:
        return card_on_screen(self.provider, snapshot(self._run(), self.pane_id).plain) and (
            self.provider == "claude"
        )

    def check_and_submit(self) -> None:
        text = self._composer_text()
        if text is None:
            return
        self.checks += 1
        mine = "".join(c for c in text if c in USER_ALPHABET)
        matcher = difflib.SequenceMatcher(a=self.draft, b=mine, autojunk=False)
        same = sum(block.size for block in matcher.get_matching_blocks())
        self.figures_lost += len(self.draft) - same
        self.figures_extra += len(mine) - same
        self.figures_left += len(text) - len(mine)
        if text:
            self._send("\n")
            if self._composer_text(timeout=6.0) not in ("", None):
                # Not taken (e.g. an unknown slash command): the person clears it by hand.
                for _ in range(len(text)):
                    _tmux(self.socket, "send-keys", "-t", self.pane_id, "BSpace")
        self.draft = ""

    def _loop(self) -> None:
        """The sleeps here are the person's pace (the scenario), not synchronisation."""
        rng = self.rng
        while not self.stop.is_set():
            while self._card_open() and not self.stop.is_set():
                time.sleep(0.1)  # a person does not type into a dialog they can see
            roll = rng.random()
            if roll < 0.35:
                for _ in range(rng.randint(1, 6)):
                    char = rng.choice(USER_ALPHABET.strip())
                    self._send(char)
                    self.draft += char
                    self.typed += 1
                    time.sleep(rng.uniform(0.02, 0.1))
                self.actions["type"] += 1
            elif roll < 0.50 and self.draft:
                for _ in range(rng.randint(1, min(3, len(self.draft)))):
                    self._send("\b")
                    self.draft = self.draft[:-1]
                    time.sleep(rng.uniform(0.02, 0.08))
                self.actions["delete"] += 1
            elif roll < 0.70 and self.draft:
                self.check_and_submit()
                self.actions["submit"] += 1
            elif roll < 0.73:
                _tmux(self.socket, "copy-mode", "-t", self.pane_id)
                time.sleep(rng.uniform(0.2, 1.0))
                _tmux(self.socket, "send-keys", "-t", self.pane_id, "-X", "cancel")
                self.actions["copy-mode"] += 1
            else:
                self.actions["pause"] += 1
            time.sleep(rng.choice((0.0, 0.1, 0.3, 1.0, 2.0, 3.0, 5.0)))
        self.check_and_submit()  # the last draft is checked too

    def close(self) -> None:
        self.stop.set()
        self.thread.join(60)
        if self.client is not None:
            self.client.close()


def run_live(
    socket: str, provider: str, tmux_window: str, agent_home: Path, *, probes: int, seed: int = 1,
    quiet: float = 1.0, channel: str = "both", lock_dir: Path, probers: int = 2,
    pace: float = 2.0, with_person: bool = True,
) -> LiveFigures:
    """Probe the real agent in ``agents:WINDOW`` ``probes`` times while a person works there."""
    server = ServerSpec(socket_name=socket)
    pane_id = _tmux(
        socket, "display-message", "-p", "-t", f"agents:{tmux_window}", "#{pane_id}"
    ).strip()
    before = count_interrupted(provider, agent_home)
    figures = LiveFigures()
    person = Person(socket, pane_id, provider, tmux_window, seed=seed,
                    channel=channel if with_person else "send-keys")
    if with_person:
        person.thread.start()
    prober = Prober(server, timeout=10.0, quiet=quiet, lock_dir=lock_dir)
    run_probers(prober, pane_id, provider, figures, probes=probes, probers=probers, seed=seed,
                pace=(0.2, pace))
    if with_person:
        person.close()
    figures.user_actions.update(person.actions)
    figures.checks = person.checks
    figures.user_chars_typed = person.typed
    figures.user_chars_lost = person.figures_lost
    figures.user_chars_extra = person.figures_extra
    figures.probe_chars_seen_in_draft = person.figures_left
    figures.interrupted_turns = count_interrupted(provider, agent_home) - before
    return figures
