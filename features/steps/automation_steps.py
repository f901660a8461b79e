"""Steps for the tracker automation, discovery and tmux restart features."""

from __future__ import annotations

import json
import typing as t

from behave import given, then, when
from support import (
    alias_output,
    capture,
    panebus,
    start_agent_panes,
    start_background,
    tmux,
    wait_for_bus,
    wait_for_up,
)

from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from behave.runner import Context


@given('a private tmux server with a stand-in "{first}" pane and a stand-in "{second}" pane')
def step_two_agents(context: Context, first: str, second: str) -> None:
    start_agent_panes(context, [first, second])


@given('a private tmux server with a stand-in "{provider}" pane')
def step_one_agent(context: Context, provider: str) -> None:
    start_agent_panes(context, [provider])


@given("a plain shell pane")
def step_plain_shell(context: Context) -> None:
    pane = tmux(context, "split-window", "-t", "agents", "-P", "-F", "#{pane_id}", "sh")
    context.panes["shell"] = pane.strip()


@given("panebus is up against that server")
def step_up(context: Context) -> None:
    start_background(context, "up", "-L", context.tmux_socket)
    wait_for_up(context)


@given("the panebus bus is running")
def step_bus(context: Context) -> None:
    start_background(context, "bus")
    wait_for_bus(context)


@when('I run "panebus {command}" against the tmux server')
def step_run_against(context: Context, command: str) -> None:
    args = command.split()
    context.result = panebus(context, *args, "-L", context.tmux_socket)


@then("it exits with a non-zero code")
def step_nonzero(context: Context) -> None:
    assert context.result.returncode != 0, context.result.stdout


def archived(context: Context, trigger: str, provider: str) -> list[dict[str, t.Any]]:
    result = panebus(
        context,
        "archive",
        "ls",
        "--json",
        "--provider",
        provider,
        "--trigger",
        trigger,
        "--pane",
        context.panes[provider],
    )
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@then('the archive holds a "{trigger}" snapshot of the {provider} pane')
def step_archived(context: Context, trigger: str, provider: str) -> None:
    wait_for(
        lambda: archived(context, trigger, provider),
        timeout=20,
        message=f"a {trigger} snapshot of {provider} in the archive",
    )


def cached_frames(context: Context, prefix: str) -> list[dict[str, t.Any]]:
    """The broker's cached values for ``prefix`` (a late subscriber gets them at once)."""
    result = panebus(context, "tail", prefix, "--json", "--count", "50", "--timeout", "2")
    return [json.loads(line)["body"] for line in result.stdout.splitlines() if line.strip()]


@then('a parsed "{provider}" frame with a "{window}" limit is on the bus')
def step_parsed_limit(context: Context, provider: str, window: str) -> None:
    def found() -> bool:
        return any(
            limit["window"] == window and limit["used_pct"] is not None
            for body in cached_frames(context, f"parsed.{provider}")
            for limit in body["limits"]
        )

    wait_for(found, timeout=20, message=f"a parsed {provider} frame with a {window} figure")


@then('a parsed "{provider}" frame with source "{kind}" is on the bus')
def step_parsed_source(context: Context, provider: str, kind: str) -> None:
    wait_for(
        lambda: any(
            body["source"]["kind"] == kind for body in cached_frames(context, f"parsed.{provider}")
        ),
        timeout=20,
        message=f"a parsed {provider} frame from a {kind} source",
    )


@then('"occ" shows the codex 5h and weekly figures')
def step_occ(context: Context) -> None:
    def shown() -> str | None:
        out = alias_output(context, "occ")
        return out if "5h" in out and "weekly" in out and "%" in out else None

    context.alias_text = wait_for(shown, timeout=20, message="occ to show 5h and weekly figures")


@then('"acm" shows the claude session and week figures')
def step_acm(context: Context) -> None:
    def shown() -> str | None:
        out = alias_output(context, "acm")
        return out if "%" in out and "claude" in out.lower() else None

    wait_for(shown, timeout=20, message="acm to show claude figures")


@then('"{alias}" shows "{text}"')
def step_alias_shows(context: Context, alias: str, text: str) -> None:
    wait_for(
        lambda: text in alias_output(context, alias), timeout=20, message=f"{alias} to show {text}"
    )


@then('the feature log has a row for "{provider}"')
def step_feature_log(context: Context, provider: str) -> None:
    log = context.root / "pbhome" / "data" / "tracker_feature_log.md"

    def has_row() -> bool:
        if not log.exists():
            return False
        return any(
            line.startswith("|") and provider in line
            for line in log.read_text(encoding="utf-8").splitlines()
        )

    wait_for(has_row, timeout=20, message=f"a feature-log row for {provider}")


