"""The probe torture: a person who types, deletes and submits at random moments, and probes
that keep trying, on one real tmux pane running a stand-in agent that logs every key.

Used by tests/scraper/test_probe_torture.py (tens of probes, asserts the zero goals) and by
tests/bench/bench_probe_torture.py (hundreds, prints the figures).

Whose key was it? The person types only capitals, digits and spaces, deletes with Ctrl-H
(``\\x08``) and submits with Ctrl-J (``\\n``); the probe types lowercase commands, deletes with
tmux's BSpace (``\\x7f``) and submits with Enter (``\\r``). The stand-in treats both the same, and
its key log (``--keylog``) records each raw character with the agent's state, so
:func:`score` can replay the composer character by character and say who removed or submitted
whose characters. The person runs in a second process and types through ``tmux send-keys``
(what another program does) or through a real ``tmux attach`` client on a pty (what a person at
a terminal does, visible to tmux as client activity).
"""

from __future__ import annotations

import collections
import dataclasses
import fcntl
import json
import multiprocessing
import os
import pty
import random
import re
import select
import shutil
import struct
import subprocess
import termios
import threading
import time
import typing as t

from panebus.standins import agent_command
from scraper.config import ServerSpec
from scraper.probe import PROBES, ProbeFailed, Prober, ProbeRefused
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

USER_ALPHABET = "ABCDEFGHJKLMNPQRTVWXYZ0123456789 "
USER_DELETE = "\x08"
USER_ENTER = "\n"
#: Sent after the person and the probes are done: neither types it, and once the agent has
#: logged it, it has logged every key sent before (tmux delivers a pane's keys in order).
END_MARKER = "~"
WIDTH, HEIGHT = 120, 40


@dataclasses.dataclass
class Settings:
    """One torture run."""

    provider: str = "codex"
    probes: int = 30
    seed: int = 1
    channel: str = "both"  # "send-keys", "client" or "both"
    quiet: float = 1.0
    work_seconds: float = 1.5
    probers: int = 2  # parallel probing threads (they must never overlap on the pane)
    timeout: float = 5.0
    pace: float = 1.5  # each prober waits up to this long between attempts


