"""Arguments several verbs share, and the log format of every verb, defined once."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
import logging
import sys
import typing as t

if t.TYPE_CHECKING:
    from scraper.config import ScraperConfig


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """``-L NAME`` / ``-S PATH``: which tmux server, exactly as tmux spells them."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-L", dest="socket_name", metavar="NAME", help="tmux socket name")
    group.add_argument("-S", dest="socket_path", metavar="PATH", help="tmux socket path")


def server_args(args: argparse.Namespace) -> list[str]:
    """The tmux arguments selecting the server chosen with ``-L``/``-S`` (empty: default)."""
    if getattr(args, "socket_name", None):
        return ["-L", args.socket_name]
    if getattr(args, "socket_path", None):
        return ["-S", args.socket_path]
    return []


def load_scraper_config(args: argparse.Namespace, verb: str) -> ScraperConfig | None:
    """The config file with ``-L``/``-S`` (and ``--interval``) applied; on a bad config, say
    why on stderr in one line and return None (the verb then exits 2).

    The whole file is checked, the sinks' tables too: a typo anywhere in it is reported by
    whichever verb reads it first, not by a sink minutes later.
    """
    from bus.paths import Paths
    from scraper.config import ConfigError, load_for_command_line
    from sinks.config import SinkConfigError, SinksConfig

    paths = Paths.from_env()
    try:
        config = load_for_command_line(
            paths,
            getattr(args, "socket_name", None),
            getattr(args, "socket_path", None),
            getattr(args, "interval", None),
        )
        SinksConfig.load(paths)
    except (ConfigError, SinkConfigError) as exc:
        print(f"panebus {verb}: {exc}", file=sys.stderr)
        return None
    return config


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Attributes every LogRecord has; anything else on a record came in through ``extra=``.
_STANDARD_ATTRS = frozenset(
    (*vars(logging.LogRecord("", 0, "", 0, "", None, None)), "message", "asctime", "taskName")
)
#: Longest value shown per key: a frame's text or a whole path list must not flood the log.
MAX_VALUE_CHARS = 200


def _shown(value: object) -> str:
    """A context value as log text: bytes decoded, quoted when it holds spaces, bounded."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "replace")
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS] + "…"
    if not text or any(char.isspace() or char in "\"=" for char in text):
        text = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        text = text.replace("\n", "\\n")
    return text


class ContextFormatter(logging.Formatter):
    """The CLI's log format, with the record's ``extra=`` context as ``key=value`` pairs.

    Library code passes its context (pane, provider, topic, seq, path, line, reason…) in
    ``extra=``; without this the words "rejected frame" would reach the user without saying
    which frame or why. The pairs come after the message and before any traceback.

    >>> record = logging.LogRecord("bus", logging.WARNING, "", 0, "rejected frame", None, None)
    >>> record.reason, record.topic = "body is not JSON", b"parsed.codex"
    >>> ContextFormatter("%(message)s").format(record)
    'rejected frame reason="body is not JSON" topic=parsed.codex'
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The formatted message followed by the context pairs."""
        message = super().formatMessage(record)
        pairs = [
            f"{key}={_shown(value)}"
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRS and not key.startswith("_")
        ]
        return f"{message} {' '.join(pairs)}" if pairs else message


def configure_logging(level: int) -> None:
    """Log to stderr in :data:`LOG_FORMAT` with the records' context (see above)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ContextFormatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
