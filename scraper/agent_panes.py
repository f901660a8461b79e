"""Find the agent panes of a tmux server: one sweep, each pane classified.

The one place where a sweep (:mod:`scraper.discovery`) meets the rules of
:mod:`scraper.classify` over a server link (:mod:`scraper.capture`): the last rule reads the
screen, so the panes no other rule decided are captured through the same link. The
long-running scraper calls :func:`classify_server` on every sweep, over its control clients;
``panebus panes`` and ``panebus doctor`` call :func:`discover`, which does the same once over
one-shot ``tmux`` processes. Neither :mod:`scraper.discovery` (the pure ``list-panes`` reader)
nor :mod:`scraper.classify` (the rules) imports this module or the link.
"""

from __future__ import annotations

import dataclasses
import typing as t

from scraper.capture import ServerLink
from scraper.classify import Classification, ProcReader, classify_all
from scraper.config import ServerSpec
from scraper.control import CommandError, ControlError
from scraper.parsers.registry import detect_provider

if t.TYPE_CHECKING:
    from scraper.config import TargetRule
    from scraper.discovery import PaneInfo

#: What a sweep or a capture over a :class:`ServerLink` raises when the server or the pane is
#: not there (any of them is counted and logged, never fatal).
CAPTURE_ERRORS = (CommandError, ControlError, TimeoutError, OSError)


def screen_capture(link: ServerLink) -> t.Callable[[PaneInfo], str | None]:
    """The screen rule's capture: the pane's text, or None when it cannot be read."""

    def capture(pane: PaneInfo) -> str | None:
        try:
            return link.capture(pane.pane_id)
        except CAPTURE_ERRORS:
            return None

    return capture


def classify_server(
    link: ServerLink,
    targets: t.Sequence[TargetRule],
    proc: ProcReader,
    *,
    detect: t.Callable[[str], str | None] | None = detect_provider,
    screen_cache: dict[tuple[str, str, int | None, str], Classification] | None = None,
) -> list[tuple[PaneInfo, Classification]]:
    """Every pane of ``link``'s server (in ``list-panes`` order) with its verdict.

    Raises one of :data:`CAPTURE_ERRORS` when the server cannot be swept. ``screen_cache``
    (kept by the caller across sweeps) captures an undecided pane once per identity;
    ``detect=None`` turns the screen rule off (nothing is captured).
    """
    return classify_all(
        link.sweep().panes,
        targets,
        proc,
        capture=screen_capture(link),
        detect=detect,
        screen_cache=screen_cache,
    )


@dataclasses.dataclass(frozen=True)
class FoundPane:
    """A pane of a sweep with the verdict of :mod:`scraper.classify`."""

    pane: PaneInfo
    provider: str | None
    rule: str
    detail: str

    @property
    def pane_id(self) -> str:
        """tmux pane id (``%3``)."""
        return self.pane.pane_id


def discover(
    servers: t.Sequence[ServerSpec],
    targets: t.Sequence[TargetRule] = (),
    timeout: float = 2.0,
) -> tuple[list[FoundPane], list[str]]:
    """Sweep and classify every pane of ``servers`` (one-shot, no control client).

    Returns the panes and one error line per server that could not be reached. This is what
    ``panebus panes`` and ``panebus doctor`` show; the long-running scraper does the same per
    sweep over its control clients (:func:`classify_server`).
    """
    proc = ProcReader()
    found: list[FoundPane] = []
    errors: list[str] = []
    for spec in servers:
        link = ServerLink(spec, timeout=timeout)  # never started: every command is a process
        try:
            verdicts = classify_server(link, targets, proc)
        except CAPTURE_ERRORS as exc:
            errors.append(f"{spec.label}: {exc}")
            continue
        found.extend(
            FoundPane(pane, verdict.provider, verdict.rule, verdict.detail)
            for pane, verdict in verdicts
        )
    return found, errors


def discover_agent_panes(
    server_args: t.Sequence[str] = (), targets: t.Sequence[TargetRule] = ()
) -> list[FoundPane]:
    """The agent panes of the server named by tmux arguments (``-L x``, ``-S p``, none).

    Raises :class:`ConnectionError` when the server cannot be reached.
    """
    found, errors = discover([ServerSpec.from_tmux_args(server_args)], targets)
    if errors:
        raise ConnectionError("; ".join(errors))
    return [pane for pane in found if pane.provider is not None]
