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

from bus.config import ConfigFileError, read_config_document

if t.TYPE_CHECKING:
    from bus.paths import Paths

FSYNC_POLICIES = ("always", "interval", "never")


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
        table = _table(document, "sinks")
        archive_t = _table(table, "archive", "sinks.")
        fsync = archive_t.get("fsync", base.archive.fsync)
        if fsync not in FSYNC_POLICIES:
            msg = f"sinks.archive.fsync must be one of {', '.join(FSYNC_POLICIES)}: {fsync!r}"
            raise SinkConfigError(msg)
        archive = ArchiveConfig(
            root=_path(archive_t, "root", base.archive.root, "sinks.archive."),
            fsync=fsync,
            fsync_interval=_number(archive_t, "fsync_interval", base.archive.fsync_interval),
            fsync_frames=int(_number(archive_t, "fsync_frames", base.archive.fsync_frames)),
            max_age_days=int(_number(archive_t, "max_age_days", base.archive.max_age_days)),
            max_bytes=int(_number(archive_t, "max_bytes", base.archive.max_bytes)),
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
            health_interval=_number(table, "health_interval", base.health_interval),
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


def _number(table: t.Mapping[str, t.Any], key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        msg = f"sinks: {key} must be a number >= 0, not {value!r}"
        raise SinkConfigError(msg)
    return float(value)
