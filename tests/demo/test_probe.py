"""Probes on real stand-in panes: capture a card and restore the pane, or refuse and change
nothing. The prompt checks are also run on the real fixture renders (``-e`` captures)."""

from __future__ import annotations

import re
import subprocess
import sys
import typing as t

import pytest

from bus.endpoints import Endpoints
from bus.subscribers import Subscriber
from panebus.oneshot import open_publisher
from scraper.config import ServerSpec
from scraper.parsers.text import strip_ansi
from scraper.probe import Prober, ProbeRefused, card_on_screen, prompt_text
from tests import FIXTURES
from tests.demo.conftest import screen, screen_with
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    import libtmux

    from bus.broker import Broker
    from tests.demo.conftest import StartAgent

SCREENS = FIXTURES / "screens"
COMMANDS = {"codex": "/status", "claude": "/usage"}


class PromptCase(t.NamedTuple):
    test_id: str
    file: str
    provider: str
    typed: str | None
    card: bool


PROMPTS = [
    PromptCase(
        "codex-composer", "codex/codex-0.169.0-main-composer-chatgpt-fresh", "codex", "", False
    ),
    PromptCase("codex-working", "codex/codex-0.169.0-working-spinner-chatgpt", "codex", "", True),
    PromptCase(
        "codex-status",
        "codex/codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn",
        "codex",
        "",
        True,
    ),
    PromptCase(
        "codex-trust",
        "codex/codex-0.169.0-trust-folder-prompt",
        "codex",
        "1.Trustandcontinue",
        False,
    ),
    PromptCase("claude-idle", "claude/claude-code-2.1.197-main-idle-max", "claude", "", False),
    PromptCase(
        "claude-usage", "claude/claude-code-2.1.197-usage-tab-max-120x40", "claude", None, True
    ),
]


@pytest.mark.parametrize("case", PROMPTS, ids=[c.test_id for c in PROMPTS])
def test_prompt_and_card_on_real_screens(case: PromptCase) -> None:
    path = SCREENS / f"{case.file}.ansi.txt"
    ansi = path.read_text(encoding="utf-8")
    assert prompt_text(case.provider, ansi) == case.typed
    assert card_on_screen(case.provider, strip_ansi(ansi)) is case.card


