"""The sinks' part of the TOML config file (``Paths.config_file``), with their defaults.

Example (the tracker layout uses relative paths, resolved against the working directory)::

    [sinks.archive]
    root = "data/week0/live/automation"   # default: <data_dir>/archive
    fsync = "interval"                    # always | interval | never
    fsync_interval = 1.0                  # seconds (interval policy)
    fsync_frames = 1000                   # ... or this many frames, whichever comes first
    max_age_days = 90                     # retention: 0 keeps every day
    max_bytes = 0                         # retention: 0 means no size cap
    [sinks.alias]
    dir = "~/.cache/panebus/alias"        # default: Paths.alias_dir
    [sinks.windows]
    log = "data/windows.jsonl"            # default: Paths.window_log
    [sinks.featurelog]
    path = "docs/Tasks/tracker_feature_log.md"   # default: <data_dir>/tracker_feature_log.md

A missing file or table means the defaults; a bad value raises :class:`SinkConfigError` naming
the key. ``scraper/config.py`` reads the scraper's tables of the same file: sinks may not import
the scraper (imports flow ``scraper → bus ← sinks``).
"""

from __future__ import annotations

import dataclasses
import typing as t
from pathlib import Path

from bus.config import ConfigFileError, check_keys, finite, read_config_document

if t.TYPE_CHECKING:
    from bus.paths import Paths

FSYNC_POLICIES = ("always", "interval", "never")
#: The keys each table may hold; anything else is a :class:`SinkConfigError` naming the key.
SINKS_KEYS = ("archive", "alias", "windows", "featurelog", "health_interval")
ARCHIVE_KEYS = (
    "root", "fsync", "fsync_interval", "fsync_frames", "max_age_days", "max_bytes",
)


class SinkConfigError(ValueError):
    """A bad value in the ``[sinks]`` tables; the message names the key."""


@dataclasses.dataclass(frozen=True)
class ArchiveConfig:
    """Where and how the archive writes."""

    root: Path
    fsync: str = "interval"
    fsync_interval: float = 1.0
    fsync_frames: int = 1000
    max_age_days: int = 90
    max_bytes: int = 0


NOTIFY_KEYS = (
    "thresholds", "display", "bell", "desktop", "command", "quiet_hours", "settle_seconds",
    "refusals",
)


@dataclasses.dataclass(frozen=True)
class NotifyConfig:
    """The ``[notify]`` table: what to announce and where (docs/guide.md, "Notifications")."""

    thresholds: dict[str, tuple[float, ...]] = dataclasses.field(default_factory=dict)
    display: bool = True  # tmux display-message on the clients attached to the pane's session
    bell: bool = False  # ring the terminal bell of those clients too
    desktop: bool = True  # notify-send, when a desktop session bus exists
    command: str | None = None  # run with the event as JSON on stdin
    quiet_hours: tuple[str, str] | None = None  # ("22:00", "07:00"): only the bus and marker
    settle_seconds: float = 2.0
    refusals: int = 3


@dataclasses.dataclass(frozen=True)
class SinksConfig:
    """Every sink's settings, resolved to absolute paths."""

    archive: ArchiveConfig
    alias_dir: Path
    window_log: Path
    feature_log: Path
    health_interval: float = 30.0  # sys.sink.<name> frames: every subscriber reads each one
    notify: NotifyConfig = dataclasses.field(default_factory=NotifyConfig)

    @classmethod
    def defaults(cls, paths: Paths) -> SinksConfig:
        """The settings without a config file."""
        return cls(
            archive=ArchiveConfig(root=paths.archive_dir),
            alias_dir=paths.alias_dir,
            window_log=paths.window_log,
            feature_log=paths.data_dir / "tracker_feature_log.md",
        )

    @classmethod
    def load(cls, paths: Paths, file: Path | None = None) -> SinksConfig:
        """Read ``[sinks.*]`` from the config file (``Paths.config_file`` by default)."""
        config_file = paths.config_file if file is None else file
        base = cls.defaults(paths)
        try:
            document = read_config_document(config_file)
        except ConfigFileError as exc:
            raise SinkConfigError(str(exc)) from exc
        if not document:
            return base
        try:
            return cls._from_document(document, base)
        except SinkConfigError as exc:
            raise SinkConfigError(f"{config_file}: {exc}") from None  # which file, too

    @classmethod
    def _from_document(cls, document: t.Mapping[str, t.Any], base: SinksConfig) -> SinksConfig:
        table = _table(document, "sinks")
        check_keys(table, SINKS_KEYS, "sinks", SinkConfigError)
        archive_t = _table(table, "archive", "sinks.")
        check_keys(archive_t, ARCHIVE_KEYS, "sinks.archive", SinkConfigError)
        for name, key in (("alias", "dir"), ("windows", "log"), ("featurelog", "path")):
            check_keys(_table(table, name, "sinks."), (key,), f"sinks.{name}", SinkConfigError)
        fsync = archive_t.get("fsync", base.archive.fsync)
        if fsync not in FSYNC_POLICIES:
            msg = f"sinks.archive.fsync must be one of {', '.join(FSYNC_POLICIES)}: {fsync!r}"
            raise SinkConfigError(msg)
        archive = ArchiveConfig(
            root=_path(archive_t, "root", base.archive.root, "sinks.archive."),
            fsync=fsync,
            fsync_interval=_number(
                archive_t, "fsync_interval", base.archive.fsync_interval, "sinks.archive."
            ),
            fsync_frames=_whole(
                archive_t, "fsync_frames", base.archive.fsync_frames, "sinks.archive."
            ),
            max_age_days=_whole(
                archive_t, "max_age_days", base.archive.max_age_days, "sinks.archive."
            ),
            max_bytes=_whole(archive_t, "max_bytes", base.archive.max_bytes, "sinks.archive."),
        )
        return cls(
            archive=archive,
            alias_dir=_path(
                _table(table, "alias", "sinks."), "dir", base.alias_dir, "sinks.alias."
            ),
            window_log=_path(
                _table(table, "windows", "sinks."), "log", base.window_log, "sinks.windows."
            ),
            feature_log=_path(
                _table(table, "featurelog", "sinks."), "path", base.feature_log, "sinks.featurelog."
            ),
            health_interval=_number(
                table, "health_interval", base.health_interval, "sinks.", positive=True
            ),
            notify=_notify(_table(document, "notify")),
        )


