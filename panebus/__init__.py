"""The panebus application: the CLI and the wiring that runs bus, scraper and sinks together."""

from __future__ import annotations

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> str:
    """``__version__`` is read lazily: importlib.metadata costs tens of milliseconds, which
    the Claude statusLine hook (run on every prompt) must not pay."""
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            return version("panebus")
        except PackageNotFoundError:  # a source tree that was not installed
            return "0.0.0+source"
    raise AttributeError(name)
