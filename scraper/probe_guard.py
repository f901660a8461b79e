"""What a probe checks right before each key it sends, and how it sends it in one step.

A probe shares the pane with a person. Between a check ("the composer is empty, nobody types")
and the keys that rely on it, the person may act. This module closes that gap as far as tmux
allows: every key the probe sends goes out in **one tmux invocation** together with its
conditions, as ``if-shell -F COND 'send-keys …'``. tmux runs one client's command list without
interleaving any other client's commands or key input, and the conditions are tmux formats
evaluated inside the server at that instant:

* ``pane_in_mode`` (copy mode), ``pane_input_off``, ``pane_synchronized`` (keys would go to
  every pane of the tmux window), ``pane_dead``;
* ``session_activity``: the last key any attached client typed into the pane's session, older
  than the quiet period;
* the cursor where the last capture saw it, and the composer row showing exactly the text the
  probe saw (``#{C/r:^…$}`` searches the screen; it returns the first matching row);
* no "esc to interrupt" anywhere on screen (the agents' working marker).

What this cannot see is a key already written to the agent's terminal but not yet drawn by it:
before acting, the probe therefore also asks the kernel how many bytes wait unread in the pane's
tty (``TIOCINQ``) and waits for the screen to hold still. docs/faq.md says what remains.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import os
import struct
import termios
import time
import typing as t

logger = logging.getLogger(__name__)

FIELDS = (
    "pane_dead",
    "pane_in_mode",
    "pane_input_off",
    "pane_synchronized",
    "session_activity",
    "session_attached",
    "cursor_x",
    "cursor_y",
    "pane_tty",
    "socket_path",
    "window_linked_sessions_list",
)
SEP = "\x1f"
SENT = "panebus-probe-sent"
WORKING_MARK = "esc to interrupt"

Tmux = t.Callable[[t.Sequence[str]], list[str]]


@dataclasses.dataclass(frozen=True)
class PaneFacts:
    """The pane's tmux state at one instant (one ``display-message``)."""

    dead: bool
    in_mode: bool
    input_off: bool
    synchronized: bool
    session_activity: int
    session_attached: int
    cursor: tuple[int, int]
    tty: str
    socket_path: str
    sessions: tuple[str, ...]

    def refusal(self) -> str | None:
        """Why no key may go to this pane whatever its screen shows (None: none)."""
        if self.dead:
            return "the pane is dead"
        if self.in_mode:
            return "the pane is in copy mode (or another tmux mode)"
        if self.input_off:
            return "input to the pane is disabled (select-pane -d)"
        if self.synchronized:
            return "the pane's tmux window has synchronize-panes on (keys would reach every pane)"
        return None


def facts_format() -> str:
    """The ``display-message`` format that reads every field of :class:`PaneFacts`."""
    return SEP.join(f"#{{{name}}}" for name in FIELDS)


def parse_facts(line: str) -> PaneFacts:
    """Read the output of :func:`facts_format` (raise ValueError when it is not that)."""
    parts = line.split(SEP)
    if len(parts) != len(FIELDS):
        msg = f"unexpected pane facts: {line!r}"
        raise ValueError(msg)
    values = dict(zip(FIELDS, parts, strict=True))
    return PaneFacts(
        dead=values["pane_dead"] == "1",
        in_mode=values["pane_in_mode"] == "1",
        input_off=values["pane_input_off"] == "1",
        synchronized=values["pane_synchronized"] == "1",
        session_activity=int(values["session_activity"] or 0),
        session_attached=int(values["session_attached"] or 0),
        cursor=(int(values["cursor_x"] or -1), int(values["cursor_y"] or -1)),
        tty=values["pane_tty"],
        socket_path=values["socket_path"],
        sessions=tuple(s for s in values["window_linked_sessions_list"].split(",") if s),
    )


def read_facts(tmux: Tmux, pane_id: str) -> PaneFacts:
    """The pane's facts now."""
    out = tmux(["display-message", "-p", "-t", pane_id, facts_format()])
    return parse_facts(out[0] if out else "")


def client_idle_seconds(tmux: Tmux, sessions: t.Collection[str], now: float) -> float | None:
    """Seconds since a person last typed through a client attached to one of ``sessions``
    (None: no such client). Control-mode clients (the scraper's) are not people."""
    fmt = SEP.join(("#{client_control_mode}", "#{client_activity}", "#{client_session}"))
    latest: int | None = None
    for line in tmux(["list-clients", "-F", fmt]):
        parts = line.split(SEP)
        if len(parts) != 3 or parts[0] == "1" or parts[2] not in sessions:
            continue
        with_activity = int(parts[1] or 0)
        latest = with_activity if latest is None else max(latest, with_activity)
    if latest is None:
        return None
    # client_activity has whole seconds: the key may have come up to a second after it.
    return max(0.0, now - (latest + 1))


def pending_input(tty: str) -> int | None:
    """Bytes written to the pane's terminal that the program has not read yet (None: unknown).

    The kernel counts them (``TIOCINQ``); opening the tty read-only with ``O_NOCTTY`` and
    reading nothing leaves it untouched. Programs in raw mode (every agent TUI) see each byte
    at once, so a non-zero count means keys are on their way that the screen does not show.
    """
    try:
        fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        raw = fcntl.ioctl(fd, termios.TIOCINQ, b"\0\0\0\0")
        return int(struct.unpack("i", raw)[0])
    except OSError:
        return None
    finally:
        os.close(fd)