def need_parser(provider: str) -> None:
    """Probes decide 'idle' with the real parsers: skip while one is not installed."""
    from scraper.parsers.registry import providers

    assert provider in providers(), f"no {provider} parser registered"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``panebus ARGS`` as a user runs it (the test's PANEBUS_HOME is in the environment)."""
    return subprocess.run(
        [sys.executable, "-m", "panebus", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def prober(server: libtmux.Server, timeout: float = 10.0) -> Prober:
    return Prober(ServerSpec(socket_name=server.socket_name), timeout=timeout)


def type_text(pane: libtmux.Pane, text: str) -> None:
    pane.cmd("send-keys", "-t", pane.pane_id, "-l", text)


@pytest.mark.parametrize("provider", ["codex", "claude"])
def test_probe_captures_the_card_and_restores_the_pane(
    server: libtmux.Server, start_agent: StartAgent, provider: str
) -> None:
    need_parser(provider)
    pane = start_agent(provider)
    before = screen(pane)
    result = prober(server).probe(provider)
    assert result.pane.pane_id == pane.pane_id
    assert card_on_screen(provider, result.text)
    assert result.usage is not None
    assert len([lim for lim in result.usage.limits if lim.used_pct is not None]) >= 2
    assert result.restored
    after = screen(pane)
    if provider == "claude":
        assert after == before  # Esc closed the dialog
    else:  # Codex prints /status into the transcript, as the real one does: no Esc is sent
        assert prompt_text("codex", screen(pane, escapes=True)) == ""
        assert "5h limit:" in after
    assert result.raw is None  # no publisher given: nothing published


@pytest.mark.parametrize("provider", ["codex", "claude"])
@pytest.mark.parametrize(("width", "height"), [(40, 24), (50, 24), (80, 24)])
def test_probe_in_small_panes(
    server: libtmux.Server, start_agent: StartAgent, provider: str, width: int, height: int
) -> None:
    """Narrow or short panes: Codex drops its bars and wraps the reset phrase, Claude puts the
    reset beside the row title, the top of the card scrolls away — the probe still reads it."""
    need_parser(provider)
    pane = start_agent(provider, width=width, height=height)
    result = prober(server).probe(provider)
    assert result.restored
    assert result.usage is not None
    read = [lim for lim in result.usage.limits if lim.used_pct is not None]
    assert len(read) >= 2
    assert all(lim.resets_at is not None for lim in read)
    assert pane.pane_id == result.pane.pane_id


@pytest.mark.parametrize("provider", ["codex", "claude"])
def test_probe_refuses_text_in_the_prompt(
    server: libtmux.Server, start_agent: StartAgent, provider: str
) -> None:
    need_parser(provider)
    pane = start_agent(provider)
    type_text(pane, "half a thought")
    before = wait_for(lambda: screen_with(pane, "half a thought"), message="typed text")
    with pytest.raises(ProbeRefused, match="typing at the prompt"):
        prober(server).probe(provider, pane.pane_id)
    assert screen(pane) == before


@pytest.mark.parametrize("provider", ["codex", "claude"])
def test_probe_refuses_a_working_pane(
    server: libtmux.Server, start_agent: StartAgent, provider: str
) -> None:
    need_parser(provider)
    pane = start_agent(provider, "--work-seconds", "120")
    type_text(pane, "refactor everything")
    pane.cmd("send-keys", "-t", pane.pane_id, "Enter")
    before = wait_for(lambda: screen_with(pane, "esc to interrupt"), message="working spinner")
    with pytest.raises(ProbeRefused, match="working"):
        prober(server).probe(provider)
    after = screen(pane)
    assert COMMANDS[provider] not in after
    # Only the spinner's clock and glyph may have moved.
    strip = re.compile(r"^[•◦·✢✳✶✻✽] .*esc to interrupt.*$", re.M)
    assert strip.sub("", after) == strip.sub("", before)


def test_probe_refuses_an_open_dialog(server: libtmux.Server, start_agent: StartAgent) -> None:
    need_parser("claude")
    pane = start_agent("claude")
    type_text(pane, "/usage")
    wait_for(lambda: screen_with(pane, "❯\u00a0/usage"), message="typed command")
    pane.cmd("send-keys", "-t", pane.pane_id, "Enter")
    before = wait_for(lambda: screen_with(pane, "Esc to cancel"), message="usage dialog")
    with pytest.raises(ProbeRefused, match="dialog"):
        prober(server).probe("claude")
    assert screen(pane).count("Esc to cancel") == before.count("Esc to cancel") == 1


def test_probe_without_agent_pane_refuses(server: libtmux.Server) -> None:
    server.new_session("plain", window_command="exec sh")
    with pytest.raises(ProbeRefused, match="no codex pane"):
        prober(server).probe("codex")


def test_probe_publishes_a_probe_frame(
    server: libtmux.Server, start_agent: StartAgent, broker: Broker
) -> None:
    need_parser("claude")

    start_agent("claude")
    endpoints = Endpoints.default()
    with Subscriber(endpoints, prefixes=["raw.", "parsed."], name="test") as sub:
        with open_publisher("probe-test") as publisher:
            assert publisher is not None
            result = Prober(ServerSpec(socket_name=server.socket_name), publisher=publisher).probe(
                "claude"
            )
            assert publisher.confirm("probe", raw_id=result.raw["id"] if result.raw else None)
        seen: dict[str, t.Any] = {}

        def got_both() -> bool:
            item = sub.recv(timeout=0.2)
            if item is not None:
                seen[item[1]["kind"]] = item[1]
            return {"raw", "parsed"} <= set(seen)

        wait_for(got_both, message="raw and parsed frames of the probe")
    assert seen["raw"]["trigger"] == "probe"
    assert "Esc to cancel" in seen["raw"]["text"]
    assert seen["parsed"]["raw_id"] == seen["raw"]["id"]
    assert len(seen["parsed"]["limits"]) >= 3


def test_cli_refuses_with_exit_3_and_types_nothing(
    server: libtmux.Server, start_agent: StartAgent, panebus_home: t.Any
) -> None:
    need_parser("claude")
    pane = start_agent("claude")
    type_text(pane, "my draft")
    before = wait_for(lambda: screen_with(pane, "my draft"), message="typed text")
    done = run_cli("probe", "claude", "-L", str(server.socket_name))
    assert done.returncode == 3, done.stderr
    assert "someone is typing at the prompt" in done.stderr
    assert screen(pane) == before


def test_probe_idle_panes_probes_only_the_idle_ones(
    server: libtmux.Server, start_agent: StartAgent
) -> None:
    need_parser("codex")
    need_parser("claude")
    from scraper.probe import probe_idle_panes

    busy = start_agent("codex")
    idle = start_agent("claude")
    type_text(busy, "still thinking")
    before = wait_for(lambda: screen_with(busy, "still thinking"), message="typed text")
    outcomes = probe_idle_panes([ServerSpec(socket_name=server.socket_name)], None)
    by_pane = {o.pane.pane_id: o for o in outcomes}
    busy_id, idle_id = str(busy.pane_id), str(idle.pane_id)
    assert set(by_pane) == {busy_id, idle_id}
    assert by_pane[busy_id].result is None
    assert "typing" in (by_pane[busy_id].error or "")
    captured = by_pane[idle_id].result
    assert captured is not None
    assert captured.restored
    assert by_pane[idle_id].error is None
    assert screen(busy) == before


def test_cli_probe_publishes_and_restores(
    server: libtmux.Server, start_agent: StartAgent, broker: Broker
) -> None:
    need_parser("codex")
    pane = start_agent("codex")
    before = screen(pane)
    done = run_cli("probe", "codex", "-L", str(server.socket_name))
    assert done.returncode == 0, done.stderr
    assert re.search(r"^codex %\d+ \(\S+\): 5h \d+% used", done.stdout, re.M)
    assert "published raw" in done.stderr
    assert prompt_text("codex", screen(pane, escapes=True)) == ""  # the card stays, no Esc
    assert "5h limit:" in screen(pane) and "5h limit:" not in before


@pytest.mark.parametrize("every", ["0", "-5", "0.5", "nan", "inf", "soon"])
def test_up_refuses_a_probe_schedule_that_is_not_a_sane_number_of_minutes(
    panebus_home: t.Any, every: str
) -> None:
    done = run_cli("up", f"--every={every}")
    assert done.returncode == 2
    assert "--every" in done.stderr


def test_scheduled_probes_tell_the_bus_and_repeated_refusals_become_an_event(
    server: libtmux.Server, start_agent: StartAgent, broker: Broker, endpoints: Endpoints,
    tmp_path: Path,
) -> None:
    """``up --every`` publishes each outcome as ``sys.probe``; the notify sink announces a pane
    whose probes keep being refused (the person's draft stays untouched throughout)."""
    need_parser("codex")
    from bus.publisher import Publisher
    from scraper.probe import probe_idle_panes
    from sinks.config import NotifyConfig
    from sinks.notify_sink import NotifySink

    busy = start_agent("codex")
    type_text(busy, "a draft of mine")
    before = wait_for(lambda: screen_with(busy, "a draft of mine"), message="typed text")
    sink = NotifySink(NotifyConfig(refusals=2, desktop=False, display=False),
                      tmp_path / "state", tmp_path / "alias")
    events: list[dict[str, t.Any]] = []
    spec = ServerSpec(socket_name=server.socket_name)
    with Publisher(endpoints, name="up") as pub, Subscriber(
        endpoints, prefixes=["sys.probe"], name="watch"
    ) as watch:
        assert pub.wait_ready(timeout=5.0)
        for _ in range(2):
            probe_idle_panes([spec], pub, providers=("codex",))
            item = wait_for(lambda: watch.recv(timeout=0.1), message="the sys.probe frame")
            assert item is not None
            topic, body = item
            assert body["outcome"] == "refused" and body["probe_provider"] == "codex"
            assert set(body["pane"]) == {"server", "session", "window", "pane_id"}
            sink.handle(topic, body, lambda b, topic=None: events.append(b))
    assert [e["event"] for e in events] == ["probe-refused"]
    assert "typing" in events[0]["text"]
    assert screen(busy) == before
