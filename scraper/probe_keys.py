"""Every key a probe sends into a pane, each one checked in the same tmux call that sends it.

:class:`Typist` types the command into an empty composer, presses Enter only on exactly the
command, takes its command back only where it can prove the characters are its own, and closes
Claude's usage dialog with Esc only while that dialog is on screen. Each step waits for the
screen to hold still first and sends through :func:`scraper.probe_guard.send_if`.

The policy for "typed but could not submit" (someone typed at the same moment) is here: see
:meth:`Typist.take_back` and docs/faq.md.
"""

from __future__ import annotations

import dataclasses
import time
import typing as t

from scraper import probe_guard
from scraper.parsers.text import strip_ansi
from scraper.probe_guard import Expect, quiet_since, send_if, why_held
from scraper.probe_screen import Composer, card_on_screen, find_composer, removable_suffix

if t.TYPE_CHECKING:
    from scraper.probe_guard import PaneFacts, Tmux

STILL = 0.15  # two captures this far apart must be equal before the probe relies on a screen
POLL = 0.05
CARD_END = "Esc to cancel"  # the last line of Claude's dialog: only then may Esc go out


class NotSent(RuntimeError):
    """A guarded key did not go out; the message says why and what, if anything, is left.

    ``typed``: the probe's command did reach the pane at some point; ``left``: what of it may
    still be in the person's draft.
    """

    def __init__(self, message: str, *, typed: bool = False, left: str = "") -> None:
        super().__init__(message)
        self.typed = typed
        self.left = left


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """One capture of the screen rows with the cursor, read in one tmux call."""

    rows: list[str]  # with escapes, one per screen row (unjoined)
    cursor: tuple[int, int]

    @property
    def plain(self) -> str:
        return "\n".join(strip_ansi(row) for row in self.rows)


def snapshot(tmux: Tmux, pane_id: str) -> Snapshot:
    """Screen rows and cursor from one tmux call (so they belong to the same instant)."""
    out = tmux(
        ["capture-pane", "-p", "-e", "-t", pane_id, ";",
         "display-message", "-p", "-t", pane_id, "#{cursor_x},#{cursor_y}"]
    )
    x, y = out[-1].split(",") if out else ("-1", "-1")
    return Snapshot(out[:-1], (int(x), int(y)))


