"""Steps for the ccusage and Claude statusLine hook features."""

from __future__ import annotations

import json
import typing as t

from behave import given, then, when
from support import panebus, start_background, wait_for_up

from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from behave.runner import Context


def window_log(context: Context) -> list[dict[str, t.Any]]:
    path = context.root / "pbhome" / "data" / "windows.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def limit(window: str, used_pct: float, resets_at: str) -> dict[str, t.Any]:
    """One quota limit of a parsed frame, as the statusLine hook reports it."""
    return {
        "window": window, "scope": None, "metric": "quota", "used_pct": used_pct,
        "resets_at": resets_at, "resets_text": None, "used": None, "limit": None,
        "estimate": False,
    }


@given('the window log has a "{provider}" weekly window')
def step_weekly_window(context: Context, provider: str) -> None:
    # The sinks run inside `panebus up --no-broker`, beside the scenario's broker.
    start_background(context, "up", "--no-broker", "-L", context.tmux_socket)
    wait_for_up(context)
    # The ccusage fixture covers the weeks of 2026-11-15 and 2026-11-22. The weekly window it is
    # matched against must be one observed then: a reading taken now of a reset that has
    # passed is rightly never opened. The frame is what the statusLine hook publishes, with the
    # observation time of that week (the hook itself stamps the current time).
    reading = {
        "source": {"kind": "hook", "confidence": "official"},
        "observed_at": "2026-11-25T13:00:00.000Z",
        "limits": [
            limit("5h", 12, "2026-11-25T14:00:00.000Z"),
            limit("weekly", 41, "2026-11-28T12:00:00.000Z"),
        ],
    }
    result = panebus(context, "publish", "parsed.claude.statusline", json.dumps(reading))
    assert result.returncode == 0, result.stderr
    wait_for(
        lambda: any(
            r.get("provider") == provider and r.get("window") == "weekly"
            for r in window_log(context)
        ),
        timeout=20,
        message=f"a {provider} weekly window in the window log",
    )


@when('I ingest the ccusage report "{name}"')
def step_ingest(context: Context, name: str) -> None:
    context.result = panebus(context, "ingest", "ccusage", str(context.fixtures / name))


@then('a "parsed.ccusage" frame for agent "{agent}" is on the bus')
def step_ccusage_frame(context: Context, agent: str) -> None:
    def found() -> bool:
        result = panebus(
            context, "tail", "parsed.ccusage", "--json", "--count", "50", "--timeout", "2"
        )
        bodies = [json.loads(line)["body"] for line in result.stdout.splitlines() if line]
        return any(body.get("agent") == agent or agent in body.get("agents", []) for body in bodies)

    wait_for(found, timeout=20, message=f"a parsed.ccusage frame for {agent}")


@then('the alias cache shows ccusage totals for "{agent}"')
def step_alias_ccusage(context: Context, agent: str) -> None:
    def shown() -> bool:
        result = panebus(context, "alias", "os", "--json")
        return agent in result.stdout and "ccusage" in result.stdout

    wait_for(shown, timeout=20, message=f"ccusage totals for {agent} in the alias cache")


@then('the ccusage weekly totals are matched to the "{provider}" weekly window in the window log')
def step_correlated(context: Context, provider: str) -> None:
    wait_for(
        lambda: any(
            r.get("event") == "ccusage"
            and r.get("provider") == provider
            and r.get("window") == "weekly"
            for r in window_log(context)
        ),
        timeout=20,
        message="a ccusage record matched to the weekly window",
    )


@when("Claude Code calls the statusLine hook with rate limits {five:d}% and {week:d}%")
def step_hook_limits(context: Context, five: int, week: int) -> None:
    payload = {
        "session_id": "behave",
        "model": {"display_name": "Opus"},
        "rate_limits": {
            "five_hour": {"used_percentage": five, "resets_at": 1900000000},
            "seven_day": {"used_percentage": week, "resets_at": 1900300000},
        },
    }
    context.result = panebus(context, "hook", "claude-statusline", stdin=json.dumps(payload))


@when('Claude Code calls the statusLine hook with "{payload}"')
def step_hook_raw(context: Context, payload: str) -> None:
    context.result = panebus(context, "hook", "claude-statusline", stdin=payload)


@then("one line was printed")
def step_one_line(context: Context) -> None:
    lines = context.result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].strip(), context.result.stdout
