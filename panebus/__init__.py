"""The panebus application: the CLI and the wiring that runs bus, scraper and sinks together."""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

logging.getLogger(__name__).addHandler(logging.NullHandler())

try:
    __version__ = version("panebus")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
