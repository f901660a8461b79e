"""Real sinks for the supervision tests, registered by name like any built-in sink.

``flaky`` raises :class:`sinks.base.SinkFailed` on a raw frame whose text says ``boom`` (the
failure a sink reports when it cannot go on), ``ENOSPC`` on one whose text starts with ``full``
(what a full disk does to every frame), and handles every other frame. ``broken`` cannot
be built at all: its factory raises, as a sink with an unusable config or dir would.
"""

from __future__ import annotations

import errno
import typing as t

from sinks.base import SinkFailed

if t.TYPE_CHECKING:
    from bus.frames import Body
    from bus.paths import Paths
    from sinks.base import Emit
    from sinks.config import SinksConfig


class FlakySink:
    """Counts raw frames; fails on ``boom``."""

    name = "flaky"
    prefixes: tuple[str, ...] = ("raw.",)

    def __init__(self) -> None:
        self.texts: list[str] = []

    @classmethod
    def build(cls, paths: Paths, config: SinksConfig) -> FlakySink:
        del paths, config
        return cls()

    def handle(self, topic: str, body: Body, emit: Emit) -> None:
        del topic, emit
        text = str(body.get("text", ""))
        if text == "boom":
            raise SinkFailed("told to fail by a 'boom' frame")
        if text.startswith("full"):
            raise OSError(errno.ENOSPC, "No space left on device")
        self.texts.append(text)

    def tick(self, emit: Emit) -> None:
        del emit

    def health(self) -> dict[str, t.Any]:
        return {"texts": len(self.texts)}

    def drain(self, emit: Emit) -> None:
        del emit

    def close(self) -> None:
        pass


def build_broken(paths: Paths, config: SinksConfig) -> FlakySink:
    """A sink whose setup always fails."""
    del paths, config
    msg = "the broken sink cannot start"
    raise RuntimeError(msg)
