"""Find every pane of a tmux server in one ``list-panes -a -F …`` call per sweep.

One call per sweep, never one per pane: with twenty panes a per-pane query would fork twenty
``tmux`` processes a tick. The format uses the unit separator (0x1f) between fields: tmux
strips control characters from titles and escapes them in start commands, so the separator
cannot appear inside a field. A line that still does not split into the expected fields is
counted and skipped, never fatal.

:func:`parse_list_panes` is pure (lines in, :class:`PaneInfo` out); the I/O is a ``run``
callable given by the caller — the control client's ``command`` or libtmux's ``Server.cmd``.
This module reads panes and nothing more: which of them run an agent is
:mod:`scraper.classify`, and the sweep, classification and screen captures of a whole server
are put together in :mod:`scraper.agent_panes`.
"""

from __future__ import annotations

import dataclasses
import logging
import typing as t

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

#: How the scraper names a pane across servers: (server label, tmux pane id).
PaneKey = tuple[str, str]


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
        """``session:window.pane`` (tmux's target syntax: the tmux window's index), the way
        people name panes."""
        return f"{self.session}:{self.window_index}.{self.pane_index}"

    def wire(self) -> dict[str, t.Any]:
        """The ``pane`` object of raw, parsed and state frames (docs/wire.md, "raw")."""
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
