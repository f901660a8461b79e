"""Find every pane of a tmux server in one ``list-panes -a -F …`` call per sweep.

One call per sweep, never one per pane: with twenty panes a per-pane query would fork twenty
``tmux`` processes a tick. The format uses the unit separator (0x1f) between fields: tmux
strips control characters from titles and escapes them in start commands, so the separator
cannot appear inside a field. A line that still does not split into the expected fields is
counted and skipped, never fatal.

:func:`parse_list_panes` is pure (lines in, :class:`PaneInfo` out); the I/O is a ``run``
callable given by the caller — the control client's ``command`` or libtmux's ``Server.cmd``.
:func:`discover` is the one-shot sweep + classification behind ``panebus panes`` and
``panebus doctor``.
"""

from __future__ import annotations

import dataclasses
import logging
import typing as t

if t.TYPE_CHECKING:
    from scraper.config import ServerSpec, TargetRule

logger = logging.getLogger(__name__)

SEPARATOR = "\x1f"
FIELDS = (
    "pane_id",
    "pane_pid",
    "pane_current_command",
    "pane_dead",
    "pane_width",
    "pane_height",
    "session_name",
    "window_index",
    "window_name",
    "pane_index",
    "alternate_on",
    "pane_title",
    "pane_start_command",
)
LIST_FORMAT = SEPARATOR.join(f"#{{{name}}}" for name in FIELDS)
LIST_PANES_ARGS = ("list-panes", "-a", "-F", LIST_FORMAT)


@dataclasses.dataclass(frozen=True)
class PaneInfo:
    """What one sweep tells about one pane."""

    server: str
    pane_id: str
    pid: int | None
    command: str
    dead: bool
    width: int
    height: int
    session: str
    window_index: str
    window_name: str
    pane_index: str
    alternate_on: bool
    title: str
    start_command: str

    @property
    def target(self) -> str:
        """``session:window.pane``, the way people name panes."""
        return f"{self.session}:{self.window_index}.{self.pane_index}"

    def wire(self) -> dict[str, t.Any]:
        """The ``pane`` object of raw, parsed and state frames (DESIGN §3)."""
        return {
            "server": self.server,
            "session": self.session,
            "window": self.window_index,
            "pane_id": self.pane_id,
            "title": self.title,
            "command": self.command,
            "pid": self.pid,
            "width": self.width,
            "height": self.height,
        }


@dataclasses.dataclass
class Sweep:
    """The panes of one server at one moment, plus lines that could not be read."""

    panes: list[PaneInfo]
    bad_lines: int = 0


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def parse_list_panes(lines: t.Iterable[str], server: str) -> Sweep:
    """Read the output of :data:`LIST_PANES_ARGS` (one pane a line)."""
    sweep = Sweep(panes=[])
    for line in lines:
        if not line:
            continue
        parts = line.split(SEPARATOR)
        if len(parts) != len(FIELDS) or not parts[0].startswith("%"):
            sweep.bad_lines += 1
            # the line holds titles and commands (secrets, maybe): say where, not what
            logger.warning("unreadable list-panes line", extra={
                "pane_id": parts[0][:16], "fields": len(parts), "expected": len(FIELDS)})
            continue
        value = dict(zip(FIELDS, parts, strict=True))
        width = _int(value["pane_width"])
        height = _int(value["pane_height"])
        if width is None or height is None:
            sweep.bad_lines += 1
            continue
        sweep.panes.append(
            PaneInfo(
                server=server,
                pane_id=value["pane_id"],
                pid=_int(value["pane_pid"]),
                command=value["pane_current_command"],
                dead=value["pane_dead"] == "1",
                width=width,
                height=height,
                session=value["session_name"],
                window_index=value["window_index"],
                window_name=value["window_name"],
                pane_index=value["pane_index"],
                alternate_on=value["alternate_on"] == "1",
                title=value["pane_title"],
                start_command=value["pane_start_command"],
            )
        )
    return sweep


def sweep(run: t.Callable[[t.Sequence[str]], list[str]], server: str) -> Sweep:
    """Run the one ``list-panes -a`` call through ``run`` and parse it."""
    return parse_list_panes(run(LIST_PANES_ARGS), server)


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
    sweep over its control clients.
    """
    # Imported here: capture and classify both import this module (PaneInfo, sweep).
    from scraper.capture import ServerLink  # noqa: PLC0415
    from scraper.classify import ProcReader, classify_all  # noqa: PLC0415
    from scraper.control import CommandError  # noqa: PLC0415
    from scraper.parsers.registry import detect_provider  # noqa: PLC0415

    proc = ProcReader()
    found: list[FoundPane] = []
    errors: list[str] = []
    for spec in servers:
        link = ServerLink(spec, timeout=timeout)
        try:
            result = link.sweep()
        except (CommandError, TimeoutError, OSError) as exc:
            errors.append(f"{spec.label}: {exc}")
            continue

        def capture(pane: PaneInfo, link: ServerLink = link) -> str | None:
            try:
                return link.capture(pane.pane_id)
            except (CommandError, TimeoutError, OSError):
                return None

        for pane, verdict in classify_all(
            result.panes, targets, proc, capture=capture, detect=detect_provider
        ):
            found.append(FoundPane(pane, verdict.provider, verdict.rule, verdict.detail))
    return found, errors


def discover_agent_panes(
    server_args: t.Sequence[str] = (), targets: t.Sequence[TargetRule] = ()
) -> list[FoundPane]:
    """The agent panes of the server named by tmux arguments (``-L x``, ``-S p``, none).

    Raises :class:`ConnectionError` when the server cannot be reached.
    """
    from scraper.config import ServerSpec  # noqa: PLC0415 - config imports nothing of ours

    found, errors = discover([ServerSpec.from_tmux_args(server_args)], targets)
    if errors:
        raise ConnectionError("; ".join(errors))
    return [pane for pane in found if pane.provider is not None]
