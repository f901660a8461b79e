"""Stand-in agent programs: ``python -m panebus.demo.agents codex|claude|monitor``.

Small terminal programs (no curses: plain ANSI writes, stdin in raw mode read through
``select`` — they sleep until a key, a resize or their next timed redraw) that behave like the
real agents as far as panebus can see: the same screens (:mod:`panebus.demo.screens`), a
working spinner now and then, ``/status`` (Codex) and ``/usage`` (Claude) cards drawn when
typed and closed with Esc, figures that change over time (:mod:`panebus.demo.figures`), and the
same process name and pane title, so that discovery classifies them like the real programs.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import json
import logging
import os
import random
import select
import signal
import sys
import termios
import time
import tty
import typing as t
import uuid
from pathlib import Path

from panebus.demo import PROCESS_NAMES, screens
from panebus.demo.figures import Clock
from panebus.demo.rollout import RolloutWriter
from panebus.standins import AGENTS

logger = logging.getLogger(__name__)

PR_SET_NAME = 15
STAT_ARG_START = 47  # /proc/<pid>/stat fields 48 and 49 (1-based): arg_start, arg_end
UTF8 = "utf-8"


def take_process_name(name: str) -> None:
    """Make this process look like ``name`` to ``ps``, ``/proc`` and tmux.

    tmux's ``pane_current_command`` is the basename of argv[0] of the pane's foreground process
    (read from ``/proc/<pid>/cmdline``), and discovery also reads ``/proc/<pid>/comm``; a stand-in
    run as ``python -m …`` must therefore rewrite both: ``comm`` through ``prctl(PR_SET_NAME)``
    and argv[0] in place, inside the original argument area (never past its end, keeping the
    final NUL so the kernel reports exactly our bytes).
    """
    encoded = name.encode()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(encoded[:15]), 0, 0, 0)
    except (OSError, AttributeError):
        logger.warning("could not set the process comm name", extra={"process_name": name})
    try:
        stat_text = Path("/proc/self/stat").read_text()
        fields = stat_text.rsplit(")", 1)[1].split()
        arg_start, arg_end = int(fields[STAT_ARG_START - 2]), int(fields[STAT_ARG_START - 1])
    except (OSError, IndexError, ValueError):
        logger.warning("could not locate argv to rename the process", extra={"process_name": name})
        return
    size = arg_end - arg_start
    if arg_start <= 0 or size <= len(encoded) + 1:
        return
    ctypes.memmove(arg_start, encoded.ljust(size, b"\0"), size)


def local_zone_name() -> str | None:
    """The IANA name of the local zone when it can be known for sure, else None."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name and ("/" in name or name == "UTC"):
        return name
    with contextlib.suppress(OSError):
        text = Path("/etc/timezone").read_text().strip()
        if text:
            return text
    with contextlib.suppress(OSError):
        target = str(Path("/etc/localtime").readlink())
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return None


def split_keys(data: str) -> list[str]:
    """Turn bytes read from the terminal into keys; escape sequences (arrows…) are dropped."""
    return [key for key, _raw in split_keys_raw(data)]


def split_keys_raw(data: str) -> list[tuple[str, str]]:
    """Like :func:`split_keys`, each key with the character that made it (``\\r`` and
    ``\\n`` are both Enter, ``\\x7f`` and ``\\x08`` both Backspace: the key log tells them
    apart, so a test can say whose key it was)."""
    keys: list[tuple[str, str]] = []
    index = 0
    while index < len(data):
        char = data[index]
        if char == "\x1b":
            if index + 1 < len(data) and data[index + 1] in "[O":
                end = index + 2
                while end < len(data) and not ("@" <= data[end] <= "~"):
                    end += 1
                index = end + 1
                continue
            keys.append(("esc", char))
        elif char in "\r\n":
            keys.append(("enter", char))
        elif char in "\x7f\x08":
            keys.append(("backspace", char))
        elif char == "\x03":
            keys.append(("ctrl-c", char))
        elif char == "\x04":
            keys.append(("ctrl-d", char))
        elif char == "\x15":
            keys.append(("ctrl-u", char))
        elif char >= " ":
            keys.append((char, char))
        index += 1
    return keys


