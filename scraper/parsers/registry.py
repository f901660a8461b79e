"""Which parser reads which screen: the registry of :class:`ScreenParser` instances.

The scraper, ``panebus parse`` and the alias ingest all go through here, so a screen is read
the same way everywhere. Built in: ``claude-monitor``, ``codex``, ``claude``, ``ccusage`` (tried
in that order: the monitor's screen mentions Claude Code, Codex and Claude never share markers,
and a ccusage table an agent pane shows (``! ccusage`` in Claude Code) stays that agent's pane).
Third parties add theirs with :func:`register`, or without touching panebus through the entry
point group ``panebus.parsers`` (each entry point names a parser instance, class or factory).

ANSI escapes are stripped here first, so a ``capture-pane -e`` screen parses like a plain one.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.metadata
import logging
import threading
import typing as t

from bus.clock import utcnow
from scraper.parsers.text import strip_ansi

if t.TYPE_CHECKING:
    from scraper.parsers.model import ScreenParser, State, Usage

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "panebus.parsers"
AUTO = "auto"
MAX_LINE_CHARS = 1_000  # of one screen line, read by the parsers (see bounded_lines)


class StateReader(t.Protocol):
    """Optional extra a parser may offer: the pane state without reading the figures."""

    def pane_state(self, text: str) -> tuple[State, str]: ...


class ParserRegistry:
    """An ordered set of parsers, one per provider name."""

    def __init__(self, parsers: t.Iterable[ScreenParser] = ()) -> None:
        self._parsers: dict[str, ScreenParser] = {}
        for parser in parsers:
            self.register(parser)

    def register(self, parser: ScreenParser, *, replace: bool = False) -> None:
        """Add ``parser`` (tried after those already registered).

        Raises ``ValueError`` when its provider is taken, unless ``replace`` is true.
        """
        name = getattr(parser, "provider", None)
        if not isinstance(name, str) or not name or name == AUTO:
            msg = f"a parser needs a provider name other than {AUTO!r}: {parser!r}"
            raise ValueError(msg)
        if name in self._parsers and not replace:
            msg = f"a parser for provider {name!r} is already registered"
            raise ValueError(msg)
        self._parsers[name] = parser

    def unregister(self, provider: str) -> ScreenParser | None:
        """Remove and return the parser for ``provider`` (None when there was none)."""
        return self._parsers.pop(provider, None)

    def providers(self) -> tuple[str, ...]:
        """Registered provider names, in detection order."""
        return tuple(self._parsers)

    def parsers(self) -> tuple[ScreenParser, ...]:
        """Registered parsers, in detection order."""
        return tuple(self._parsers.values())

    def get(self, provider: str) -> ScreenParser | None:
        """The parser for ``provider``, or None."""
        return self._parsers.get(provider)

    def detect_provider(self, text: str) -> str | None:
        """The first provider whose parser recognises ``text`` (escapes stripped), or None."""
        plain = strip_ansi(text)
        for name, parser in self._parsers.items():
            try:
                if parser.detect(plain):
                    return name
            except Exception:  # a third-party parser must not break detection for the others
                logger.exception("parser %s failed in detect()", name, extra={"provider": name})
        return None

    def _choose(self, plain: str, provider: str) -> ScreenParser | None:
        if provider == AUTO:
            name = self.detect_provider(plain)
            return self._parsers[name] if name is not None else None
        parser = self._parsers.get(provider)
        if parser is None:
            logger.debug("no parser for provider %r", provider, extra={"provider": provider})
        return parser

    def parse_screen(
        self, text: str, observed_at: dt.datetime, zone: dt.tzinfo, provider: str = AUTO
    ) -> Usage | None:
        """Read one screen. ``provider`` forces a parser; ``"auto"`` detects it.

        None when no provider was recognised (or the named one is not registered).
        """
        plain = bounded_lines(strip_ansi(text))
        parser = self._choose(plain, provider)
        if parser is None:
            return None
        return parser.parse(plain, observed_at, zone)

    def pane_state(self, text: str, provider: str = AUTO) -> tuple[State, str]:
        """Idle / working / waiting / unknown with the reason, from the provider's parser."""
        plain = bounded_lines(strip_ansi(text))
        parser = self._choose(plain, provider)
        if parser is None:
            return "unknown", "no agent screen recognised"
        reader = getattr(parser, "pane_state", None)
        if callable(reader):
            return t.cast("StateReader", parser).pane_state(plain)
        usage = parser.parse(plain, utcnow(), dt.timezone.utc)
        return usage.state, usage.state_reason or usage.screen


