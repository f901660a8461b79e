"""Agent dirs resolve the way the agents resolve them (CODEX_HOME, CLAUDE_CONFIG_DIR)."""

from __future__ import annotations

from pathlib import Path

from scraper.sources import locations


def test_codex_home_default_and_override() -> None:
    assert locations.codex_home({"HOME": "/h"}) == Path("/h/.codex")
    assert locations.codex_sessions_dir({"HOME": "/h"}) == Path("/h/.codex/sessions")
    env = {"HOME": "/h", "CODEX_HOME": "~/alt-codex"}
    assert locations.codex_sessions_dir(env) == Path("/h/alt-codex/sessions")
    assert locations.codex_home({"HOME": "/h", "CODEX_HOME": "/x/c"}) == Path("/x/c")


def test_claude_dirs_default_and_override() -> None:
    assert locations.claude_config_dirs({"HOME": "/h"}) == [
        Path("/h/.claude"), Path("/h/.config/claude")
    ]
    env = {"HOME": "/h", "XDG_CONFIG_HOME": "/cfg"}
    assert locations.claude_projects_dirs(env) == [
        Path("/h/.claude/projects"), Path("/cfg/claude/projects")
    ]
    env = {"HOME": "/h", "CLAUDE_CONFIG_DIR": "/a, ~/b"}
    assert locations.claude_config_dirs(env) == [Path("/a"), Path("/h/b")]
    assert locations.claude_settings_files({"HOME": "/h", "CLAUDE_CONFIG_DIR": "/a"}) == [
        Path("/a/settings.json"), Path("/a/settings.local.json")
    ]


def test_panebus_home_fixture_points_agents_at_temp_dirs(panebus_home: Path) -> None:
    home = panebus_home.parent / "home"
    assert locations.codex_sessions_dir() == home / ".codex" / "sessions"
    assert locations.claude_config_dirs() == [home / ".claude"]


def test_rollout_names_and_nearest_existing(tmp_path: Path) -> None:
    assert locations.is_rollout_file("/s/2026/11/25/rollout-2026-11-25T10-00-00-abc.jsonl")
    assert not locations.is_rollout_file("/s/history.jsonl")
    assert not locations.is_rollout_file("/s/rollout-x.json")
    missing = tmp_path / "a" / "b" / "c"
    assert locations.nearest_existing(missing) == tmp_path
    (tmp_path / "a").mkdir()
    assert locations.nearest_existing(missing) == tmp_path / "a"