class Screen(t.NamedTuple):
    """What to paint: lines (with SGR), and where the cursor goes (None: hidden)."""

    lines: list[str]
    cursor: tuple[int, int] | None


class StandIn:
    """Shared behaviour: prompt editing, timed working phases, the figures clock."""

    name = "agent"
    alternate_screen = False
    card_command = ""  # what opens the usage card
    answer = ""  # the transcript line after a turn
    interrupted = ""  # the transcript line after Esc during a turn

    def __init__(self, options: argparse.Namespace) -> None:
        self.clock = Clock(seed=options.seed, started=self.now(), fast=options.fast)
        self.rng = random.Random(options.seed)
        self.fast: bool = options.fast
        self.cwd = str(Path.cwd())
        self.prompt = ""
        self.transcript: list[str] = []
        self.card_open = False
        self.working_since: float | None = None
        self.working_until = 0.0
        self.work_seconds: float = options.work_seconds or (2.0 if options.fast else 6.0)
        busy = options.busy if options.busy is not None else (25.0 if options.fast else 75.0)
        self.busy_every: float = busy
        self.next_busy = time.monotonic() + self._busy_gap()
        self.started_monotonic = time.monotonic()
        self.quit = False
        self.size = (120, 40)

    @staticmethod
    def now() -> dt.datetime:
        """Local wall time with its zone (figures and reset phrases are local, like the agents)."""
        return dt.datetime.now().astimezone()

    def _busy_gap(self) -> float:
        if self.busy_every <= 0:
            return float("inf")
        return self.busy_every * self.rng.uniform(0.6, 1.4)

    def title(self) -> str | None:
        """The pane title the real program sets (OSC 2), or None."""
        return None

    # -- time ---------------------------------------------------------------------------------

    def next_wakeup(self, now: float) -> float | None:
        """Seconds until something changes on screen by itself (None: only input changes it)."""
        deadlines = [self.next_busy]
        if self.working_since is not None:
            deadlines += [self.working_until, now + 1.0 - (now - self.working_since) % 1.0]
        soonest = min(deadlines)
        return None if soonest == float("inf") else max(0.0, soonest - now)

    def on_time(self, now: float) -> None:
        """Advance timed phases: end a working phase, start a spontaneous one."""
        if self.working_since is not None and now >= self.working_until:
            self.working_since = None
            self.finish_work()
        if now >= self.next_busy:
            if self.working_since is None and not self.prompt and not self.card_blocks():
                self.start_work(now, self.work_seconds)
                self.next_busy = now + self.work_seconds + self._busy_gap()
            else:
                self.next_busy = now + 3.0

    def card_blocks(self) -> bool:
        """Whether an open card keeps the agent from starting work by itself (a modal dialog
        does; Codex's card is only transcript text)."""
        return self.card_open

    def start_work(self, now: float, seconds: float) -> None:
        """Enter the working phase (spinner, "esc to interrupt")."""
        self.working_since = now
        self.working_until = now + seconds

    # -- keys ---------------------------------------------------------------------------------

    def on_key(self, key: str) -> None:
        """Edit the prompt; Enter submits, Esc closes a card or interrupts."""
        if key in ("ctrl-c", "ctrl-d"):
            self.quit = True
        elif key == "esc":
            if self.card_open:
                self.close_card()
            elif self.working_since is not None:
                self.interrupt()
        elif key == "enter":
            text, self.prompt = self.prompt.strip(), ""
            if text in ("/quit", "/exit"):
                self.quit = True
            elif text:
                self.submit(text)
        elif key == "backspace":
            self.prompt = self.prompt[:-1]
        elif key == "ctrl-u":
            self.prompt = ""
        elif len(key) == 1 and self.accepts_typing():
            self.prompt += key

    def accepts_typing(self) -> bool:
        """Whether typed characters go to the prompt right now."""
        return True

    def echo(self, text: str) -> str:
        """How the transcript shows a message the user sent."""
        return text

    def submit(self, text: str) -> None:
        """A line was entered at the prompt: the card command opens the card, text starts a turn
        (the real agents queue messages sent during a turn; the stand-ins drop them)."""
        if self.working_since is not None:
            return
        if text == self.card_command:
            self.open_card()
            return
        self.close_card()
        self.transcript += [self.echo(text), ""]
        self.start_work(time.monotonic(), self.work_seconds)

    def finish_work(self) -> None:
        """The turn ended: the agent answers."""
        if self.transcript:
            self.transcript += [self.answer, ""]

    def interrupt(self) -> None:
        """Esc during a turn."""
        self.working_since = None
        self.transcript += [self.interrupted, ""]

    def open_card(self) -> None:
        """Show the usage card."""
        self.card_open = True

    def close_card(self) -> None:
        """Esc on an open card."""
        self.card_open = False

    def prompt_view(self) -> screens.PromptView:
        """The prompt screen's content right now."""
        working = None
        if self.working_since is not None:
            working = time.monotonic() - self.working_since
        width, height = self.size
        return screens.PromptView(
            width, height, self.cwd, tuple(self.transcript), self.prompt, working
        )

    def render(self) -> Screen:
        """The screen to paint now."""
        raise NotImplementedError


