"""Discovery parsing and classification: pure rules, then real processes read from /proc."""

from __future__ import annotations

import typing as t

import pytest

from scraper.classify import Classification, Process, ProcReader, classify, names_of
from scraper.config import TargetRule
from scraper.discovery import FIELDS, SEPARATOR, PaneInfo, parse_list_panes
from tests.scraper.conftest import CLAUDE_USAGE, CODEX_STATUS, need_fixtures, new_pane
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    import libtmux

    from tests.scraper.conftest import StandIns


def pane(command: str = "bash", title: str = "", pid: int | None = None, **kw: t.Any) -> PaneInfo:
    values: dict[str, t.Any] = {
        "server": "test", "pane_id": "%1", "pid": pid, "command": command, "dead": False,
        "width": 120, "height": 40, "session": "work", "window_index": "1",
        "window_name": "w", "pane_index": "0", "alternate_on": False, "title": title,
        "start_command": "",
    }
    values.update(kw)
    return PaneInfo(**values)


def test_parse_list_panes_reads_fields_and_counts_bad_lines() -> None:
    good = SEPARATOR.join(
        ["%3", "4242", "codex", "0", "120", "40", "agents", "2", "cx", "0", "1", "✳ Claude Code",
         '"env HOME=/x codex"']
    )
    assert len(good.split(SEPARATOR)) == len(FIELDS)
    sweep = parse_list_panes([good, "garbage line", ""], server="s")
    assert sweep.bad_lines == 1
    (found,) = sweep.panes
    assert (found.pane_id, found.pid, found.command, found.width, found.height) == (
        "%3", 4242, "codex", 120, 40
    )
    assert found.target == "agents:2.0"
    assert found.alternate_on and not found.dead
    assert found.wire()["pane_id"] == "%3"


class Rule(t.NamedTuple):
    test_id: str
    pane: PaneInfo
    provider: str | None
    rule: str


RULES = [
    Rule("codex-command", pane("codex"), "codex", "command"),
    Rule("claude-command", pane("claude"), "claude", "command"),
    Rule("claude-bare-version", pane("2.1.197"), "claude", "command-version"),
    Rule("monitor-command", pane("claude-monitor"), "claude-monitor", "command"),
    Rule("cmonitor-command", pane("cmonitor"), "claude-monitor", "command"),
    Rule("claude-title", pane("node", title="✳ Claude Code"), "claude", "title"),
    Rule("claude-title-spinner", pane("sleep", title="✶ Claude Code"), "claude", "title"),
    Rule("codex-title", pane("sh", title="Codex | weekly 50% left"), "codex", "title"),
    Rule("plain-shell", pane("bash", title="vm"), None, "none"),
    Rule("editor-on-codex-file", pane("vim", title="codex.md"), None, "none"),
    Rule("dead", pane("codex", dead=True), None, "dead"),
]


@pytest.mark.parametrize("case", RULES, ids=[c.test_id for c in RULES])
def test_rules(case: Rule) -> None:
    verdict = classify(case.pane)
    assert (verdict.provider, verdict.rule) == (case.provider, case.rule)
    assert verdict.detail


def test_config_target_wins_and_can_exclude() -> None:
    targets = [
        TargetRule(provider="none", session="scratch"),
        TargetRule(provider="claude-monitor", pane="%1", tmux_window="w"),
    ]
    verdict = classify(pane("bash"), targets)
    assert (verdict.provider, verdict.rule) == ("claude-monitor", "config")
    assert "targets[1]" in verdict.detail
    excluded = classify(pane("codex", session="scratch"), targets)
    assert (excluded.provider, excluded.rule) == (None, "config")


def test_screen_rule_uses_detector() -> None:
    verdict = classify(pane("sh"), screen="whatever", detect=lambda text: "codex")
    assert (verdict.provider, verdict.rule) == ("codex", "screen")
    assert classify(pane("sh"), screen="x", detect=lambda text: None).provider is None


class Names(t.NamedTuple):
    test_id: str
    argv: tuple[str, ...]
    expected: str


