"""The scraper's part of the TOML config file (``Paths.config_file``).

One file holds every setting a user may want to change: which tmux servers to watch, panes
named explicitly, how often each provider is captured, debounce times, history lines, extra
watched paths and redaction patterns. A missing file means the defaults; a bad value is a
:class:`ConfigError` that names the key, never a silent fallback.

Example::

    [[servers]]              # none given: the default tmux server
    socket_name = "work"     # tmux -L work
    [[servers]]
    socket_path = "/tmp/tmux-1000/other"   # tmux -S …

    [[targets]]              # explicit panes win over every other rule
    pane = "%3"              # or session / window (tmux's) / title / command (globs)
    provider = "codex"       # codex | claude | claude-monitor | none (never watch)

    [scraper]
    history_lines = 0        # extra scrollback lines captured above the visible screen
    escapes = false          # capture with -e (parsers strip ANSI themselves)
    sweep_interval = 10.0    # seconds between discovery sweeps
    stale_after = 600.0      # parsed frames are stale this many seconds after capture
    [scraper.interval]       # timer trigger, seconds per provider
    codex = 30.0
    claude = 30.0
    claude-monitor = 15.0
    [scraper.output]
    debounce = 0.003         # output that may hold a new figure: captured after this quiet
    max_wait = 0.1           # …but no later than this after the first %output of a burst
    min_interval = 0.2       # and at most once per this many seconds per pane
    [scraper.file]
    debounce = 1.0
    paths = [{ provider = "codex", path = "~/work/codex-logs" }]

    [[redact]]
    kind = "internal-token"
    pattern = "itk_[A-Za-z0-9]{20}"
"""

from __future__ import annotations

import dataclasses
import re
import typing as t
from pathlib import Path

from bus.config import SECTIONS, ConfigFileError, check_keys, finite, read_config_document

if t.TYPE_CHECKING:
    from bus.paths import Paths

AGENT_PROVIDERS = ("codex", "claude", "claude-monitor")
TARGET_PROVIDERS = (*AGENT_PROVIDERS, "none")
DEFAULT_INTERVALS: dict[str, float] = {"codex": 30.0, "claude": 30.0, "claude-monitor": 15.0}
#: The keys each table may hold; anything else is a :class:`ConfigError` naming the key.
SCRAPER_KEYS = (
    "interval", "output", "file", "history_lines", "escapes", "sweep_interval", "stale_after",
    "capture_timeout",
)
#: More scrollback than any tmux keeps (its default history-limit is 2,000 lines).
MAX_HISTORY = 1_000_000
OUTPUT_KEYS = ("debounce", "max_wait", "min_interval")
FILE_KEYS = ("debounce", "paths")
SERVER_KEYS = ("socket_name", "socket_path")
WATCH_KEYS = ("provider", "path")
REDACT_KEYS = ("kind", "pattern")


class ConfigError(ValueError):
    """The config file is unreadable or holds a bad value; the message names the key."""


@dataclasses.dataclass(frozen=True)
class ServerSpec:
    """One tmux server: ``-L socket_name``, ``-S socket_path``, or neither (the default)."""

    socket_name: str | None = None
    socket_path: str | None = None

    @property
    def label(self) -> str:
        """How frames name this server (``pane.server``)."""
        if self.socket_path:
            return self.socket_path
        return self.socket_name or "default"

    @classmethod
    def from_tmux_args(cls, args: t.Sequence[str]) -> ServerSpec:
        """``["-L", name]``, ``["-S", path]`` or ``[]`` (tmux's own spelling) as a spec."""
        if len(args) == 2 and args[0] == "-L":
            return cls(socket_name=args[1])
        if len(args) == 2 and args[0] == "-S":
            return cls(socket_path=args[1])
        if not args:
            return cls()
        msg = f"not a tmux server selection: {list(args)!r}"
        raise ConfigError(msg)

    def tmux_args(self) -> list[str]:
        """The global tmux options selecting this server."""
        if self.socket_path:
            return ["-S", self.socket_path]
        if self.socket_name:
            return ["-L", self.socket_name]
        return []


@dataclasses.dataclass(frozen=True)
class TargetRule:
    """A config entry naming panes explicitly. Every given field must match (globs).

    ``tmux_window`` (the config key ``window``) matches the tmux window's index or name.
    """

    provider: str
    pane: str | None = None
    session: str | None = None
    tmux_window: str | None = None
    title: str | None = None
    command: str | None = None


@dataclasses.dataclass(frozen=True)
class WatchedPath:
    """An extra path whose file events snapshot the panes of ``provider``."""

    provider: str
    path: Path