class CodexStandIn(StandIn):
    """Codex CLI 0.169: alternate screen, borderless composer, ``/status`` card."""

    name = "codex"
    alternate_screen = True
    card_command = "/status"
    answer = "• This is the panebus stand-in for Codex: nothing was sent anywhere."
    interrupted = "■ Conversation interrupted - tell the model what to do differently."

    def __init__(self, options: argparse.Namespace) -> None:
        super().__init__(options)
        self.session_id = str(uuid.UUID(int=random.Random(options.seed).getrandbits(128)))
        self.card_start = 0
        self.rollout: RolloutWriter | None = None
        if options.rollout_dir:  # only where the demo says: never a real ~/.codex
            self.rollout = RolloutWriter(Path(options.rollout_dir), self.session_id,
                                         self.clock, self.cwd)
            self.rollout.backfill(self.now())

    def finish_work(self) -> None:
        """Like Codex, log the turn's figures (a ``token_count`` line) when it ends."""
        super().finish_work()
        if self.rollout is not None:
            self.rollout.turn(self.now())

    def title(self) -> str | None:
        return Path(self.cwd).name or "/"

    def echo(self, text: str) -> str:
        return f"{screens.BOLD}›{screens.RESET} {text}"

    def open_card(self) -> None:
        """Codex prints the card into the transcript, below the echoed command."""
        now = self.now()
        self.card_start = len(self.transcript)
        self.transcript += screens.codex_status_card(
            self.clock.codex_five_hour(now),
            self.clock.codex_weekly(now),
            now,
            cwd=self.cwd,
            session_id=self.session_id,
            width=self.size[0],
        )
        self.card_open = True

    def close_card(self) -> None:
        if self.card_open:
            del self.transcript[self.card_start :]
        self.card_open = False

    def card_blocks(self) -> bool:
        return False  # the card is transcript text: the agent works on (probes send no Esc)

    def render(self) -> Screen:
        lines, cursor = screens.codex_screen(self.prompt_view())
        return Screen(lines, cursor)


class ClaudeStandIn(StandIn):
    """Claude Code 2.1: prompt box, ``/usage`` tab, title ``✳ Claude Code``."""

    name = "claude"
    card_command = "/usage"
    answer = "⏺ This is the panebus stand-in for Claude Code: nothing was sent anywhere."
    interrupted = "  ⎿  Interrupted · What should Claude do instead?"

    def __init__(self, options: argparse.Namespace) -> None:
        super().__init__(options)
        self.zone_name = local_zone_name()

    def title(self) -> str | None:
        return "✳ Claude Code"

    def accepts_typing(self) -> bool:
        return not self.card_open

    def on_key(self, key: str) -> None:
        """The usage dialog is modal, like the real one: it takes only Esc (and Ctrl-C)."""
        if self.card_open and key not in ("esc", "ctrl-c", "ctrl-d"):
            return
        super().on_key(key)

    def echo(self, text: str) -> str:
        return f"{screens.CLAUDE_PROMPT} {text}"

    def render(self) -> Screen:
        width, height = self.size
        if self.card_open:
            now = self.now()
            lines = screens.claude_usage_screen(
                width=width,
                height=height,
                cwd=self.cwd,
                session=self.clock.claude_session(now),
                week_all=self.clock.claude_week_all(now),
                week_sonnet=self.clock.claude_week_sonnet(now),
                now=now,
                zone_name=self.zone_name,
                wall_seconds=int(time.monotonic() - self.started_monotonic),
            )
            return Screen(lines, None)
        lines, cursor = screens.claude_screen(self.prompt_view())
        return Screen(lines, cursor)

    def next_wakeup(self, now: float) -> float | None:
        if self.card_open:  # the dialog's wall-clock line ticks
            return 1.0 - (now - self.started_monotonic) % 1.0
        return super().next_wakeup(now)