NAMES = [
    Names("npm-shim", ("node", "/srv/codexcli/node_modules/.bin/codex"), "codex"),
    Names("env-home", ("env", "HOME=/srv/cxh/apikey", "/srv/codexcli/node_modules/.bin/codex"),
          "codex"),
    Names("env-node", ("/usr/bin/env", "node", "/usr/lib/node_modules/.bin/claude"), "claude"),
    Names("python-module", ("python3", "-m", "claude_monitor", "--plan", "max5"),
          "claude_monitor"),
    Names("python-script", ("/usr/bin/python3.12", "/home/u/.local/bin/claude-monitor"),
          "claude-monitor"),
]


@pytest.mark.parametrize("case", NAMES, ids=[c.test_id for c in NAMES])
def test_names_of_launchers(case: Names) -> None:
    process = Process(pid=1, ppid=0, pgrp=1, tpgid=1, comm=case.argv[0][:15], argv=case.argv)
    assert case.expected in names_of(process)


def test_vim_editing_codex_is_not_codex() -> None:
    process = Process(pid=1, ppid=0, pgrp=1, tpgid=1, comm="vim", argv=("vim", "codex"))
    assert "codex" not in names_of(process)


def test_process_rule_finds_codex_child_of_node(
    session: libtmux.Session, standins: StandIns, panebus_home: object
) -> None:
    """The npm-shim shape of the fixture: pane command ``node``, its child is ``codex``."""
    node = standins.program("node")
    codex = standins.sleeper("codex")
    pane_id = new_pane(session, f"{node} -c '{codex} 100000; true'")
    server = session.server

    def verdict() -> Classification | None:
        lines = server.cmd(
            "list-panes", "-a", "-F", SEPARATOR.join(f"#{{{f}}}" for f in FIELDS)
        ).stdout
        (info,) = [p for p in parse_list_panes(lines, "t").panes if p.pane_id == pane_id]
        found = classify(info, proc=ProcReader())
        return found if found.is_agent else None

    # tmux reports `node` (or the `sh -c` wrapping it); the codex child decides.
    found = wait_for(verdict, message="process rule")
    assert found is not None
    assert (found.provider, found.rule) == ("codex", "process")
    assert "'codex'" in found.detail


def test_panes_cli_explains(
    session: libtmux.Session,
    standins: StandIns,
    panebus_home: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    need_fixtures()
    from panebus.cli import main

    server = session.server
    codex = new_pane(session, standins.screen_command("codex", CODEX_STATUS))
    claude = new_pane(session, standins.screen_command("2.1.197", CLAUDE_USAGE))
    shell = new_pane(session, "/bin/sh")
    socket = ["-L", str(server.socket_name)]

    def agents() -> dict[str, dict[str, t.Any]] | None:
        import orjson

        capsys.readouterr()
        assert main(["panes", *socket, "--explain", "--json"]) == 0
        rows = {row["pane_id"]: row for row in orjson.loads(capsys.readouterr().out)}
        ready = rows.get(codex, {}).get("provider") and rows.get(claude, {}).get("provider")
        return rows if ready else None

    rows = wait_for(agents, message="stand-ins classified")
    assert rows is not None
    assert (rows[codex]["provider"], rows[codex]["rule"]) == ("codex", "command")
    assert (rows[claude]["provider"], rows[claude]["rule"]) == ("claude", "command-version")
    assert rows[shell]["provider"] is None
    assert rows[shell]["rule"] == "none"
    assert main(["panes", *socket]) == 0
    out = capsys.readouterr().out
    assert codex in out and claude in out and shell not in out.split()


def test_discover_agent_panes_for_doctor(session: libtmux.Session, standins: StandIns) -> None:
    from scraper.agent_panes import discover_agent_panes
    from scraper.config import ServerSpec

    codex = new_pane(session, f"exec {standins.sleeper('codex')} 100000")
    socket = ["-L", str(session.server.socket_name)]
    found = wait_for(lambda: discover_agent_panes(socket), message="codex pane")
    assert [(p.pane_id, p.provider, p.rule) for p in found] == [(codex, "codex", "command")]
    assert ServerSpec.from_tmux_args(socket) == ServerSpec(socket_name=socket[1])
    with pytest.raises(ConnectionError):
        discover_agent_panes(["-L", "panebus-no-such-server"])
