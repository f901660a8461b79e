"""Discovery on the real agents, and a panebus that leaves them exactly as it found them."""

from __future__ import annotations

import typing as t

import orjson

from tests.live.conftest import PANE_SIZE, WINDOWS

if t.TYPE_CHECKING:
    from tests.live.conftest import Harness, Panebus

EXPECTED_PROVIDERS = {"codex": "codex", "claude": "claude", "monitor": "claude-monitor"}


def test_panes_explain_finds_each_real_agent_with_its_provider(panebus: Panebus) -> None:
    result = panebus.cli("panes", "--explain", "-L", panebus.harness.name)
    assert result.returncode == 0, result.stderr
    as_json = panebus.cli("panes", "--json", "-L", panebus.harness.name)
    assert as_json.returncode == 0, as_json.stderr
    rows = orjson.loads(as_json.stdout)
    listing = panebus.harness.tmux("list-panes", "-a", "-F", "#{pane_id} #{window_name}")
    windows = dict(line.split(" ", 1) for line in listing.splitlines() if line)
    found = {windows[row["pane_id"]]: row["provider"] for row in rows}
    assert found == EXPECTED_PROVIDERS, (found, result.stdout)
    for tmux_window, provider in EXPECTED_PROVIDERS.items():
        assert any(
            provider in line and "rule=" in result.stdout for line in result.stdout.splitlines()
        ), (tmux_window, result.stdout)


def test_up_and_probes_leave_panes_clients_and_processes_as_found(
    harness: Harness, panebus: Panebus
) -> None:
    """Probes ask Codex's app-server or type into the panes, and the scraper attaches a
    control client: afterwards the panes are still 120x40, and (checked by the fixture once
    ``up`` stopped) no control client and no process of panebus (e.g. the ``codex app-server``
    it asked) is left."""
    assert harness.control_clients(), "panebus up attached no control client to watch output"
    harness.clear("codex")
    harness.clear("claude")
    for args in (("codex",), ("codex", "--screen"), ("claude",)):
        result = panebus.probe(*args)
        assert result.returncode == 0, (args, result.stdout, result.stderr)
        if args == ("codex",):
            assert result.stdout.startswith("codex app-server"), result.stdout
    harness.wait_idle("codex")
    harness.wait_idle("claude")
    assert harness.pane_sizes() == dict.fromkeys(WINDOWS, PANE_SIZE)
