"""The parsers' registry: detection order, ANSI stripping, forced providers, third parties."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from scraper.parsers import registry
from scraper.parsers.model import Usage
from scraper.parsers.registry import ParserRegistry
from tests import FIXTURES

SCREENS = FIXTURES / "screens"
SEEN = dt.datetime(2026, 11, 25, 6, 39, 11, tzinfo=dt.timezone.utc)
UTC = dt.timezone.utc


def _screen(relative: str) -> str:
    path = SCREENS / relative
    return path.read_text(encoding="utf-8")


class DetectCase(t.NamedTuple):
    test_id: str
    path: str
    provider: str | None


DETECT_CASES = [
    DetectCase("claude-usage", "claude/claude-code-2.1.197-usage-tab-max-120x40.ansi.txt",
               "claude"),
    DetectCase("claude-2.0", "claude/claude-code-2.0.76-usage-tab-max-120x40.txt", "claude"),
    DetectCase("claude-idle", "claude/claude-code-2.1.197-main-idle-max.txt", "claude"),
    DetectCase("monitor", "claude/claude-monitor-4.0.0-realtime-max5-1.ansi.txt", "claude-monitor"),
    DetectCase("monitor-idle", "claude/claude-monitor-4.0.0-realtime-idle-1.txt", "claude-monitor"),
    DetectCase("codex-status", "codex/codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn.txt",
               "codex"),
    DetectCase("codex-working", "codex/codex-0.169.0-working-spinner-chatgpt.ansi.txt", "codex"),
]


def test_builtins_in_detection_order() -> None:
    assert registry.providers()[:3] == ("claude-monitor", "codex", "claude")


@pytest.mark.parametrize("case", DETECT_CASES, ids=[c.test_id for c in DETECT_CASES])
def test_detect_provider(case: DetectCase) -> None:
    text = _screen(case.path)
    assert registry.detect_provider(text) == case.provider
    usage = registry.parse_screen(text, SEEN, UTC)
    assert usage is not None
    assert usage.provider == case.provider


def test_unrecognised_text_gives_none() -> None:
    assert registry.detect_provider("$ ls\nfoo bar\n") is None
    assert registry.parse_screen("$ ls\nfoo bar\n", SEEN, UTC) is None
    assert registry.pane_state("$ ls\n") == ("unknown", "no agent screen recognised")


def test_forced_provider_parses_without_detection() -> None:
    usage = registry.parse_screen("nothing recognisable\n", SEEN, UTC, provider="claude")
    assert usage is not None
    assert (usage.provider, usage.limits) == ("claude", [])
    assert registry.parse_screen("x", SEEN, UTC, provider="no-such") is None


def test_ansi_is_stripped_before_parsing() -> None:
    plain = registry.parse_screen(
        _screen("claude/claude-code-2.1.197-usage-tab-max-120x40.txt"), SEEN, UTC
    )
    coloured = registry.parse_screen(
        _screen("claude/claude-code-2.1.197-usage-tab-max-120x40.ansi.txt"), SEEN, UTC
    )
    assert plain is not None
    assert coloured is not None
    assert plain.to_dict() == coloured.to_dict()


def test_pane_state_through_the_parsers() -> None:
    assert registry.pane_state(_screen("claude/claude-code-2.1.197-main-idle-max.txt")) == (
        "idle", "prompt")
    assert registry.pane_state(
        _screen("claude/claude-monitor-4.0.0-realtime-idle-1.txt"), provider="claude-monitor"
    ) == ("idle", "no active session")


class EchoParser:
    """A third-party parser without ``pane_state``: the registry falls back to ``parse``."""

    provider = "echo"

    def detect(self, text: str) -> bool:
        return text.startswith("ECHO")

    def parse(self, text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> Usage:
        return Usage(provider="echo", screen="echo.main", state="working", state_reason="echo")


class BrokenParser:
    provider = "broken"

    def detect(self, text: str) -> bool:
        raise RuntimeError("boom")

    def parse(self, text: str, observed_at: dt.datetime, zone: dt.tzinfo) -> Usage:
        raise RuntimeError("boom")


def test_third_party_registration() -> None:
    own = ParserRegistry()
    own.register(BrokenParser())
    own.register(EchoParser())
    assert own.providers() == ("broken", "echo")
    assert own.detect_provider("\x1b[1mECHO\x1b[0m hi") == "echo"  # broken detect is skipped
    usage = own.parse_screen("ECHO hi", SEEN, UTC)
    assert usage is not None
    assert usage.screen == "echo.main"
    assert own.pane_state("ECHO hi") == ("working", "echo")
    with pytest.raises(ValueError, match="already registered"):
        own.register(EchoParser())
    own.register(EchoParser(), replace=True)
    with pytest.raises(ValueError, match="provider name"):
        own.register(t.cast("t.Any", object()))


def test_default_registry_register() -> None:
    class Unique(EchoParser):
        provider = "test-registry-unique"

    registry.register(Unique())
    try:
        assert "test-registry-unique" in registry.providers()
    finally:
        registry.default_registry().unregister("test-registry-unique")


PLUGIN = '''
from __future__ import annotations

from scraper.parsers.model import Usage


class DemoParser:
    provider = "demo-plugin"

    def detect(self, text):
        return "DEMO" in text

    def parse(self, text, observed_at, zone):
        return Usage(provider="demo-plugin", screen="demo.main")
'''


def test_entry_point_plugins_are_loaded(
    tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "panebus_demo_plugin.py").write_text(PLUGIN, encoding="utf-8")
    dist = tmp_path / "panebus_demo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: panebus-demo-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[panebus.parsers]\ndemo = panebus_demo_plugin:DemoParser\n"
        "broken = panebus_demo_plugin:NoSuchParser\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    own = ParserRegistry()
    registry.load_entry_points(own)
    assert own.providers() == ("demo-plugin",)
    assert own.detect_provider("a DEMO screen") == "demo-plugin"
    assert "cannot load parser entry point broken" in caplog.text