#: Built-in parsers as (module, class), in detection order.
BUILTIN_PARSERS = (
    ("scraper.parsers.claude_monitor", "ClaudeMonitorParser"),
    ("scraper.parsers.codex", "CodexParser"),
    ("scraper.parsers.claude", "ClaudeParser"),
    ("scraper.parsers.ccusage", "CcusageParser"),
)


def _builtin_parsers() -> list[ScreenParser]:
    """Import the built-ins lazily (no cycles; one broken module cannot hide the others)."""
    parsers: list[ScreenParser] = []
    for module_name, class_name in BUILTIN_PARSERS:
        try:
            module = importlib.import_module(module_name)
            parsers.append(t.cast("ScreenParser", getattr(module, class_name)()))
        except Exception:  # logged loudly; the other providers keep working
            logger.exception("built-in parser %s.%s is unavailable", module_name, class_name)
    return parsers


def load_entry_points(registry: ParserRegistry) -> None:
    """Register third-party parsers named in the ``panebus.parsers`` entry point group."""
    try:
        entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # broken metadata must not stop the built-in parsers
        logger.exception("cannot list entry points of %s", ENTRY_POINT_GROUP)
        return
    for entry_point in entry_points:
        try:
            loaded = entry_point.load()
            is_factory = isinstance(loaded, type) or not hasattr(loaded, "parse")
            parser = loaded() if is_factory else loaded
            registry.register(t.cast("ScreenParser", parser))
        except Exception:  # one bad plug-in is logged and skipped, the rest still load
            logger.exception("cannot load parser entry point %s", entry_point.name)


_default: ParserRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> ParserRegistry:
    """The process-wide registry: built-ins plus entry points, created on first use."""
    global _default  # noqa: PLW0603 - one lazily built registry per process
    with _default_lock:
        if _default is None:
            registry = ParserRegistry(_builtin_parsers())
            load_entry_points(registry)
            _default = registry
        return _default


def register(parser: ScreenParser, *, replace: bool = False) -> None:
    """Add a third-party parser to the default registry."""
    default_registry().register(parser, replace=replace)


def providers() -> tuple[str, ...]:
    """Provider names of the default registry, in detection order."""
    return default_registry().providers()


def detect_provider(text: str) -> str | None:
    """Which provider's screen ``text`` is (escapes stripped first), or None."""
    return default_registry().detect_provider(text)


def bounded_lines(plain: str) -> str:
    r"""``plain`` with every line cut to :data:`MAX_LINE_CHARS`.

    A figure never sits thousands of characters into a line, but a joined capture
    (``capture-pane -J``) of a pane that printed one huge line hands the parsers a line of
    megabytes, and a pattern that scans it costs seconds. What is cut is left unread, never
    guessed.

    >>> bounded_lines("a" * 1500 + "\n42% used")[-9:], len(bounded_lines("b" * 5000))
    ('\n42% used', 1000)
    """
    if len(plain) <= MAX_LINE_CHARS:
        return plain
    lines = plain.split("\n")
    if all(len(line) <= MAX_LINE_CHARS for line in lines):
        return plain
    return "\n".join(line[:MAX_LINE_CHARS] for line in lines)


def parse_screen(
    text: str, observed_at: dt.datetime, zone: dt.tzinfo, provider: str = AUTO
) -> Usage | None:
    """Read one screen with the default registry; None when no provider was recognised."""
    return default_registry().parse_screen(text, observed_at, zone, provider)


def pane_state(text: str, provider: str = AUTO) -> tuple[State, str]:
    """The pane state of one screen with the default registry."""
    return default_registry().pane_state(text, provider)
