"""The one place that knows where panebus reads, writes and binds.

``PANEBUS_HOME=DIR`` relocates everything under ``DIR`` (config, runtime, cache, data, state),
which is what every test and every user with two setups needs. Without it, the XDG base
directories are used through platformdirs, and the runtime dir (sockets) is
``$XDG_RUNTIME_DIR/panebus`` or a private per-user fallback under the temp dir.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import tempfile
from pathlib import Path

import platformdirs

APP = "panebus"
PRIVATE_DIR_MODE = 0o700


class InsecureDirectoryError(PermissionError):
    """A directory that must be private is owned by someone else or open to others."""


@dataclasses.dataclass(frozen=True)
class Paths:
    """Resolved directories. Build with :meth:`Paths.from_env`."""

    config_dir: Path
    runtime_dir: Path
    cache_dir: Path
    data_dir: Path
    state_dir: Path
    config_override: Path | None = None

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> Paths:
        """Resolve every directory from ``PANEBUS_HOME`` or the XDG variables."""
        env = os.environ if environ is None else environ
        override = env.get("PANEBUS_CONFIG")
        config_override = Path(override).expanduser().absolute() if override else None
        home = env.get("PANEBUS_HOME")
        if home:
            root = Path(home).expanduser().absolute()
            return cls(
                config_override=config_override,
                config_dir=root / "config",
                runtime_dir=root / "run",
                cache_dir=root / "cache",
                data_dir=root / "data",
                state_dir=root / "state",
            )
        runtime = env.get("XDG_RUNTIME_DIR")
        if runtime:
            runtime_dir = Path(runtime) / APP
        else:
            runtime_dir = Path(tempfile.gettempdir()) / f"{APP}-{os.getuid()}"
        return cls(
            config_override=config_override,
            config_dir=Path(platformdirs.user_config_dir(APP)),
            runtime_dir=runtime_dir,
            cache_dir=Path(platformdirs.user_cache_dir(APP)),
            data_dir=Path(platformdirs.user_data_dir(APP)),
            state_dir=Path(platformdirs.user_state_dir(APP)),
        )

    @property
    def config_file(self) -> Path:
        """The TOML config file; ``PANEBUS_CONFIG=FILE`` names another one (layouts use it)."""
        return self.config_override or self.config_dir / "config.toml"

    @property
    def alias_dir(self) -> Path:
        """Where the alias cache writes ``state.json`` and one line per alias."""
        return self.cache_dir / "alias"

    @property
    def archive_dir(self) -> Path:
        """Default root of the raw-frame archive."""
        return self.data_dir / "archive"

    @property
    def window_log(self) -> Path:
        """Default JSONL window log."""
        return self.data_dir / "windows.jsonl"

    @property
    def keys_dir(self) -> Path:
        """CURVE key pairs for tcp endpoints."""
        return self.config_dir / "keys"

    def private_runtime_dir(self) -> Path:
        """Create (0700) and return the runtime dir where ipc sockets live."""
        return ensure_private_dir(self.runtime_dir)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700, or tighten it, and refuse one owned by another user.

    Sockets in this dir carry pane text, which can hold secrets: nobody else may list or
    connect to them.
    """
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    info = path.stat()
    if info.st_uid != os.getuid():
        msg = f"{path} is owned by uid {info.st_uid}, not by you; refusing to use it"
        raise InsecureDirectoryError(msg)
    if stat.S_IMODE(info.st_mode) != PRIVATE_DIR_MODE:
        path.chmod(PRIVATE_DIR_MODE)
    return path
