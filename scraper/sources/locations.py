"""Where the agents keep their files: the one place that resolves Codex and Claude dirs.

Codex reads ``$CODEX_HOME`` (default ``~/.codex``) and writes its session logs under
``sessions/YYYY/MM/DD/rollout-*.jsonl``. Claude Code reads ``$CLAUDE_CONFIG_DIR`` (default
``~/.claude``; recent installs may also use ``$XDG_CONFIG_HOME/claude``, which ccusage reads
too) and writes transcripts under ``projects/``. The rollout tailer and the scraper's file
triggers both watch these dirs, so they resolve them here, the way the agents themselves do,
and honour the same variables (tests point them at temp dirs).

Pure apart from reading the environment mapping it is given: nothing here creates a dir.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

ROLLOUT_GLOB = "rollout-*.jsonl"


def _env(environ: t.Mapping[str, str] | None) -> t.Mapping[str, str]:
    return os.environ if environ is None else environ


def _home(env: t.Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _expand(text: str, env: t.Mapping[str, str]) -> Path:
    if text == "~" or text.startswith("~/"):
        return _home(env) / text[2:]
    return Path(text)


def codex_home(environ: t.Mapping[str, str] | None = None) -> Path:
    """``$CODEX_HOME`` when set (as Codex reads it), else ``~/.codex``."""
    env = _env(environ)
    value = env.get("CODEX_HOME", "").strip()
    return _expand(value, env) if value else _home(env) / ".codex"


def codex_sessions_dir(environ: t.Mapping[str, str] | None = None) -> Path:
    """The dir Codex writes ``YYYY/MM/DD/rollout-*.jsonl`` session logs into."""
    return codex_home(environ) / "sessions"


def claude_config_dirs(environ: t.Mapping[str, str] | None = None) -> list[Path]:
    """Claude Code's config dirs, most specific first.

    ``CLAUDE_CONFIG_DIR`` wins alone when set (a comma-separated list is accepted, as ccusage
    accepts one). Otherwise ``~/.claude`` and ``$XDG_CONFIG_HOME/claude`` (default
    ``~/.config/claude``), the two places Claude Code versions have used.
    """
    env = _env(environ)
    configured = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        return [_expand(part.strip(), env) for part in configured.split(",") if part.strip()]
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    xdg_base = _expand(xdg, env) if xdg else _home(env) / ".config"
    return [_home(env) / ".claude", xdg_base / "claude"]


def claude_projects_dirs(environ: t.Mapping[str, str] | None = None) -> list[Path]:
    """Where Claude Code writes session transcripts (``<config dir>/projects``)."""
    return [base / "projects" for base in claude_config_dirs(environ)]


def claude_settings_files(environ: t.Mapping[str, str] | None = None) -> list[Path]:
    """User settings files Claude Code reads (``statusLine`` is configured there)."""
    files: list[Path] = []
    for base in claude_config_dirs(environ):
        files += [base / "settings.json", base / "settings.local.json"]
    return files


def is_rollout_file(path: Path | str) -> bool:
    """Whether ``path`` is named like a Codex session log."""
    return Path(path).match(ROLLOUT_GLOB)


def nearest_existing(path: Path) -> Path | None:
    """``path`` or its closest existing ancestor directory (watch that until ``path`` appears)."""
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return candidate
    return None