@dataclasses.dataclass(frozen=True)
class ScraperConfig:
    """Every scraper setting, with the defaults a user gets without a config file."""

    servers: tuple[ServerSpec, ...] = (ServerSpec(),)
    targets: tuple[TargetRule, ...] = ()
    intervals: dict[str, float] = dataclasses.field(
        default_factory=lambda: dict(DEFAULT_INTERVALS)
    )
    sweep_interval: float = 10.0
    output_debounce: float = 0.003
    output_max_wait: float = 0.1
    output_min_interval: float = 0.2
    file_debounce: float = 1.0
    history_lines: int = 0
    escapes: bool = False
    stale_after: float = 600.0
    watch_paths: tuple[WatchedPath, ...] = ()
    redact_patterns: tuple[tuple[str, str], ...] = ()
    capture_timeout: float = 2.0

    def interval_for(self, provider: str) -> float:
        """Timer interval of ``provider`` (the shortest configured one for unknown names)."""
        return self.intervals.get(provider, min(self.intervals.values(), default=30.0))

    def with_servers(self, servers: t.Sequence[ServerSpec]) -> ScraperConfig:
        """A copy watching ``servers`` instead (the CLI's ``-L``/``-S`` override the file)."""
        return dataclasses.replace(self, servers=tuple(servers))

    def with_interval(self, seconds: float) -> ScraperConfig:
        """A copy with one timer interval for every provider (``--interval``)."""
        return dataclasses.replace(self, intervals=dict.fromkeys(DEFAULT_INTERVALS, seconds))


def server_from_options(socket_name: str | None, socket_path: str | None) -> ServerSpec | None:
    """The server named by ``-L``/``-S`` on a command line, or None when neither was given."""
    if socket_path:
        return ServerSpec(socket_path=str(Path(socket_path).expanduser()))
    if socket_name:
        return ServerSpec(socket_name=socket_name)
    return None


def load_for_command_line(
    paths: Paths,
    socket_name: str | None = None,
    socket_path: str | None = None,
    interval: float | None = None,
) -> ScraperConfig:
    """The config file with ``-L``/``-S`` and ``--interval`` applied over it."""
    config = load_config(paths)
    chosen = server_from_options(socket_name, socket_path)
    if chosen is not None:
        config = config.with_servers([chosen])
    if interval is not None:
        config = config.with_interval(_positive(interval, "--interval"))
    return config


def load_config(paths: Paths) -> ScraperConfig:
    """Read ``paths.config_file``; defaults when the file does not exist."""
    return load_config_file(paths.config_file)


def load_config_file(path: Path) -> ScraperConfig:
    """Read one TOML file into a :class:`ScraperConfig`."""
    try:
        data = read_config_document(path)
    except ConfigFileError as exc:
        raise ConfigError(str(exc)) from None
    if not data:
        return ScraperConfig()
    return config_from_mapping(data, where=str(path))


def config_from_mapping(data: t.Mapping[str, t.Any], where: str = "config") -> ScraperConfig:
    """Build a config from parsed TOML (tests and ``panebus up`` pass mappings directly)."""
    defaults = ScraperConfig()
    _check_keys(data, SECTIONS, where)
    scraper = _table(data, "scraper", where)
    _check_keys(scraper, SCRAPER_KEYS, f"{where}: scraper")
    intervals = dict(DEFAULT_INTERVALS)
    interval_table = _table(scraper, "interval", f"{where}: scraper")
    _check_keys(interval_table, AGENT_PROVIDERS, f"{where}: scraper.interval")
    for name, value in interval_table.items():
        intervals[name] = _positive(value, f"{where}: scraper.interval.{name}")
    output = _table(scraper, "output", f"{where}: scraper")
    _check_keys(output, OUTPUT_KEYS, f"{where}: scraper.output")
    files = _table(scraper, "file", f"{where}: scraper")
    _check_keys(files, FILE_KEYS, f"{where}: scraper.file")
    return ScraperConfig(
        servers=_servers(data.get("servers", []), where) or defaults.servers,
        targets=_targets(data.get("targets", []), where),
        intervals=intervals,
        sweep_interval=_positive(
            scraper.get("sweep_interval", defaults.sweep_interval), f"{where}: sweep_interval"
        ),
        output_debounce=_positive(
            output.get("debounce", defaults.output_debounce), f"{where}: scraper.output.debounce"
        ),
        output_max_wait=_positive(
            output.get("max_wait", defaults.output_max_wait), f"{where}: scraper.output.max_wait"
        ),
        output_min_interval=_non_negative(
            output.get("min_interval", defaults.output_min_interval),
            f"{where}: scraper.output.min_interval",
        ),
        file_debounce=_positive(
            files.get("debounce", defaults.file_debounce), f"{where}: scraper.file.debounce"
        ),
        history_lines=_history(scraper.get("history_lines", 0), where),
        escapes=_bool(scraper.get("escapes", False), f"{where}: scraper.escapes"),
        stale_after=_positive(
            scraper.get("stale_after", defaults.stale_after), f"{where}: scraper.stale_after"
        ),
        watch_paths=_watch_paths(files.get("paths", []), where),
        redact_patterns=_redactions(data.get("redact", []), where),
        capture_timeout=_positive(
            scraper.get("capture_timeout", defaults.capture_timeout),
            f"{where}: scraper.capture_timeout",
        ),
    )


