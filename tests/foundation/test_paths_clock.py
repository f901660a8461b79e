"""PANEBUS_HOME relocates everything; the runtime dir is private; the clock speaks RFC 3339."""

from __future__ import annotations

import datetime as dt
import os
import stat
from typing import TYPE_CHECKING

import pytest

from bus.clock import now_rfc3339, parse_rfc3339, to_rfc3339, utcnow
from bus.paths import InsecureDirectoryError, Paths, ensure_private_dir

if TYPE_CHECKING:
    from pathlib import Path


def test_panebus_home_relocates_every_dir(panebus_home: Path) -> None:
    paths = Paths.from_env()
    for directory in (paths.config_dir, paths.runtime_dir, paths.cache_dir,
                      paths.data_dir, paths.state_dir):
        assert panebus_home in directory.parents


def test_xdg_dirs_without_panebus_home(tmp_path: Path) -> None:
    env = {"XDG_RUNTIME_DIR": str(tmp_path / "run"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    paths = Paths.from_env(env)
    assert paths.runtime_dir == tmp_path / "run" / "panebus"


def test_runtime_dir_is_created_private_and_tightened(panebus_home: Path) -> None:
    runtime = Paths.from_env().private_runtime_dir()
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
    runtime.chmod(0o755)
    ensure_private_dir(runtime)
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700
    assert runtime.stat().st_uid == os.getuid()


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to create a dir owned by another user")
def test_dir_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 65534, 65534)
    with pytest.raises(InsecureDirectoryError):
        ensure_private_dir(foreign)


def test_clock_round_trip_and_refuses_naive_times() -> None:
    moment = dt.datetime(2026, 11, 25, 6, 30, 19, tzinfo=dt.timezone.utc)
    assert to_rfc3339(moment) == "2026-11-25T06:30:19.000Z"
    assert parse_rfc3339("2026-11-25T06:30:19.000Z") == moment
    with pytest.raises(ValueError, match="naive"):
        to_rfc3339(dt.datetime(2026, 1, 1))


def test_now_follows_the_clock_to_the_millisecond() -> None:
    # now_rfc3339 keeps the text of the current millisecond: it must still move with time and
    # never round a millisecond (float seconds would turn .567 into .566).
    stamps = []
    for _ in range(2_000):
        before = to_rfc3339(utcnow())
        stamp = now_rfc3339()
        after = to_rfc3339(utcnow())
        assert before <= stamp <= after
        stamps.append(stamp)
    assert stamps == sorted(stamps)
    assert len(set(stamps)) > 1


def test_panebus_config_names_another_config_file(
    panebus_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Paths.from_env().config_file == panebus_home / "config" / "config.toml"
    monkeypatch.setenv("PANEBUS_CONFIG", str(tmp_path / "tracker.toml"))
    assert Paths.from_env().config_file == tmp_path / "tracker.toml"


def test_tracker_config_archives_under_week0_and_logs_features_in_docs(
    panebus_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from panebus.cli.layout import tracker_config_file
    from sinks.config import SinksConfig

    shipped = tracker_config_file()
    assert shipped is not None and shipped.name == "tracker.toml"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PANEBUS_CONFIG", str(shipped))
    config = SinksConfig.load(Paths.from_env())
    assert config.archive.root == tmp_path / "data/week0/live/automation"
    assert config.feature_log == tmp_path / "docs/Tasks/tracker_feature_log.md"