class MonitorStandIn(StandIn):
    """claude-monitor 4.0 realtime view; ``--idle`` shows the no-session screen."""

    name = "claude-monitor"
    alternate_screen = True

    def __init__(self, options: argparse.Namespace) -> None:
        options.busy = 0.0
        super().__init__(options)
        self.idle: bool = options.idle
        self.refresh = 3.0 if options.fast else 10.0  # claude-monitor's default refresh is 10 s
        zone = local_zone_name() or "utc"
        self.zone_label = "utc" if zone in ("UTC", "Etc/UTC") else zone.lower()

    def accepts_typing(self) -> bool:
        return False

    def next_wakeup(self, now: float) -> float | None:
        return self.refresh - (now - self.started_monotonic) % self.refresh

    def render(self) -> Screen:
        width, height = self.size
        now = self.now()
        if self.idle:
            return Screen(
                screens.monitor_idle_screen(height=height, now=now, zone_label=self.zone_label),
                None,
            )
        lines = screens.monitor_screen(
            width=width,
            height=height,
            figures=self.clock.monitor(now),
            now=now,
            zone_label=self.zone_label,
        )
        return Screen(lines, None)


STAND_INS: dict[str, type[StandIn]] = {
    "codex": CodexStandIn,
    "claude": ClaudeStandIn,
    "monitor": MonitorStandIn,
}


class Terminal:
    """Raw-mode stdin and ANSI painting on stdout; restores the terminal however we exit."""

    def __init__(self, fd_in: int, fd_out: int, *, alternate: bool) -> None:
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.alternate = alternate
        self.saved: list[t.Any] | None = None
        self.last: Screen | None = None

    def __enter__(self) -> Terminal:
        self.saved = termios.tcgetattr(self.fd_in)
        tty.setraw(self.fd_in)
        if self.alternate:
            self.write("\033[?1049h")
        self.write("\033[?7l\033[2J")  # no autowrap: a line wider than the pane is cut, like
        return self  # the real programs' own clipping, instead of spilling onto the next row

    def __exit__(self, *exc: object) -> None:
        self.write("\033[0m\033[?25h\033[?7h")
        if self.alternate:
            self.write("\033[?1049l")
        else:
            self.write("\r\n")
        if self.saved is not None:
            termios.tcsetattr(self.fd_in, termios.TCSADRAIN, self.saved)

    def write(self, text: str) -> None:
        """Write everything (the pty may accept it in pieces)."""
        data = text.encode(UTF8)
        while data:
            written = os.write(self.fd_out, data)
            data = data[written:]

    def size(self) -> tuple[int, int]:
        """Columns and rows of the pane."""
        try:
            columns, rows = os.get_terminal_size(self.fd_out)
        except OSError:
            return (120, 40)
        return (columns or 120, rows or 40)

    def paint(self, screen: Screen, *, force: bool = False) -> None:
        """Repaint the whole screen, only when it changed (no output, no capture trigger)."""
        if screen == self.last and not force:
            return
        self.last = screen
        # Erase the rest of each row, but not after a row that fills the pane: with autowrap
        # off the cursor stays on the last cell, and the erase would take that cell's character.
        width = self.size()[0]
        rows = [f"{line}{screens.RESET}" + ("\033[K" if screens.cell_width(line) < width else "")
                for line in screen.lines]
        out = ["\033[?25l\033[H", "\r\n".join(rows), "\033[J"]
        if screen.cursor is not None:
            row, column = screen.cursor
            out.append(f"\033[{row + 1};{column + 1}H\033[?25h")
        self.write("".join(out))