def _table(document: t.Mapping[str, t.Any], key: str, where: str = "") -> dict[str, t.Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        msg = f"{where}{key} must be a table"
        raise SinkConfigError(msg)
    return value


def _path(table: t.Mapping[str, t.Any], key: str, default: Path, where: str) -> Path:
    value = table.get(key)
    if value is None:
        return default
    if not isinstance(value, str) or not value:
        msg = f"{where}{key} must be a non-empty string"
        raise SinkConfigError(msg)
    return Path(value).expanduser().absolute()


def _number(
    table: t.Mapping[str, t.Any],
    key: str,
    default: float,
    where: str = "",
    *,
    positive: bool = False,
) -> float:
    """A finite number ≥ 0 (> 0 with ``positive``: an interval of 0 would spin)."""
    value = table.get(key, default)
    if not finite(value) or value < 0 or (positive and value == 0):
        wanted = "a positive number" if positive else "a number >= 0"
        msg = f"{where}{key} must be {wanted}, not {value!r}"
        raise SinkConfigError(msg)
    return float(value)


def _whole(
    table: t.Mapping[str, t.Any], key: str, default: int, where: str, *, positive: bool = False
) -> int:
    """A whole number ≥ 0 (> 0 with ``positive``); ``2.0`` is accepted, ``2.5`` is not."""
    value = _number(table, key, default, where, positive=positive)
    if not value.is_integer():
        msg = f"{where}{key} must be a whole number, not {table.get(key)!r}"
        raise SinkConfigError(msg)
    return int(value)


def _clock(text: t.Any, key: str) -> str:
    parts = text.split(":") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or not (
        0 <= int(parts[0]) < 24 and 0 <= int(parts[1]) < 60
    ):
        msg = f"notify.{key} must be two times HH:MM-HH:MM, not {text!r}"
        raise SinkConfigError(msg)
    return f"{int(parts[0]):02d}:{int(parts[1]):02d}"


def _notify(table: t.Mapping[str, t.Any]) -> NotifyConfig:
    """``[notify]``: thresholds per provider, delivery switches, command, quiet hours."""
    base = NotifyConfig()
    check_keys(table, NOTIFY_KEYS, "notify", SinkConfigError)
    thresholds: dict[str, tuple[float, ...]] = {}
    for provider, values in _table(table, "thresholds", "notify.").items():
        if not isinstance(values, list) or not values or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 100
            for v in values
        ):
            msg = f"notify.thresholds.{provider} must be a list of percentages in (0, 100]"
            raise SinkConfigError(msg)
        thresholds[str(provider)] = tuple(sorted(float(v) for v in values))
    switches = {}
    for key in ("display", "bell", "desktop"):
        value = table.get(key, getattr(base, key))
        if not isinstance(value, bool):
            msg = f"notify.{key} must be true or false, not {value!r}"
            raise SinkConfigError(msg)
        switches[key] = value
    command = table.get("command")
    if command is not None and (not isinstance(command, str) or not command.strip()):
        msg = "notify.command must be a non-empty string"
        raise SinkConfigError(msg)
    quiet = table.get("quiet_hours")
    hours = None
    if quiet is not None:
        start, _, end = quiet.partition("-") if isinstance(quiet, str) else ("", "", "")
        hours = (_clock(start.strip(), "quiet_hours"), _clock(end.strip(), "quiet_hours"))
    refusals = _number(table, "refusals", base.refusals)
    if refusals < 1 or refusals != int(refusals):
        msg = f"notify.refusals must be a whole number >= 1, not {refusals!r}"
        raise SinkConfigError(msg)
    return NotifyConfig(
        thresholds=thresholds, command=command, quiet_hours=hours,
        settle_seconds=_number(table, "settle_seconds", base.settle_seconds),
        refusals=int(refusals), **switches,
    )
