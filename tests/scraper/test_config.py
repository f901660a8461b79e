"""The scraper's config: defaults without a file, every key read, bad values named."""

from __future__ import annotations

import math
import re
import typing as t

import pytest

from bus.paths import Paths
from scraper.config import (
    ConfigError,
    ScraperConfig,
    ServerSpec,
    TargetRule,
    config_from_mapping,
    load_config,
    load_config_file,
    server_from_options,
)

if t.TYPE_CHECKING:
    from pathlib import Path

FULL = """
[[servers]]
socket_name = "work"
[[servers]]
socket_path = "/tmp/tmux-1000/other"

[[targets]]
pane = "%3"
provider = "codex"
[[targets]]
session = "scratch"
provider = "none"

[scraper]
history_lines = 50
escapes = true
sweep_interval = 5
stale_after = 120
[scraper.interval]
codex = 10
claude-monitor = 5.5
[scraper.output]
debounce = 0.2
max_wait = 1.5
min_interval = 0.5
[scraper.file]
debounce = 0.5
paths = [{ provider = "claude", path = "/srv/claude-logs" }]

[[redact]]
kind = "internal-token"
pattern = "itk_[A-Za-z0-9]{20}"
"""


def test_missing_file_gives_defaults(panebus_home: Path) -> None:
    config = load_config(Paths.from_env())
    assert config == ScraperConfig()
    assert config.servers == (ServerSpec(),)
    assert config.interval_for("codex") == 30.0


def test_full_file(panebus_home: Path) -> None:
    paths = Paths.from_env()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(FULL, encoding="utf-8")
    config = load_config(paths)
    assert config.servers == (
        ServerSpec(socket_name="work"),
        ServerSpec(socket_path="/tmp/tmux-1000/other"),
    )
    assert config.targets == (
        TargetRule(provider="codex", pane="%3"),
        TargetRule(provider="none", session="scratch"),
    )
    assert config.interval_for("codex") == 10.0
    assert config.interval_for("claude") == 30.0
    assert config.interval_for("claude-monitor") == 5.5
    assert (config.history_lines, config.escapes) == (50, True)
    assert (config.sweep_interval, config.stale_after) == (5.0, 120.0)
    assert (config.output_debounce, config.output_max_wait, config.file_debounce) == (
        0.2, 1.5, 0.5
    )
    assert config.output_min_interval == 0.5
    assert [(w.provider, str(w.path)) for w in config.watch_paths] == [
        ("claude", "/srv/claude-logs")
    ]
    assert config.redact_patterns == (("internal-token", "itk_[A-Za-z0-9]{20}"),)


def test_the_window_key_names_a_tmux_window(panebus_home: Path) -> None:
    """The config key stays ``window`` (the user's); the rule field says which window it is."""
    paths = Paths.from_env()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(
        '[[targets]]\nwindow = "agents"\nprovider = "codex"\n', encoding="utf-8"
    )
    assert load_config(paths).targets == (TargetRule(provider="codex", tmux_window="agents"),)


class Bad(t.NamedTuple):
    test_id: str
    data: dict[str, t.Any]
    message: str


BAD = [
    Bad("negative-interval", {"scraper": {"interval": {"codex": -1}}}, "scraper.interval.codex"),
    Bad(
        "unknown-provider",
        {"scraper": {"interval": {"gemini": 3}}},
        "scraper.interval: unknown key 'gemini'",
    ),
    Bad("server-both", {"servers": [{"socket_name": "a", "socket_path": "/b"}]}, "exactly one"),
    Bad("target-provider", {"targets": [{"pane": "%1", "provider": "vim"}]}, "targets[0]"),
    Bad("target-empty", {"targets": [{"provider": "codex"}]}, "at least one"),
    Bad("history", {"scraper": {"history_lines": -5}}, "history_lines"),
    Bad("escapes", {"scraper": {"escapes": "yes"}}, "escapes"),
    Bad("redact", {"redact": [{"kind": "x"}]}, "redact[0]"),
    Bad(
        "redact-regex",
        {"redact": [{"kind": "x", "pattern": "tok_(["}]},
        "redact[0].pattern 'tok_([' does not compile",
    ),
    Bad("nan", {"scraper": {"stale_after": math.nan}}, "stale_after must be a positive number"),
    Bad("inf", {"scraper": {"interval": {"codex": math.inf}}}, "scraper.interval.codex must"),
    Bad("zero", {"scraper": {"sweep_interval": 0}}, "sweep_interval must be a positive"),
    Bad("huge", {"scraper": {"capture_timeout": 10**400}}, "capture_timeout must be a positive"),
    Bad("negative", {"scraper": {"output": {"min_interval": -0.5}}}, "min_interval must be"),
    Bad("history-huge", {"scraper": {"history_lines": 10**12}}, "history_lines must be"),
    Bad("typo-top", {"scrapper": {}}, "unknown key 'scrapper' (did you mean 'scraper'?)"),
    Bad(
        "typo-scraper",
        {"scraper": {"intervall": {"codex": 3}}},
        "scraper: unknown key 'intervall' (did you mean 'interval'?)",
    ),
    Bad(
        "typo-output",
        {"scraper": {"output": {"debounse": 1}}},
        "scraper.output: unknown key 'debounse' (did you mean 'debounce'?)",
    ),
    Bad(
        "typo-target",
        {"targets": [{"provider": "codex", "pain": "%1"}]},
        "targets[0]: unknown key 'pain' (did you mean 'pane'?)",
    ),
    Bad(
        "typo-server",
        {"servers": [{"socket": "x"}]},
        "servers[0]: unknown key 'socket'",
    ),
    Bad(
        "typo-redact",
        {"redact": [{"kind": "x", "patern": "y"}]},
        "redact[0]: unknown key 'patern' (did you mean 'pattern'?)",
    ),
    Bad(
        "typo-file-path",
        {"scraper": {"file": {"paths": [{"provider": "codex", "dir": "/x"}]}}},
        "scraper.file.paths[0]: unknown key 'dir'",
    ),
]


@pytest.mark.parametrize("case", BAD, ids=[c.test_id for c in BAD])
def test_bad_value_is_named(case: Bad) -> None:
    with pytest.raises(ConfigError, match=re.escape(case.message)) as raised:
        config_from_mapping(case.data)
    assert "\n" not in str(raised.value)  # one line


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[scraper\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config_file(path)


def test_command_line_overrides() -> None:
    assert server_from_options("x", None) == ServerSpec(socket_name="x")
    assert server_from_options(None, "/s") == ServerSpec(socket_path="/s")
    assert server_from_options(None, None) is None
    config = ScraperConfig().with_interval(2.0).with_servers([ServerSpec(socket_name="x")])
    assert config.interval_for("claude") == 2.0
    assert ServerSpec(socket_name="x").tmux_args() == ["-L", "x"]


def test_load_for_command_line(panebus_home: Path) -> None:
    from scraper.config import load_for_command_line

    paths = Paths.from_env()
    config = load_for_command_line(paths, "mine", None, 3.0)
    assert config.servers == (ServerSpec(socket_name="mine"),)
    assert config.interval_for("codex") == 3.0
    with pytest.raises(ConfigError, match="--interval"):
        load_for_command_line(paths, None, None, 0.0)