@then("the codex pane is back at its prompt")
def step_back_at_prompt(context: Context) -> None:
    # Codex prints /status into its transcript (the real one too): the probe sends no Esc,
    # the card stays above an empty composer.
    wait_for(
        lambda: capture(context, context.panes["codex"]).rstrip().split("\n")[-4:][0]
        == "› Ask Codex to do anything",
        timeout=10,
        message="the codex composer empty again below the /status card",
    )


@when('I pipe the fixture "{name}" into "{alias}"')
def step_pipe_fixture(context: Context, name: str, alias: str) -> None:
    text = (context.fixtures / name).read_text(encoding="utf-8")
    context.alias_text = alias_output(context, alias, stdin=text)


@given("the codex pane is working")
def step_codex_working(context: Context) -> None:
    pane = context.panes["codex"]
    tmux(context, "send-keys", "-t", pane, "-l", "refactor the parser")
    tmux(context, "send-keys", "-t", pane, "Enter")
    wait_for(
        lambda: "esc to interrupt" in capture(context, pane).lower(),
        timeout=20,
        message="the codex stand-in to start working",
    )


@then("the codex pane screen did not change")
def step_unchanged(context: Context) -> None:
    after = capture(context, context.panes["codex"])
    assert "/status" not in after, after


def pane_rows(context: Context) -> list[dict[str, t.Any]]:
    rows = json.loads(context.result.stdout)
    assert isinstance(rows, list), rows
    return rows


def row_for(context: Context, name: str) -> dict[str, t.Any]:
    pane_id = context.panes[name]
    for row in pane_rows(context):
        if row.get("pane_id") == pane_id:
            return row
    raise AssertionError(f"pane {pane_id} not listed: {context.result.stdout}")


@then('the pane list classifies the {name} pane as "{provider}" with a rule')
def step_classified(context: Context, name: str, provider: str) -> None:
    row = row_for(context, name)
    assert row.get("provider") == provider, row
    assert row.get("rule"), row


@then("the plain shell pane is not an agent pane")
def step_not_agent(context: Context) -> None:
    assert row_for(context, "shell").get("provider") in (None, "", "none"), row_for(
        context, "shell"
    )


@when('the tmux server is killed and started again with a stand-in "{provider}" pane')
def step_restart_tmux(context: Context, provider: str) -> None:
    # The new pane gets the same id (%0) and the same screen as the old one, so the archive
    # (which keeps distinct snapshots only) cannot tell; the bus can: a raw frame carrying the
    # new pane's pid. Raw frames are not cached, so listen before the restart; the cached
    # state frame that a new subscriber gets first proves it is listening.
    context.old_pid = tmux(
        context, "display-message", "-p", "-t", context.panes[provider], "#{pane_pid}"
    ).strip()
    start_background(
        context, "tail", "--json", f"raw.{provider}", f"state.{provider}", "--timeout", "120"
    )
    context.tail_log = context.logs[-1]
    wait_for(
        lambda: bool(bus_lines(context.tail_log)),
        timeout=20,
        message=f"`panebus tail` to receive the cached state frame (log {context.tail_log})",
    )
    tmux(context, "kill-server")
    context.panes = {}
    start_agent_panes(context, [provider])


def bus_lines(log: Path) -> list[dict[str, t.Any]]:
    """The frames `panebus tail --json` has printed so far."""
    lines = log.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


@then('a new raw "{provider}" frame arrives on the bus')
def step_new_raw(context: Context, provider: str) -> None:
    pane_id = context.panes[provider]
    new_pid = int(tmux(context, "display-message", "-p", "-t", pane_id, "#{pane_pid}"))
    assert str(new_pid) != context.old_pid, "the restarted pane kept its pid"

    def raw_of_new_pane() -> bool:
        return any(
            frame["topic"].startswith("raw.")
            and frame["body"]["pane"]["pane_id"] == pane_id
            and frame["body"]["pane"]["pid"] == new_pid
            for frame in bus_lines(context.tail_log)
        )

    wait_for(
        raw_of_new_pane,
        timeout=40,
        message=f"a raw frame of the new {provider} pane {pane_id} (pid {new_pid})",
    )


@then("no tmux control client is left after panebus stops")
def step_no_control_client(context: Context) -> None:
    for process in context.processes:
        process.terminate()
        process.wait(timeout=20)
    clients = tmux(context, "list-clients", "-F", "#{client_flags}")
    assert "control-mode" not in clients, clients