def _format_literal(text: str) -> str:
    """``text`` as an anchored POSIX extended regex that survives tmux format expansion.

    Characters special to formats (``#{},``) become ``.`` (one ASCII byte, so the match stays
    exact in practice); regex specials are escaped.
    """
    out = []
    for char in text:
        if char in "#{},":
            out.append(".")
        elif char in "\\.[]()*+?|^$":
            out.append("\\" + char)
        else:
            out.append(char)
    return "^" + "".join(out) + "$"


def screen_line(line: str) -> str:
    """A captured row as tmux's own search sees it: trailing ASCII spaces dropped (tmux strips
    ``isspace`` bytes, which keeps the no-break space Claude draws after its ``❯``)."""
    return line.rstrip(" \t")


@dataclasses.dataclass(frozen=True)
class Expect:
    """What must still hold, inside tmux, when the keys go out."""

    # wall time: no client key in the pane's session at or after it; None when no client was
    # attached at all, and then ``attached`` clients (0, or only control clients) must be
    # (``attached`` -1: no client condition at all)
    quiet_since: float | None
    attached: int = 0
    cursor: tuple[int, int] | None = None
    row: int | None = None  # 0-based screen row holding ``line``
    line: str | None = None
    line_unique: bool = True  # the line is on no other row above (else: at or above ``row``)
    screen_has: tuple[str, ...] = ()  # fnmatch substrings that must be on screen
    working_absent: bool = True

    def condition(self) -> str:
        """The tmux format that is non-zero exactly when every expectation holds."""
        parts = [
            "#{==:#{pane_dead},0}",
            "#{==:#{pane_in_mode},0}",
            "#{==:#{pane_input_off},0}",
            "#{==:#{pane_synchronized},0}",
        ]
        if self.quiet_since is None and self.attached >= 0:
            parts.append(f"#{{==:#{{session_attached}},{self.attached}}}")
        elif self.quiet_since is not None:
            parts.append(f"#{{e|<:#{{session_activity}},{int(self.quiet_since)}}}")
        if self.cursor is not None:
            parts.append(f"#{{==:#{{cursor_x}},{self.cursor[0]}}}")
            parts.append(f"#{{==:#{{cursor_y}},{self.cursor[1]}}}")
        if self.row is not None and self.line is not None:
            search = f"#{{C/r:{_format_literal(screen_line(self.line))}}}"
            if self.line_unique:
                parts.append(f"#{{==:{search},{self.row + 1}}}")
            else:
                parts.append(f"#{{e|>=:{search},1}}")
                parts.append(f"#{{e|<=:{search},{self.row + 1}}}")
        parts.extend(f"#{{e|>:#{{C:{_format_literal(s)[1:-1]}}},0}}" for s in self.screen_has)
        if self.working_absent:
            parts.append(f"#{{==:#{{C/i:{WORKING_MARK}}},0}}")
        condition = parts[0]
        for part in parts[1:]:
            condition = f"#{{&&:{condition},{part}}}"
        return condition


def _quote(word: str) -> str:
    """One word for tmux's command parser (single quotes; ours never contain one)."""
    if "'" in word:
        msg = f"cannot quote {word!r}"
        raise ValueError(msg)
    return f"'{word}'"


def send_if(
    tmux: Tmux, pane_id: str, expect: Expect, keys: t.Sequence[str], *, literal: bool = False
) -> tuple[bool, PaneFacts]:
    """Send ``keys`` to the pane only if ``expect`` holds at that instant; one tmux call.

    Returns whether the keys went out, and the pane's facts read in the same instant (to say
    why not). ``literal`` sends the keys as text (``send-keys -l``).
    """
    words = ["send-keys", "-t", pane_id]
    if literal:
        words.append("-l")
    words += list(keys)
    action = " ".join(_quote(w) for w in words) + f" ; display-message -p {SENT}"
    out = tmux(
        [
            "display-message", "-p", "-t", pane_id, facts_format(), ";",
            "if-shell", "-F", "-t", pane_id, expect.condition(), action,
        ]
    )
    facts = parse_facts(out[0] if out else "")
    sent = SENT in out[1:]
    logger.debug(
        "probe keys %s", "sent" if sent else "held back",
        extra={"pane_id": pane_id, "keys": list(keys)},
    )
    return sent, facts


def why_held(facts: PaneFacts, expect: Expect) -> str:
    """Explain a :func:`send_if` that sent nothing, from the facts read in the same call."""
    reason = facts.refusal()
    if reason is not None:
        return reason
    if expect.quiet_since is None and expect.attached >= 0 and (
        facts.session_attached != expect.attached
    ):
        return "a tmux client attached to the pane's session moments ago"
    if expect.quiet_since is not None and facts.session_activity >= int(expect.quiet_since):
        return "someone typed into the pane's session moments ago (tmux client activity)"
    if expect.cursor is not None and facts.cursor != expect.cursor:
        return "the cursor moved (someone is typing)"
    return "the screen changed (the composer or the agent's state is not what was checked)"


def quiet_since(now: float, quiet: float) -> float:
    """The wall time after which no client key may have come. ``session_activity`` has whole
    seconds; the condition compares it with ``<`` against this time rounded down, so a key in
    the last ``quiet`` seconds always fails it (and one up to a second earlier may too)."""
    return now - quiet


def wait_still(
    read: t.Callable[[], str], interval: float, timeout: float, *, tty: str | None = None
) -> str | None:
    """The screen once two reads ``interval`` apart are equal and no input waits unread;
    None if that does not happen within ``timeout``."""
    deadline = time.monotonic() + timeout
    last = read()
    while True:
        time.sleep(interval)
        now_text = read()
        if now_text == last and (tty is None or pending_input(tty) in (0, None)):
            return now_text
        if time.monotonic() >= deadline:
            return None
        last = now_text