@dataclasses.dataclass
class Figures:
    """What happened, counted from the agent's key log and the probes' outcomes."""

    attempts: int = 0
    captured: int = 0
    refused: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    failed: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    durations: list[float] = dataclasses.field(default_factory=list)
    user_chars_typed: int = 0
    user_chars_deleted_by_probe: int = 0
    user_chars_submitted_by_probe: int = 0
    user_chars_swallowed_by_card: int = 0
    probe_enter_on_other_text: int = 0
    probe_chars_left_in_draft: int = 0
    probe_chars_removed_by_probe: int = 0
    esc_while_working: int = 0
    esc_on_card: int = 0
    esc_elsewhere: int = 0
    user_submits: int = 0
    user_submits_with_probe_chars: int = 0
    probe_submits: int = 0
    desync: int = 0
    escapes_sent: int = 0  # Esc keys the probes report having sent
    user_actions: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )

    def lines(self) -> list[str]:
        """The figures as report lines."""
        out = [
            f"probe attempts {self.attempts}: captured {self.captured}, "
            f"refused {sum(self.refused.values())}, failed {sum(self.failed.values())}",
        ]
        out += [f"  refused {n:4d} x {why}" for why, n in self.refused.most_common()]
        out += [f"  failed  {n:4d} x {why}" for why, n in self.failed.most_common()]
        if self.durations:
            ordered = sorted(self.durations)
            median = ordered[len(ordered) // 2]
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            out.append(f"captured probe duration: median {median:.2f}s, p95 {p95:.2f}s")
        out += [
            f"person: {dict(self.user_actions)}; {self.user_chars_typed} characters typed, "
            f"{self.user_submits} submits",
            f"person's characters deleted by a probe:    {self.user_chars_deleted_by_probe}",
            f"person's characters submitted by a probe:  {self.user_chars_submitted_by_probe}",
            f"probe Enter on anything but its own command:     {self.probe_enter_on_other_text}",
            f"Esc while the agent worked:                       {self.esc_while_working}",
            f"Esc elsewhere than on the probe's open card:      {self.esc_elsewhere}",
            f"person's keys swallowed by an open probe card:   {self.user_chars_swallowed_by_card}",
            f"probe characters left in the person's draft:      {self.probe_chars_left_in_draft}",
            f"  of which the person then submitted: {self.user_submits_with_probe_chars} submits",
            f"probe characters it removed itself (provably its own): "
            f"{self.probe_chars_removed_by_probe}",
            f"probe submits (own command): {self.probe_submits}; "
            f"Esc on its card: {self.esc_on_card}",
            f"key-log replay mismatches: {self.desync}",
        ]
        return out


# -- the person ------------------------------------------------------------------------------


class _Client:
    """A real ``tmux attach`` on a pty of the pane's size; keys written to it are a person's."""

    def __init__(self, socket: str, session: str) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
        env = dict(os.environ, TERM="xterm-256color")
        tmux = shutil.which("tmux") or "tmux"
        self.proc = subprocess.Popen(
            [tmux, "-L", socket, "attach", "-t", session],
            stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
        )
        os.close(slave)
        self._stop = threading.Event()
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    return

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def close(self) -> None:
        self._stop.set()
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._drain.join(2)
        os.close(self.master)


def _tmux(socket: str, *args: str) -> None:
    subprocess.run(["tmux", "-L", socket, *args], capture_output=True, timeout=10, check=False)


def person(target: tuple[str, str, str], settings: Settings, stop: t.Any, report: t.Any) -> None:
    """The second process: type, delete, submit, pause and use copy mode at random.
    ``target`` is (tmux socket name, session, pane id)."""
    socket, session, pane_id = target
    rng = random.Random(settings.seed)
    client = _Client(socket, session) if settings.channel in ("client", "both") else None
    actions: collections.Counter[str] = collections.Counter()
    typed = 0
    draft = 0

    def send(data: str, via_client: bool) -> None:
        if via_client and client is not None:
            client.send(data)
        elif data == USER_DELETE:
            _tmux(socket, "send-keys", "-t", pane_id, "C-h")
        elif data == USER_ENTER:
            _tmux(socket, "send-keys", "-t", pane_id, "C-j")
        else:
            _tmux(socket, "send-keys", "-t", pane_id, "-l", data)

    try:  # the sleeps below are the person's pace (the scenario), not synchronisation
        while not stop.is_set():
            via_client = client is not None and (
                settings.channel == "client" or rng.random() < 0.5
            )
            roll = rng.random()
            if roll < 0.35:
                for _ in range(rng.randint(1, 6)):
                    send(rng.choice(USER_ALPHABET), via_client)
                    typed += 1
                    draft += 1
                    time.sleep(rng.uniform(0.0, 0.08))
                actions["type"] += 1
            elif roll < 0.50 and draft:
                erase = draft if rng.random() < 0.3 else rng.randint(1, min(3, draft))
                for _ in range(erase):
                    send(USER_DELETE, via_client)
                    draft -= 1
                    time.sleep(rng.uniform(0.0, 0.05))
                actions["delete"] += 1
            elif roll < 0.70 and draft:
                send(USER_ENTER, via_client)
                draft = 0
                actions["submit"] += 1
            elif roll < 0.73:
                _tmux(socket, "copy-mode", "-t", pane_id)
                time.sleep(rng.uniform(0.2, 1.0))
                _tmux(socket, "send-keys", "-t", pane_id, "-X", "cancel")
                actions["copy-mode"] += 1
            else:
                actions["pause"] += 1
            time.sleep(rng.choice((0.0, 0.05, 0.2, 0.6, 1.5, 2.5)))
    finally:
        if client is not None:
            client.close()
        report.put((dict(actions), typed))


# -- the run ---------------------------------------------------------------------------------


def start_agent(socket: str, settings: Settings, keylog: Path) -> tuple[str, str]:
    """The stand-in in its own session on the private server; (session, pane id)."""
    session = f"torture-{settings.provider}"
    command = agent_command(
        settings.provider, seed=settings.seed,
        extra=("--busy", "0", "--work-seconds", str(settings.work_seconds),
               "--keylog", str(keylog)),
    )
    done = subprocess.run(
        ["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", session,
         "-x", str(WIDTH), "-y", str(HEIGHT), "-P", "-F", "#{pane_id}", command],
        capture_output=True, text=True, timeout=10, check=True,
    )
    return session, done.stdout.strip()


def _bucket(message: str) -> str:
    """A refusal or failure message without its variable parts (seconds, counts, pane ids)."""
    head = message.split(": ", 1)[-1] if message.startswith("%") else message
    head = re.sub(r"\d+(?:\.\d+)?s ago", "Ns ago", head)
    head = re.sub(r"\(\d+ characters\)", "(N characters)", head)
    return re.sub(r"%\d+", "%N", head)[:110]


def run_probers(
    prober: Prober, pane_id: str, provider: str, figures: Figures, *, probes: int,
    probers: int, seed: int, pace: tuple[float, float],
) -> None:
    """``probers`` threads probe ``pane_id`` until ``probes`` attempts are made, each after a
    random pause in ``pace``; their outcomes go into ``figures``. Each thread has its own
    :class:`Prober` (its own lock file descriptor), as separate processes would."""
    lock = threading.Lock()
    remaining = [probes]

    def loop(index: int) -> None:
        mine = Prober(prober.server, timeout=prober.timeout, quiet=prober.quiet,
                      lock_dir=prober.lock_dir)
        pane = next(p for p in mine.panes() if p.pane_id == pane_id)
        rng = random.Random(seed * 100 + index)
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            time.sleep(rng.uniform(*pace))  # the prober's pace (the scenario), not a wait
            try:
                result = mine.probe_pane(pane, provider)
            except ProbeRefused as exc:
                with lock:
                    figures.refused[_bucket(str(exc))] += 1
            except ProbeFailed as exc:
                with lock:
                    figures.failed[_bucket(str(exc))] += 1
            else:
                with lock:
                    figures.captured += 1
                    figures.durations.append(result.seconds)
                    figures.escapes_sent += result.keys.count("Escape")
            with lock:
                figures.attempts += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(probers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run(socket: str, settings: Settings, workdir: Path) -> Figures:
    """Run the torture on ``socket`` (a private tmux server) and count what happened."""
    keylog = workdir / f"keys-{settings.provider}.jsonl"
    session, pane_id = start_agent(socket, settings, keylog)
    server = ServerSpec(socket_name=socket)
    wait_for(keylog.exists, timeout=30, message=f"the stand-in's key log {keylog}")
    _wait_ready(server, pane_id, settings.provider)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    report = context.Queue()
    user = context.Process(
        target=person, args=((socket, session, pane_id), settings, stop, report), daemon=True
    )
    user.start()
    figures = Figures()
    prober = Prober(server, timeout=settings.timeout, quiet=settings.quiet,
                    lock_dir=workdir / "locks")
    run_probers(prober, pane_id, settings.provider, figures, probes=settings.probes,
                probers=settings.probers, seed=settings.seed, pace=(0.1, settings.pace))
    stop.set()
    actions, typed = report.get(timeout=30)
    user.join(10)
    figures.user_actions.update(actions)
    figures.user_chars_typed = typed
    _settle_keylog(socket, pane_id, keylog)
    score(keylog, PROBES[settings.provider].command, figures)
    return figures


READY = {"codex": "Ask Codex to do anything", "claude": "? for shortcuts"}


def _wait_ready(server: ServerSpec, pane_id: str, provider: str) -> None:
    """Until the stand-in drew its prompt."""
    prober = Prober(server)
    wait_for(lambda: READY[provider] in prober.capture(pane_id), timeout=30,
             message=f"the {provider} stand-in's prompt")


def _settle_keylog(socket: str, pane_id: str, keylog: Path) -> None:
    """Until every key sent has been read and logged: the end marker, sent last, is logged."""
    _tmux(socket, "send-keys", "-t", pane_id, "-l", END_MARKER)
    entry = f'"key": "{END_MARKER}", "raw": "{END_MARKER}"'

    def logged() -> bool:
        complete = keylog.read_text(encoding="utf-8").split("\n")[:-1]
        return any(entry in line for line in complete)

    wait_for(logged, timeout=60, message="the end marker in the key log")


def score(keylog: Path, command: str, figures: Figures) -> None:
    """Replay the agent's key log: who removed, submitted or left whose characters."""
    composer: list[tuple[str, str]] = []  # (character, "user" | "probe")
    for line in keylog.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["raw"] == END_MARKER:
            break  # sent after the run: every key before it is the run's
        key, raw, before, after = entry["key"], entry["raw"], entry["before"], entry["after"]
        if "".join(c for c, _ in composer) != before:
            figures.desync += 1
            composer = [(c, "user" if c in USER_ALPHABET else "probe") for c in before]
        if key == "esc":
            if entry["working"]:
                figures.esc_while_working += 1
            elif entry["card"]:
                figures.esc_on_card += 1
            else:
                figures.esc_elsewhere += 1
        elif len(key) == 1:
            origin = "user" if key in USER_ALPHABET else "probe"
            if after == before + key:
                composer.append((key, origin))
            elif origin == "user" and entry["card"]:
                figures.user_chars_swallowed_by_card += 1
        elif key == "backspace" and composer and after == before[:-1]:
            _char, owner = composer.pop()
            deleter = "user" if raw == USER_DELETE else "probe"
            if deleter == "probe" and owner == "user":
                figures.user_chars_deleted_by_probe += 1
            elif deleter == "probe":
                figures.probe_chars_removed_by_probe += 1
            elif owner == "probe":
                figures.probe_chars_left_in_draft += 1  # the person deleted our leftover
        elif key == "backspace" and raw == USER_DELETE and before and entry["card"]:
            figures.user_chars_swallowed_by_card += 1  # a modal card took the person's delete
        elif key == "enter" and before and after == "":
            users = sum(1 for _c, o in composer if o == "user")
            probes = len(composer) - users
            if raw == USER_ENTER:
                figures.user_submits += 1
                figures.probe_chars_left_in_draft += probes
                figures.user_submits_with_probe_chars += probes > 0
            elif before.strip() == command and users == 0:
                figures.probe_submits += 1
            else:
                figures.probe_enter_on_other_text += 1
                figures.user_chars_submitted_by_probe += users
            composer = []
    figures.probe_chars_left_in_draft += sum(1 for _c, o in composer if o == "probe")
