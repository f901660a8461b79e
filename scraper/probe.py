"""Probes: type ``/status`` (Codex) or ``/usage`` (Claude) into an idle agent pane, capture the
settled card, publish it (trigger ``probe``), and close it (Claude's dialog, with Esc).

A probe types into a person's terminal, so it acts only when that cannot hurt, and checks again
right before every key (docs/faq.md "What a probe will and will not do"):

1. One probe per pane at a time, across processes (:mod:`scraper.probe_lock`).
2. It refuses, having sent nothing, when the pane is dead, in copy mode, has input off or
   synchronized panes, when a person typed through a tmux client in the last ``quiet``
   seconds, when the screen does not hold still, when the agent is not idle, or when the
   composer holds anything (a draft) or is covered by a dialog.
3. It types its command with ``send-keys -l`` in the same tmux call that re-checks all of that
   (:func:`scraper.probe_guard.send_if`), waits until the composer shows it, and presses Enter
   (again in one guarded call) only if the composer shows exactly the command and nothing else.
4. It waits for the settled card (no loading marker, the same text on two captures) and
   publishes it; an unsettled card is never published.
5. Esc goes out only to close Claude's usage dialog, only while that dialog is on screen and
   the agent is not working (a person who starts typing into the dialog gets it closed at
   once: their keys would be lost there). Codex prints ``/status`` into the transcript, where
   there is nothing to close: a Codex probe never sends Esc.

When it typed but could not press Enter (someone typed at the same moment), it removes its
command only when it can prove the characters it deletes are its own (the draft ends with the
command, deleting the tail is right for every way the keys could have interleaved, and the
guarded call still sees that draft); otherwise it leaves the command in the draft and says so.
It never deletes a character it cannot prove it typed (:func:`probe_screen.removable_suffix`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
import typing as t

from bus.clock import local_zone, utcnow
from bus.frames import draft, source
from scraper import discovery, probe_guard
from scraper.agent_panes import classify_server
from scraper.capture import ServerLink, capture_args, normalize, run_tmux
from scraper.classify import ProcReader
from scraper.control import CommandError
from scraper.parsers import registry
from scraper.parsers.text import strip_ansi
from scraper.pipeline import Pipeline
from scraper.probe_keys import NotSent, Snapshot, Typist, snapshot
from scraper.probe_lock import PaneBusy, default_lock_dir, pane_lock
from scraper.probe_screen import (
    card_on_screen,
    card_settled,
    find_composer,
    prompt_text,
    steady_text,
    unsettled_marker,
)
from scraper.redact import Redactor

if t.TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from scraper.config import ServerSpec, TargetRule
    from scraper.discovery import PaneInfo
    from scraper.parsers.model import Usage
    from scraper.pipeline import ParseScreen, Publishing

__all__ = [
    "PROBES",
    "ProbeFailed",
    "ProbeOutcome",
    "ProbeRefused",
    "ProbeResult",
    "ProbeSpec",
    "Prober",
    "card_on_screen",
    "probe_idle_panes",
    "prompt_text",
]

logger = logging.getLogger(__name__)

TMUX_TIMEOUT = 2.0
POLL_INTERVAL = 0.05
SETTLE = 0.3  # the card must read the same this long before it is published
QUIET = 3.0  # default: no probe while a client typed into the pane's session this recently
TMUX_ERRORS = (CommandError, TimeoutError, OSError, ValueError)


@dataclasses.dataclass(frozen=True)
class ProbeSpec:
    """What to type into which agent, how its card is recognised and whether Esc closes it."""

    provider: str
    command: str
    screen: str
    close_with_esc: bool


PROBES: dict[str, ProbeSpec] = {
    "codex": ProbeSpec("codex", "/status", "codex.status", close_with_esc=False),
    "claude": ProbeSpec("claude", "/usage", "claude.usage", close_with_esc=True),
}


class ProbeRefused(RuntimeError):
    """The probe could not be sure it was safe and stopped; the message says why, and whether
    anything it typed is still in the pane (``left``)."""

    exit_code = 3

    def __init__(self, message: str, *, typed: bool = False, left: str = "") -> None:
        super().__init__(message)
        self.typed = typed
        self.left = left


class ProbeFailed(RuntimeError):
    """Enter was pressed but the settled card did not show, or the pane did not come back."""

    exit_code = 4


@dataclasses.dataclass
class ProbeResult:
    """One successful probe."""

    pane: PaneInfo
    provider: str
    text: str
    usage: Usage | None
    raw: dict[str, t.Any] | None = None
    parsed: dict[str, t.Any] | None = None
    restored: bool = False
    seconds: float = 0.0  # from the first check to the card closed
    keys: list[str] = dataclasses.field(default_factory=list)  # what the probe sent, in order


@dataclasses.dataclass(frozen=True)
class ProbeOutcome:
    """What :func:`probe_idle_panes` did with one pane: a result, or why it left it alone."""

    pane: PaneInfo
    provider: str
    result: ProbeResult | None
    error: str | None  # the refusal or failure; None when the card was captured


class Prober:
    """Probes panes of one tmux server. Not thread-safe: the publisher belongs to the caller's
    thread (ZeroMQ sockets do)."""

    def __init__(
        self,
        server: ServerSpec,
        *,
        publisher: Publishing | None = None,
        parse_screen: ParseScreen | None = None,
        zone: dt.tzinfo | None = None,
        targets: t.Sequence[TargetRule] = (),
        redact_patterns: t.Iterable[tuple[str, str]] = (),
        timeout: float = 10.0,
        stale_after: float = 600.0,
        quiet: float = QUIET,
        lock_dir: Path | None = None,
    ) -> None:
        self.server = server
        self.publisher = publisher
        self.parse_screen: ParseScreen = parse_screen or registry.parse_screen
        self.zone = zone or local_zone()
        self.targets = tuple(targets)
        self.timeout = timeout
        self.quiet = quiet
        self.lock_dir = lock_dir or default_lock_dir()
        self.pipeline = (
            Pipeline(
                publisher,
                Redactor(redact_patterns),
                stale_after=stale_after,
                zone=self.zone,
                parse_screen=self.parse_screen,
            )
            if publisher is not None
            else None
        )

    # -- tmux ----------------------------------------------------------------------------------
    def _tmux(self, args: t.Sequence[str]) -> list[str]:
        return run_tmux(self.server, args, TMUX_TIMEOUT)

    def capture(self, pane_id: str, *, escapes: bool = False) -> str:
        """The visible screen of the pane (normalized like the scraper's captures)."""
        return normalize(self._tmux(capture_args(pane_id, escapes=escapes)))

    def snapshot(self, pane_id: str) -> Snapshot:
        """Screen rows (unjoined, with escapes) and the cursor, from one tmux call."""
        return snapshot(self._tmux, pane_id)

    def panes(self) -> list[PaneInfo]:
        """Every pane of the server (one ``list-panes -a``)."""
        return discovery.sweep(self._tmux, self.server.label).panes

    def candidates(self, provider: str, target: str | None = None) -> list[PaneInfo]:
        """Panes to probe: the one named by ``target`` (``%3`` or ``s:w.p``), or every pane
        :meth:`agent_panes` gives ``provider``."""
        if target is not None:
            return [p for p in self.panes() if target in (p.pane_id, p.target)]
        return [pane for pane, found in self.agent_panes() if found == provider]

    def agent_panes(self) -> list[tuple[PaneInfo, str]]:
        """Every agent pane of the server with its provider, by the rules of
        :func:`scraper.agent_panes.classify_server` without the screen rule (a probe types only
        into a pane a stronger rule names, and classifying captures nothing)."""
        link = ServerLink(self.server, timeout=TMUX_TIMEOUT)  # never started: one-shot tmux
        verdicts = classify_server(link, self.targets, ProcReader(), detect=None)
        return [(pane, v.provider) for pane, v in verdicts if v.provider is not None]

    # -- checks --------------------------------------------------------------------------------
    def _usage(self, text: str, provider: str) -> Usage | None:
        try:
            return self.parse_screen(text, utcnow(), self.zone, provider)
        except Exception:
            logger.exception("parser failed during a probe", extra={"provider": provider})
            return None

    def _screen_refusal(self, provider: str, snap: Snapshot) -> str | None:
        """Why this screen must not get our command (None: idle at an empty prompt)."""
        usage = self._usage(normalize(snap.plain.split("\n")), provider)
        if usage is None:
            return f"the screen is not recognised as {provider}"
        if usage.state != "idle":
            why = f" ({usage.state_reason})" if usage.state_reason else ""
            return f"the agent is {usage.state}{why}"
        composer = find_composer(provider, snap.rows)
        if composer is None:
            return "no empty prompt on screen (a dialog or menu is open)"
        if composer.typed or not composer.single_line:
            return f"someone is typing at the prompt ({len(composer.typed)} characters)"
        return None

    def refusal(self, pane: PaneInfo, provider: str) -> str | None:
        """Why this pane must not be probed now (None: it looks safe; checked again later)."""
        if pane.dead:
            return "the pane is dead"
        try:
            facts = probe_guard.read_facts(self._tmux, pane.pane_id)
            reason = facts.refusal() or self._typing_refusal(facts)[1]
            return reason or self._screen_refusal(provider, self.snapshot(pane.pane_id))
        except TMUX_ERRORS as exc:
            return f"cannot read the pane: {exc}"

    def _typing_refusal(self, facts: probe_guard.PaneFacts) -> tuple[bool, str | None]:
        """Whether a person's tmux client is attached, and why they may be typing now."""
        now = time.time()
        idle = probe_guard.client_idle_seconds(self._tmux, facts.sessions, now)
        if idle is None:
            return False, None  # no person's client attached: nobody types through tmux
        seconds = min(idle, now - (facts.session_activity + 1))
        if seconds < self.quiet:
            return True, (
                f"someone typed through a tmux client {max(seconds, 0.0):.1f}s ago "
                f"(quiet period {self.quiet:g}s)"
            )
        return True, None

    # -- the probe -----------------------------------------------------------------------------
    def probe(self, provider: str, target: str | None = None) -> ProbeResult:
        """Probe the first ready ``provider`` pane (or ``target``); raise why otherwise."""
        spec = PROBES.get(provider)
        if spec is None:
            msg = f"no probe for {provider!r} (one of {', '.join(PROBES)})"
            raise ValueError(msg)
        try:
            panes = self.candidates(provider, target)
        except TMUX_ERRORS as exc:
            msg = f"cannot reach tmux server {self.server.label}: {exc}"
            raise ProbeRefused(msg) from exc
        if not panes:
            what = f"pane {target}" if target else f"{provider} pane"
            msg = f"no {what} on tmux server {self.server.label}"
            raise ProbeRefused(msg)
        reasons = []
        for pane in panes:
            try:
                return self.probe_pane(pane, provider)
            except ProbeRefused as exc:
                if exc.typed:
                    raise
                reasons.append(f"{pane.pane_id} ({pane.target}): {exc}")
        raise ProbeRefused("; ".join(reasons))

    def probe_pane(self, pane: PaneInfo, provider: str) -> ProbeResult:
        """Probe one known pane; raise :class:`ProbeRefused` / :class:`ProbeFailed`."""
        reason = self.refusal(pane, provider)
        if reason is not None:
            raise ProbeRefused(reason)
        spec = PROBES[provider]
        try:
            facts = probe_guard.read_facts(self._tmux, pane.pane_id)
            with pane_lock(self.lock_dir, facts.socket_path, pane.pane_id):
                return self._run(spec, pane, facts)
        except PaneBusy as exc:
            raise ProbeRefused(str(exc)) from exc
        except PermissionError as exc:  # the lock dir is not ours, or not private
            msg = f"cannot take the probe lock of {pane.pane_id}: {exc}"
            raise ProbeRefused(msg) from exc
        except TMUX_ERRORS as exc:
            msg = f"tmux failed during the probe of {pane.pane_id}: {exc}"
            raise ProbeFailed(msg) from exc

    def _run(self, spec: ProbeSpec, pane: PaneInfo, facts: probe_guard.PaneFacts) -> ProbeResult:
        started = time.monotonic()
        people, reason = self._typing_refusal(facts)
        if reason is not None:
            raise ProbeRefused(reason)
        typist = Typist(
            self._tmux, spec.provider, spec.command, facts, pane.pane_id,
            people=people, quiet=self.quiet, timeout=self.timeout,
        )
        snap = typist.still(min(self.timeout, 2.0))
        if snap is None:
            msg = "the screen does not hold still (the agent draws, or someone types)"
            raise ProbeRefused(msg)
        composer = find_composer(spec.provider, snap.rows)
        reason = self._screen_refusal(spec.provider, snap)
        if reason is not None or composer is None:
            raise ProbeRefused(reason or "no prompt on screen")
        try:
            typist.type_command(snap, composer)
            typist.press_enter()
        except NotSent as exc:
            raise ProbeRefused(str(exc), typed=exc.typed, left=exc.left) from exc
        return self._read_card(spec, pane, typist, started)

    def _read_card(
        self, spec: ProbeSpec, pane: PaneInfo, typist: Typist, started: float
    ) -> ProbeResult:
        """Wait for the settled card, publish it, close it (never an unsettled card)."""
        pane_id = pane.pane_id
        deadline = time.monotonic() + self.timeout
        seen: tuple[float, str] | None = None
        text = ""
        settled = False
        while time.monotonic() < deadline:
            if spec.close_with_esc and typist.typing_into_card():
                self._close(spec, pane_id, typist)
                msg = (
                    f"someone started typing while the {spec.command} dialog was open; closed "
                    "it at once without reading it"
                )
                raise ProbeRefused(msg, typed=True)
            ansi = self.capture(pane_id, escapes=True)
            text = strip_ansi(ansi)
            ready = card_on_screen(spec.provider, text) and card_settled(spec.provider, text)
            composer = find_composer(spec.provider, ansi.split("\n"))
            if spec.provider == "codex" and (composer is None or composer.text == spec.command):
                ready = False  # Enter not processed yet: an older card is still the last one
                # (once it is, the composer may hold what the person types next: fine)
            if ready:
                text = self.capture(pane_id)
                usage = self._usage(text, spec.provider)
                ready = usage is not None and bool(usage.limits)
            if not ready:
                seen = None
            elif seen is None or seen[1] != steady_text(text):
                seen = (time.monotonic(), steady_text(text))
            elif time.monotonic() - seen[0] >= SETTLE:
                settled = True
                break
            time.sleep(POLL_INTERVAL)
        if not settled:
            self._close(spec, pane_id, typist)
            marker = unsettled_marker(text)
            why = f" (still showing {marker!r})" if marker else ""
            msg = f"no settled {spec.command} card on {pane_id} within {self.timeout:g}s{why}"
            raise ProbeFailed(msg)
        result = ProbeResult(
            pane=pane, provider=spec.provider, text=text, usage=self._usage(text, spec.provider)
        )
        if self.pipeline is not None:
            outcome = self.pipeline.process(pane, spec.provider, text, "probe", force=True)
            result.raw, result.parsed = outcome.raw, outcome.parsed
        result.restored = self._close(spec, pane_id, typist)
        result.seconds = time.monotonic() - started
        result.keys = list(typist.sent)
        return result

    def _close(self, spec: ProbeSpec, pane_id: str, typist: Typist) -> bool:
        """Close our card (Claude: a guarded Esc) and wait for the prompt to be back (empty,
        or holding only what a person typed since: never our command)."""
        if spec.close_with_esc and not typist.close_card():
            return False
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            ansi = self.capture(pane_id, escapes=True)
            composer = find_composer(spec.provider, ansi.split("\n"))
            if (
                composer is not None
                and composer.text != spec.command
                and not (spec.close_with_esc and card_on_screen(spec.provider, strip_ansi(ansi)))
            ):
                return True
            time.sleep(POLL_INTERVAL)
        return False


def probe_idle_panes(
    servers: t.Iterable[ServerSpec],
    publisher: Publishing | None,
    *,
    providers: t.Iterable[str] = ("codex", "claude"),
    targets: t.Sequence[TargetRule] = (),
    redact_patterns: t.Iterable[tuple[str, str]] = (),
    timeout: float = 10.0,
    parse_screen: ParseScreen | None = None,
) -> list[ProbeOutcome]:
    """Probe every idle agent pane of ``providers`` on ``servers``; leave the others alone.

    What ``panebus up --every MINUTES`` calls on its schedule. Call it from the thread that
    owns ``publisher``. Never raises for one pane: each outcome says what happened.
    """
    wanted = [p for p in providers if p in PROBES]
    outcomes: list[ProbeOutcome] = []
    for server in servers:
        prober = Prober(
            server,
            publisher=publisher,
            parse_screen=parse_screen,
            targets=targets,
            redact_patterns=redact_patterns,
            timeout=timeout,
        )
        try:
            panes = prober.agent_panes()
        except TMUX_ERRORS as exc:
            logger.info("probe: server %s unreachable: %s", server.label, exc)
            continue
        for pane, provider in panes:
            if provider not in wanted:
                continue
            try:
                result = prober.probe_pane(pane, provider)
            except (ProbeRefused, ProbeFailed, *TMUX_ERRORS) as exc:
                outcomes.append(ProbeOutcome(pane, provider, None, str(exc)))
                verdict = "refused" if isinstance(exc, ProbeRefused) else "failed"
                _tell(publisher, pane, provider, verdict, str(exc))
                continue
            outcomes.append(ProbeOutcome(pane, provider, result, None))
            _tell(publisher, pane, provider, "captured", "")
    return outcomes


def _tell(
    publisher: Publishing | None, pane: discovery.PaneInfo, provider: str, outcome: str,
    reason: str,
) -> None:
    """``sys.probe``: what one scheduled probe did (the notify sink tells the person when a
    pane's probes keep being refused). The pane is named, not described: no title or command
    (they can hold secrets)."""
    if publisher is None:
        return
    where = {"server": pane.server, "session": pane.session, "window": pane.window_index,
             "pane_id": pane.pane_id}
    body = draft("sys", "unknown", source("report", "official"), what="probe",
                 outcome=outcome, reason=reason[:300], probe_provider=provider, pane=where)
    try:
        publisher.send(body)
    except Exception:  # a closed socket must not stop the schedule
        logger.warning("probe outcome not published", extra={"pane_id": pane.pane_id},
                       exc_info=True)
