"""The forwarder to a central broker as a part of ``panebus up`` (:mod:`bus.federation`).

Supervised like every other part: a crash is logged once and the forwarder is built anew after
a backoff. Nothing is lost meanwhile: the spool on disk keeps what was not acknowledged, and
the local broker's cache is replayed to the new subscription.
"""

from __future__ import annotations

import typing as t

from bus.federation import Forwarder
from panebus.supervisor import BasePart

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.endpoints import Endpoints
    from bus.federation_config import FederationConfig
    from bus.paths import Paths
    from panebus.supervisor import Context

SPOOL_DIR = "upstream"


def spool_dir(paths: Paths) -> Path:
    """Where the outage buffer lives: the data dir, beside the archive."""
    return paths.data_dir / SPOOL_DIR


class UpstreamPart(BasePart):
    """Forward this host's frames to ``config.upstream``."""

    name = "upstream"

    def __init__(
        self, paths: Paths, endpoints: Endpoints, config: FederationConfig, host: str
    ) -> None:
        assert config.upstream is not None
        self.paths = paths
        self.endpoints = endpoints
        self.config = config
        self.upstream = config.upstream
        self.host = host
        self.forwarder: Forwarder | None = None

    def run(self, ctx: Context) -> None:
        forwarder = Forwarder(
            self.endpoints, self.upstream, self.host, self.paths.keys_dir,
            spool_dir(self.paths), raw=self.config.upstream_raw,
            spool_max_bytes=self.config.spool_max_bytes,
        )
        self.forwarder = forwarder
        forwarder.run(ctx.stop, on_ready=ctx.ready)

    def detail(self) -> dict[str, t.Any]:
        forwarder = self.forwarder
        return {} if forwarder is None else forwarder.detail()
