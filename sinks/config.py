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


@dataclasses.dataclass(frozen=True)
class SinksConfig:
    """Every sink's settings, resolved to absolute paths."""

    archive: ArchiveConfig
    alias_dir: Path
    window_log: Path
    feature_log: Path
    health_interval: float = 5.0

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