class Typist:
    """Sends a probe's keys into one pane of one provider."""

    def __init__(
        self,
        tmux: Tmux,
        provider: str,
        command: str,
        facts: PaneFacts,
        pane_id: str,
        *,
        people: bool,
        quiet: float,
        timeout: float,
    ) -> None:
        self.tmux = tmux
        self.provider = provider
        self.command = command
        self.pane_id = pane_id
        self.tty = facts.tty
        self.people = people  # a person's tmux client was attached when the probe began
        self.attached = facts.session_attached
        self.quiet = quiet
        self.timeout = timeout
        self.sent: list[str] = []  # every key that went out, in order (for reports and tests)
        self.activity_at_enter = 0

    # -- reading -------------------------------------------------------------------------------
    def still(self, timeout: float) -> Snapshot | None:
        """The screen once it holds still and no keys wait unread in the pane's tty."""
        snaps: list[Snapshot] = []

        def read() -> str:
            snaps.append(snapshot(self.tmux, self.pane_id))
            return "\n".join(snaps[-1].rows) + f"\n{snaps[-1].cursor}"

        held = probe_guard.wait_still(read, STILL, max(timeout, STILL), tty=self.tty)
        return snaps[-1] if held is not None else None

    def composer(self, snap: Snapshot | None) -> Composer | None:
        return find_composer(self.provider, snap.rows) if snap is not None else None

    def expect(self, snap: Snapshot | None = None, composer: Composer | None = None) -> Expect:
        """What must hold when a key goes out: nobody typing, and the screen as last read."""
        if self.people:
            base = Expect(quiet_since(time.time(), self.quiet))
        else:
            base = Expect(None, attached=self.attached)
        if snap is None or composer is None:
            return base
        line = probe_guard.screen_line(composer.line)
        rows_above = snap.rows[: composer.row]
        above = [r for r in rows_above if probe_guard.screen_line(strip_ansi(r)) == line]
        return dataclasses.replace(
            base, cursor=snap.cursor, row=composer.row, line=composer.line, line_unique=not above
        )

    # -- keys ----------------------------------------------------------------------------------
    def type_command(self, snap: Snapshot, composer: Composer) -> None:
        """Type the command into the empty composer ``snap`` showed, if it still is."""
        expect = self.expect(snap, composer)
        sent, facts = send_if(self.tmux, self.pane_id, expect, [self.command], literal=True)
        if not sent:
            raise NotSent(why_held(facts, expect))
        self.sent.append(self.command)

    def press_enter(self) -> None:
        """Enter, only on a composer that shows exactly the command; else :meth:`take_back`."""
        deadline = time.monotonic() + min(self.timeout, 3.0)
        while True:
            snap = self.still(deadline - time.monotonic())
            composer = self.composer(snap)
            if composer is not None and composer.typed and composer.text != self.command:
                break  # the draft is not exactly ours: never Enter it
            if composer is not None and composer.text == self.command and composer.single_line:
                expect = self.expect(snap, composer)
                sent, facts = send_if(self.tmux, self.pane_id, expect, ["Enter"])
                if sent:
                    self.sent.append("Enter")
                    self.activity_at_enter = facts.session_activity
                    return
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL)
        self.take_back()

    def take_back(self) -> t.NoReturn:
        """We typed but may not press Enter: remove the command only where provably ours.

        The composer was empty when the command went in, so it now reads ``before + command +
        after`` (a person's keys that raced ours). Backspaces remove only a tail; they go out
        (guarded: same draft, same cursor, nobody typing) only when the draft ends with the
        command and cutting the tail is right for every split the draft allows. Anything else
        is left exactly as it is: deleting a person's character is the one harm that cannot be
        seen or undone, while a visible leftover ``/status`` can be.
        """
        command = self.command
        deadline = time.monotonic() + min(self.timeout, 3.0)
        while True:
            snap = self.still(deadline - time.monotonic())
            composer = self.composer(snap)
            if composer is not None:
                draft = composer.text if composer.typed else ""
                if not draft:
                    msg = f"typed {command}, but the composer no longer shows it; nothing left"
                    raise NotSent(msg, typed=True)
                if composer.single_line and removable_suffix(draft, command):
                    keys = ["BSpace"] * len(command)
                    expect = self.expect(snap, composer)
                    if send_if(self.tmux, self.pane_id, expect, keys)[0]:
                        self.sent += keys
                        msg = (
                            f"someone typed while {command} was typed; removed exactly {command}"
                            " (the rest of the draft is theirs); nothing submitted"
                        )
                        raise NotSent(msg, typed=True)
                elif command in draft or not composer.single_line:
                    msg = (
                        f"someone typed while {command} was typed: {command} is left in their "
                        "draft, because which characters are ours cannot be proved (panebus "
                        "never deletes what it cannot prove it typed); nothing submitted"
                    )
                    raise NotSent(msg, typed=True, left=command)
                else:
                    msg = f"typed {command}, but the draft no longer contains it; left as it is"
                    raise NotSent(msg, typed=True)
            if time.monotonic() >= deadline:
                msg = (
                    f"typed {command} and could not read the composer since; it may still be "
                    "there (nothing submitted, nothing deleted)"
                )
                raise NotSent(msg, typed=True, left=command)
            time.sleep(POLL)

    def typing_into_card(self) -> bool:
        """Whether a person's client typed since our Enter: while Claude's dialog is open their
        keys go to it, so the probe closes it at once instead of reading on."""
        if not self.people:
            return False
        facts = probe_guard.read_facts(self.tmux, self.pane_id)
        return facts.session_activity > self.activity_at_enter

    def close_card(self) -> bool:
        """Esc, only while Claude's usage dialog is on screen and the agent is not working;
        True when it went out or the dialog was already gone.

        No quiet period here: a person typing now types into the dialog, where their keys are
        lost, so closing it at once is the least harm. The same call checks the dialog's last
        line is still on screen, so an Esc that closed it first is not followed by ours."""
        deadline = time.monotonic() + self.timeout
        while True:
            shot = snapshot(self.tmux, self.pane_id)
            if not card_on_screen(self.provider, shot.plain):
                return True  # closed already (by the person): no Esc
            expect = Expect(None, attached=-1, screen_has=(CARD_END,))
            if send_if(self.tmux, self.pane_id, expect, ["Escape"])[0]:
                self.sent.append("Escape")
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL)