def _check_keys(table: t.Mapping[str, t.Any], valid: t.Iterable[str], where: str) -> None:
    """A key nobody reads is an error naming it and the closest valid one (a typo)."""
    check_keys(table, valid, where, ConfigError)


def _table(data: t.Mapping[str, t.Any], key: str, where: str) -> t.Mapping[str, t.Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        msg = f"{where}: [{key}] must be a table"
        raise ConfigError(msg)
    return value


def _list_of_tables(value: t.Any, what: str) -> list[dict[str, t.Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        msg = f"{what} must be an array of tables"
        raise ConfigError(msg)
    return value


def _positive(value: t.Any, what: str) -> float:
    if not finite(value) or value <= 0:
        msg = f"{what} must be a positive number, not {value!r}"
        raise ConfigError(msg)
    return float(value)


def _non_negative(value: t.Any, what: str) -> float:
    if not finite(value) or value < 0:
        msg = f"{what} must be a number ≥ 0, not {value!r}"
        raise ConfigError(msg)
    return float(value)


def _bool(value: t.Any, what: str) -> bool:
    if not isinstance(value, bool):
        msg = f"{what} must be true or false, not {value!r}"
        raise ConfigError(msg)
    return value


def _history(value: t.Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_HISTORY:
        msg = f"{where}: scraper.history_lines must be a whole number 0..{MAX_HISTORY}, "
        msg += f"not {value!r}"
        raise ConfigError(msg)
    return int(value)


def _str_or_none(entry: t.Mapping[str, t.Any], key: str, what: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        msg = f"{what}.{key} must be a string"
        raise ConfigError(msg)
    return value


def _servers(value: t.Any, where: str) -> tuple[ServerSpec, ...]:
    servers = []
    for index, entry in enumerate(_list_of_tables(value, f"{where}: servers")):
        what = f"{where}: servers[{index}]"
        _check_keys(entry, SERVER_KEYS, what)
        name = _str_or_none(entry, "socket_name", what)
        path = _str_or_none(entry, "socket_path", what)
        if (name is None) == (path is None):
            msg = f"{what} needs exactly one of socket_name or socket_path"
            raise ConfigError(msg)
        servers.append(
            ServerSpec(socket_name=name, socket_path=str(Path(path).expanduser()) if path else None)
        )
    return tuple(servers)


def _targets(value: t.Any, where: str) -> tuple[TargetRule, ...]:
    rules = []
    for index, entry in enumerate(_list_of_tables(value, f"{where}: targets")):
        what = f"{where}: targets[{index}]"
        _check_keys(entry, ("provider", *_MATCH_KEYS), what)
        provider = entry.get("provider")
        if provider not in TARGET_PROVIDERS:
            msg = f"{what}.provider must be one of {TARGET_PROVIDERS}, not {provider!r}"
            raise ConfigError(msg)
        fields = {
            _MATCH_FIELDS.get(key, key): _str_or_none(entry, key, what) for key in _MATCH_KEYS
        }
        if not any(fields.values()):
            msg = f"{what} must name at least one of {_MATCH_KEYS}"
            raise ConfigError(msg)
        rules.append(TargetRule(provider=provider, **fields))
    return tuple(rules)


_MATCH_KEYS = ("pane", "session", "window", "title", "command")
#: A config key whose :class:`TargetRule` field has another name (the key is the user's).
_MATCH_FIELDS = {"window": "tmux_window"}


def _watch_paths(value: t.Any, where: str) -> tuple[WatchedPath, ...]:
    paths = []
    for index, entry in enumerate(_list_of_tables(value, f"{where}: scraper.file.paths")):
        what = f"{where}: scraper.file.paths[{index}]"
        _check_keys(entry, WATCH_KEYS, what)
        provider = entry.get("provider")
        path = entry.get("path")
        if provider not in AGENT_PROVIDERS or not isinstance(path, str) or not path:
            msg = f"{what} needs provider in {AGENT_PROVIDERS} and a path"
            raise ConfigError(msg)
        paths.append(WatchedPath(provider=provider, path=Path(path).expanduser()))
    return tuple(paths)


def _redactions(value: t.Any, where: str) -> tuple[tuple[str, str], ...]:
    patterns = []
    for index, entry in enumerate(_list_of_tables(value, f"{where}: redact")):
        what = f"{where}: redact[{index}]"
        _check_keys(entry, REDACT_KEYS, what)
        kind = entry.get("kind")
        pattern = entry.get("pattern")
        if not isinstance(kind, str) or not isinstance(pattern, str) or not pattern:
            msg = f"{what} needs string kind and pattern"
            raise ConfigError(msg)
        try:
            re.compile(pattern)  # as scraper.redact.Redactor compiles it
        except (re.error, OverflowError, RecursionError, ValueError) as exc:
            msg = f"{what}.pattern {pattern!r} does not compile: {exc}"
            raise ConfigError(msg.replace("\n", " ")) from None
        patterns.append((kind, pattern))
    return tuple(patterns)
