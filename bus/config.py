"""The one reader of panebus's TOML config file; each part reads its own tables from it.

Scraper, sinks and bus endpoints share ``Paths.config_file``. Reading it in one place means
one error message for a broken file and one place that knows the 3.10 fallback (tomli).
"""

from __future__ import annotations

import sys
import typing as t

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if t.TYPE_CHECKING:
    from pathlib import Path


class ConfigFileError(ValueError):
    """The config file exists but cannot be read or is not valid TOML."""


def read_config_document(path: Path) -> dict[str, t.Any]:
    """The parsed TOML document, ``{}`` when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read config {path}: {exc}"
        raise ConfigFileError(msg) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"config {path} is not valid TOML: {exc}"
        raise ConfigFileError(msg) from exc
