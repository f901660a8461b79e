"""Probes: type ``/status`` (Codex) or ``/usage`` (Claude) into an idle agent pane, capture the
card, publish it (trigger ``probe``), and close it with Esc so the pane is as it was.

A probe types into a person's terminal, so it acts only when that cannot hurt: the parsers
must say the pane is ``idle`` (not working, not asking a question) and the prompt must be
empty — no text a person is writing, no dialog already open. Otherwise it refuses with the
reason and changes nothing (it only captured). The prompt check reads a ``-e`` capture: agents
draw their placeholder ("Ask Codex to do anything") dimmed, while typed text is not.

Captures and publishing reuse the scraper's own pieces: :func:`scraper.capture.run_tmux` for
tmux commands (each with a timeout), :mod:`scraper.discovery` and :mod:`scraper.classify` to find
the pane, and :class:`scraper.pipeline.Pipeline` to redact and build the raw and parsed frames.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
import typing as t

from bus.clock import local_zone, utcnow
from scraper import discovery
from scraper.capture import capture_args, normalize, run_tmux
from scraper.classify import ProcReader, classify
from scraper.control import CommandError
from scraper.parsers import registry
from scraper.parsers.text import strip_ansi
from scraper.pipeline import Pipeline
from scraper.redact import Redactor

if t.TYPE_CHECKING:
    import datetime as dt

    from scraper.config import ServerSpec, TargetRule
    from scraper.discovery import PaneInfo
    from scraper.parsers.model import Usage
    from scraper.pipeline import ParseScreen, Publishing

logger = logging.getLogger(__name__)

TMUX_TIMEOUT = 2.0
POLL_INTERVAL = 0.1
TMUX_ERRORS = (CommandError, TimeoutError, OSError)

_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
_ESCAPE = re.compile(r"\x1b\[[0-9;:?]*[A-Za-z]|\x1b\][^\x07]*\x07")
_RULE = re.compile(r"^─{8,}\s*$")
_CLAUDE_ROW_TITLE = re.compile(r"^\s*Current (?:session|week)\b")
_CODEX_LIMIT_ROW = re.compile(
    r"^\s*(?:[•·]\s*)?(?:5h limit|Weekly limit|Monthly credit limit|Limits:|Credits:)", re.I
)


@dataclasses.dataclass(frozen=True)
class ProbeSpec:
    """What to type into which agent, and how its card is recognised."""

    provider: str
    command: str
    screen: str


PROBES: dict[str, ProbeSpec] = {
    "codex": ProbeSpec("codex", "/status", "codex.status"),
    "claude": ProbeSpec("claude", "/usage", "claude.usage"),
}


class ProbeRefused(RuntimeError):
    """The pane is not safe to type into; nothing was changed."""

    exit_code = 3


class ProbeFailed(RuntimeError):
    """Keys were sent but the card did not show, or the pane did not come back."""

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


@dataclasses.dataclass(frozen=True)
class ProbeOutcome:
    """What :func:`probe_idle_panes` did with one pane: a result, or why it left it alone."""

    pane: PaneInfo
    provider: str
    result: ProbeResult | None
    error: str | None  # the refusal or failure; None when the card was captured


def _visible_typed_chars(ansi_line: str, start: int) -> str:
    """Characters of ``ansi_line`` after plain-text column ``start`` that are not dimmed."""
    typed: list[str] = []
    dim = False
    column = 0
    index = 0
    while index < len(ansi_line):
        match = _SGR.match(ansi_line, index)
        if match:
            for param in (match.group(1) or "0").replace(":", ";").split(";"):
                if param in ("", "0", "22"):
                    dim = False
                elif param == "2":
                    dim = True
            index = match.end()
            continue
        other = _ESCAPE.match(ansi_line, index)
        if other:
            index = other.end()
            continue
        char = ansi_line[index]
        if column >= start and not dim and not char.isspace():
            typed.append(char)
        column += 1
        index += 1
    return "".join(typed)


def prompt_text(provider: str, ansi_text: str) -> str | None:
    """What a person has typed at the agent's prompt: ``""`` when empty, None when no prompt.

    Codex: the last line starting with ``›`` (the composer is the lowest one; older ones are
    the transcript). Claude: the ``❯`` line right below a horizontal rule (the prompt box; the
    ``❯ /usage`` echo of an open dialog has no rule above it).
    """
    lines = ansi_text.split("\n")
    plain = [strip_ansi(line) for line in lines]
    for index in range(len(lines) - 1, -1, -1):
        stripped = plain[index].lstrip(" ")
        if provider == "codex" and stripped.startswith("›"):
            start = len(plain[index]) - len(stripped) + 1
            return _visible_typed_chars(lines[index], start)
        if (
            provider == "claude"
            and stripped.startswith("❯")
            and index > 0
            and _RULE.match(plain[index - 1].strip() + " ")
        ):
            start = len(plain[index]) - len(stripped) + 1
            return _visible_typed_chars(lines[index], start)
    return None


def card_on_screen(provider: str, text: str) -> bool:
    """Whether the probe's card is drawn completely in ``text`` (plain)."""
    lines = text.split("\n")
    if provider == "codex":
        # The echoed "/status" starts the card; in a short pane it may have scrolled away.
        echo = max((i for i, line in enumerate(lines) if line.strip() == "/status"), default=-1)
        return any(_CODEX_LIMIT_ROW.match(line) for line in lines[echo + 1 :])
    # The Usage tab (Settings · Status · Config · Usage) ends with "Esc to cancel"; in a short
    # pane its top (the tab line) is cut, and the first row title starts what is left.
    start = max(
        (
            i
            for i, line in enumerate(lines)
            if ("Usage" in line and "Status" in line and "Config" in line)
            or _CLAUDE_ROW_TITLE.match(line)
        ),
        default=-1,
    )
    return start >= 0 and any("Esc to cancel" in line for line in lines[start + 1 :])


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
    ) -> None:
        self.server = server
        self.publisher = publisher
        self.parse_screen: ParseScreen = parse_screen or registry.parse_screen
        self.zone = zone or local_zone()
        self.targets = tuple(targets)
        self.timeout = timeout
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

    def panes(self) -> list[PaneInfo]:
        """Every pane of the server (one ``list-panes -a``)."""
        return discovery.sweep(self._tmux, self.server.label).panes

    def candidates(self, provider: str, target: str | None = None) -> list[PaneInfo]:
        """Panes to probe: the one named by ``target`` (``%3`` or ``s:w.p``), or every pane
        discovery classifies as ``provider``."""
        panes = self.panes()
        if target is not None:
            return [p for p in panes if target in (p.pane_id, p.target)]
        proc = ProcReader()
        return [p for p in panes if classify(p, self.targets, proc).provider == provider]

    # -- checks --------------------------------------------------------------------------------
    def _usage(self, text: str, provider: str) -> Usage | None:
        try:
            return self.parse_screen(text, utcnow(), self.zone, provider)
        except Exception:
            logger.exception("parser failed during a probe", extra={"provider": provider})
            return None

    def refusal(self, pane: PaneInfo, provider: str) -> str | None:
        """Why this pane must not be probed now (None: it is idle at an empty prompt)."""
        if pane.dead:
            return "the pane is dead"
        try:
            ansi = self.capture(pane.pane_id, escapes=True)
        except TMUX_ERRORS as exc:
            return f"cannot capture the pane: {exc}"
        text = strip_ansi(ansi)
        usage = self._usage(text, provider)
        if usage is None:
            return f"the screen is not recognised as {provider}"
        if usage.state != "idle":
            why = f" ({usage.state_reason})" if usage.state_reason else ""
            return f"the agent is {usage.state}{why}"
        typed = prompt_text(provider, ansi)
        if typed is None:
            return "no empty prompt on screen (a dialog or menu is open)"
        if typed:
            return f"someone is typing at the prompt ({len(typed)} characters)"
        return None

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
            reason = self.refusal(pane, provider)
            if reason is None:
                return self._run(spec, pane)
            reasons.append(f"{pane.pane_id} ({pane.target}): {reason}")
        raise ProbeRefused("; ".join(reasons))

    def probe_pane(self, pane: PaneInfo, provider: str) -> ProbeResult:
        """Probe one known pane (used by :func:`probe_idle_panes`)."""
        reason = self.refusal(pane, provider)
        if reason is not None:
            raise ProbeRefused(reason)
        return self._run(PROBES[provider], pane)

    def _wait(self, what: str, check: t.Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if check():
                    return True
            except TMUX_ERRORS as exc:
                logger.info("probe: %s: %s", what, exc)
                return False
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_INTERVAL)

    def _run(self, spec: ProbeSpec, pane: PaneInfo) -> ProbeResult:
        pane_id = pane.pane_id
        self._tmux(["send-keys", "-t", pane_id, "-l", spec.command])
        typed = self._wait(
            "typed command",
            lambda: (
                prompt_text(spec.provider, self.capture(pane_id, escapes=True))
                == spec.command.replace(" ", "")
            ),
            min(self.timeout, 3.0),
        )
        if not typed:
            self._clear_typed(pane_id, spec)
            msg = f"{spec.command} did not appear in the prompt of {pane_id}; cleared it"
            raise ProbeFailed(msg)
        self._tmux(["send-keys", "-t", pane_id, "Enter"])
        captured: dict[str, str] = {}

        def card_ready() -> bool:
            ansi = self.capture(pane_id, escapes=True)
            text = strip_ansi(ansi)
            if not card_on_screen(spec.provider, text):
                return False
            if spec.provider == "codex" and prompt_text("codex", ansi) != "":
                return False  # Enter not processed yet: an older card is still the last one
            captured["text"] = self.capture(pane_id)
            usage = self._usage(captured["text"], spec.provider)
            return usage is not None and bool(usage.limits)

        ready = self._wait("card", card_ready, self.timeout)
        if "text" not in captured:
            self._tmux(["send-keys", "-t", pane_id, "Escape"])
            msg = f"no {spec.command} card on {pane_id} within {self.timeout}s"
            raise ProbeFailed(msg)
        if not ready:
            logger.info("probe: the card shows no figures", extra={"pane_id": pane_id})
        text = captured["text"]
        result = ProbeResult(
            pane=pane, provider=spec.provider, text=text, usage=self._usage(text, spec.provider)
        )
        if self.pipeline is not None:
            outcome = self.pipeline.process(pane, spec.provider, text, "probe", force=True)
            result.raw, result.parsed = outcome.raw, outcome.parsed
        self._tmux(["send-keys", "-t", pane_id, "Escape"])
        result.restored = self._wait(
            "prompt back", lambda: self._back_at_prompt(pane_id, spec), self.timeout
        )
        return result

    def _back_at_prompt(self, pane_id: str, spec: ProbeSpec) -> bool:
        ansi = self.capture(pane_id, escapes=True)
        if prompt_text(spec.provider, ansi) != "":
            return False
        return spec.provider == "codex" or not card_on_screen("claude", strip_ansi(ansi))

    def _clear_typed(self, pane_id: str, spec: ProbeSpec) -> None:
        """Undo our own typing (only ours: the prompt was empty before we typed)."""
        keys = ["BSpace"] * len(spec.command)
        try:
            self._tmux(["send-keys", "-t", pane_id, *keys])
        except TMUX_ERRORS as exc:
            logger.warning("probe: could not clear the typed command: %s", exc)


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
            panes = prober.panes()
        except TMUX_ERRORS as exc:
            logger.info("probe: server %s unreachable: %s", server.label, exc)
            continue
        proc = ProcReader()
        for pane in panes:
            provider = classify(pane, targets, proc).provider
            if provider is None or provider not in wanted:
                continue
            try:
                result = prober.probe_pane(pane, provider)
            except (ProbeRefused, ProbeFailed, *TMUX_ERRORS) as exc:
                outcomes.append(ProbeOutcome(pane, provider, None, str(exc)))
                continue
            outcomes.append(ProbeOutcome(pane, provider, result, None))
    return outcomes
