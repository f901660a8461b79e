"""A publisher for one-shot commands (``panebus probe``, the demo's probes), or None.

A one-shot command must say "no bus" instead of publishing into the void: it connects, waits
briefly for the broker link, and yields None when the broker is not there. Frames sent through
it go out in order on one socket; :meth:`OneShotPublisher.confirm` ends with an acknowledged
frame so the command knows the broker had everything before it exits.
"""

from __future__ import annotations

import contextlib
import logging
import typing as t

from bus.endpoints import Endpoints
from bus.frames import draft, source
from bus.publisher import Publisher

logger = logging.getLogger(__name__)

READY_TIMEOUT = 2.0
ACK_TIMEOUT = 2.0


class OneShotPublisher:
    """What :class:`scraper.pipeline.Pipeline` needs (``send``) plus a final acknowledgement."""

    def __init__(self, publisher: Publisher, name: str) -> None:
        self.publisher = publisher
        self.name = name
        self.sent = 0

    def send(self, body: dict[str, t.Any], topic: str | None = None) -> dict[str, t.Any]:
        """Send one frame; returns the stamped body (with ``id``)."""
        stamped = self.publisher.send(body, topic=topic)
        self.sent += 1
        return stamped

    def confirm(self, what: str, **fields: t.Any) -> bool:
        """Send ``sys.<what>`` with acknowledgement: True once the broker has it."""
        body = draft("sys", "unknown", source("manual", "parsed"), what=what, **fields)
        return self.publisher.send_acked(body, timeout=ACK_TIMEOUT)


@contextlib.contextmanager
def open_publisher(name: str, *, enabled: bool = True) -> t.Iterator[OneShotPublisher | None]:
    """A connected publisher, or None when disabled or no broker answers within 2 s."""
    if not enabled:
        yield None
        return
    with Publisher(Endpoints.default(), name=name) as publisher:
        if not publisher.wait_ready(timeout=READY_TIMEOUT):
            yield None
            return
        yield OneShotPublisher(publisher, name)