class KeyLog:
    """``--keylog FILE``: one JSON line per key received, with the agent's state when it came
    (working, card open), the prompt before and after, and what Enter submitted. Tests use it
    to count what a probe did to a pane: Esc while working, characters deleted, Enter on what."""

    def __init__(self, path: str | None) -> None:
        self.file = Path(path).open("a", encoding=UTF8, buffering=1) if path else None  # noqa: SIM115

    def key(self, agent: StandIn, key: str, raw: str) -> None:
        """Apply ``key`` to ``agent`` and log it."""
        before, working, card = agent.prompt, agent.working_since is not None, agent.card_open
        agent.on_key(key)
        if self.file is not None:
            entry = {
                "t": time.time(), "key": key, "raw": raw, "working": working, "card": card,
                "before": before, "after": agent.prompt,
            }
            self.file.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def run(agent: StandIn, terminal: Terminal, keylog: KeyLog | None = None) -> None:
    """The event loop: sleep in ``select`` until a key, a resize or the next timed change."""
    keylog = keylog or KeyLog(None)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    previous_wakeup = signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGWINCH, lambda *_: None)
    decoder_buffer = b""
    title = agent.title()
    if title is not None:
        terminal.write(f"\033]2;{title}\007")
    try:
        agent.size = terminal.size()
        terminal.paint(agent.render(), force=True)
        while not agent.quit:
            timeout = agent.next_wakeup(time.monotonic())
            ready, _, _ = select.select([terminal.fd_in, wake_read], [], [], timeout)
            if wake_read in ready:
                os.read(wake_read, 512)
                agent.size = terminal.size()
                terminal.last = None
            if terminal.fd_in in ready:
                chunk = os.read(terminal.fd_in, 4096)
                if not chunk:
                    break  # the pane went away
                decoder_buffer += chunk
                try:
                    text = decoder_buffer.decode(UTF8)
                    decoder_buffer = b""
                except UnicodeDecodeError:
                    if len(decoder_buffer) < 8:
                        continue  # a multi-byte character split across reads
                    text = decoder_buffer.decode(UTF8, errors="replace")
                    decoder_buffer = b""
                for key, raw in split_keys_raw(text):
                    keylog.key(agent, key, raw)
            agent.on_time(time.monotonic())
            terminal.paint(agent.render())
    finally:
        signal.set_wakeup_fd(previous_wakeup)
        os.close(wake_read)
        os.close(wake_write)


def build_parser() -> argparse.ArgumentParser:
    """Arguments of the stand-in programs."""
    parser = argparse.ArgumentParser(
        prog="python -m panebus.demo.agents",
        description="Stand-in Codex / Claude Code / claude-monitor screens for the panebus demo.",
    )
    parser.add_argument("agent", choices=AGENTS)
    parser.add_argument("--seed", type=int, default=0, help="figures are derived from it")
    parser.add_argument("--fast", action="store_true", help="figures and phases move quickly")
    parser.add_argument(
        "--busy",
        type=float,
        default=None,
        metavar="SECONDS",
        help="mean seconds between spontaneous working phases (0: never)",
    )
    parser.add_argument(
        "--work-seconds", type=float, default=0.0, help="how long a working phase lasts"
    )
    parser.add_argument("--idle", action="store_true", help="monitor: no active session")
    parser.add_argument("--keylog", metavar="FILE", help="log every key received (JSON lines)")
    parser.add_argument("--rollout-dir", metavar="DIR",
                        help="codex: write a session log (rollout-*.jsonl) under this sessions dir")
    return parser


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run one stand-in in the current terminal until Ctrl-C, ``/exit`` or the pane closes."""
    options = build_parser().parse_args(argv)
    if not os.isatty(sys.stdin.fileno()) or not os.isatty(sys.stdout.fileno()):
        print("the stand-in agents need a terminal (run them in a tmux pane)", file=sys.stderr)  # noqa: T201
        return 2
    take_process_name(PROCESS_NAMES[options.agent])
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    agent = STAND_INS[options.agent](options)
    alternate = agent.alternate_screen
    keylog = KeyLog(options.keylog)
    try:
        with Terminal(sys.stdin.fileno(), sys.stdout.fileno(), alternate=alternate) as terminal:
            run(agent, terminal, keylog)
    finally:
        keylog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
