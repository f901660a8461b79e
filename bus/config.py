"""The one reader of panebus's TOML config file; each part reads its own tables from it.

Scraper, sinks and bus endpoints share ``Paths.config_file``. Reading it in one place means
one error message for a broken file and one place that knows the 3.10 fallback (tomli).
A key nobody reads is an error, not a silent default: :func:`check_keys` names it and the
closest valid key (``sinks.archve`` → "did you mean 'archive'?"), so a typo cannot quietly
leave a setting at its default.
"""

from __future__ import annotations

import difflib
import math
import sys
import typing as t

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if t.TYPE_CHECKING:
    from pathlib import Path

#: The top-level tables and arrays of the config file, and who reads them.
SECTIONS = (
    "servers",  # scraper/config.py
    "targets",  # scraper/config.py
    "scraper",  # scraper/config.py
    "redact",  # scraper/config.py
    "sinks",  # sinks/config.py
    "notify",  # sinks/config.py
    "bus",  # bus/endpoints.py
)
#: Keys of the ``[bus]`` table (see :mod:`bus.endpoints`; several hosts:
#: :mod:`bus.federation_config`).
BUS_KEYS = (
    "publish", "subscribe", "snapshot", "insecure",
    "host", "listen", "upstream", "upstream_raw", "spool_max_mb",
)


class ConfigFileError(ValueError):
    """The config file cannot be read, is not valid TOML, or holds a key nobody reads."""


def unknown_key_message(key: str, valid: t.Iterable[str], where: str) -> str:
    """``<where>: unknown key 'x' (did you mean 'y'?)`` — one line, for any config table.

    >>> unknown_key_message("intervall", ["interval", "output"], "scraper")
    "scraper: unknown key 'intervall' (did you mean 'interval'?)"
    >>> unknown_key_message("zzz", ["interval"], "scraper")
    "scraper: unknown key 'zzz' (valid: interval)"
    """
    choices = sorted(valid)
    close = difflib.get_close_matches(key, choices, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else f"valid: {', '.join(choices) or 'none'}"
    return f"{where}: unknown key {key!r} ({hint})"


def check_keys(
    table: t.Mapping[str, t.Any],
    valid: t.Iterable[str],
    where: str,
    error: type[ValueError] = ConfigFileError,
) -> None:
    """Raise ``error`` (each part has its own) for the first key of ``table`` not in ``valid``."""
    allowed = set(valid)
    for key in table:
        if key not in allowed:
            raise error(unknown_key_message(str(key), allowed, where))


def finite(value: object) -> bool:
    """Whether ``value`` is a real number a setting can hold: no bool, nan or infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def read_config_document(path: Path) -> dict[str, t.Any]:
    """The parsed TOML document, ``{}`` when the file does not exist.

    Top-level keys and the ``[bus]`` table are checked here; each part checks its own tables.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read config {path}: {exc}"
        raise ConfigFileError(msg) from exc
    try:
        document = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4,300 digits
        msg = f"config {path} is not valid TOML: {exc}"
        raise ConfigFileError(msg.splitlines()[0]) from exc
    except RecursionError:  # thousands of nested inline tables
        msg = f"config {path} is nested too deeply"
        raise ConfigFileError(msg) from None
    check_keys(document, SECTIONS, str(path))
    bus = document.get("bus")
    if isinstance(bus, dict):
        check_keys(bus, BUS_KEYS, f"{path}: bus")
    return document
