"""What the behave steps share: running panebus, tmux on the scenario's socket, waiting."""

from __future__ import annotations

import subprocess
import typing as t

from panebus.standins import agent_command
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from behave.runner import Context


def panebus(
    context: Context, *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the panebus CLI in the scenario's environment."""
    return subprocess.run(
        ["panebus", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=context.env,
        timeout=timeout,
        check=False,
    )


def tmux(context: Context, *args: str) -> str:
    """Run tmux on the scenario's private socket and return stdout."""
    result = subprocess.run(
        ["tmux", "-L", context.tmux_socket, *args],
        capture_output=True,
        text=True,
        env=context.env,
        timeout=10,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"tmux {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def try_tmux(context: Context, *args: str) -> str | None:
    """Like :func:`tmux`, but None instead of a failure."""
    try:
        return tmux(context, *args)
    except AssertionError:
        return None


def standin_command(provider: str) -> str:
    """The shell command of a stand-in agent pane (``exec``: tmux reports the agent's name)."""
    return agent_command("monitor" if provider == "claude-monitor" else provider)


def start_agent_panes(context: Context, providers: t.Sequence[str]) -> None:
    """Start the scenario's tmux server with one stand-in pane per provider."""
    context.panes = getattr(context, "panes", {})
    for index, provider in enumerate(providers):
        if index == 0 and not context.panes:
            # Right after a kill-server the old server may still be exiting: retry briefly.
            pane = wait_for(
                lambda p=provider: try_tmux(
                    context,
                    "new-session",
                    "-d",
                    "-s",
                    "agents",
                    "-x",
                    "120",
                    "-y",
                    "40",
                    "-P",
                    "-F",
                    "#{pane_id}",
                    standin_command(p),
                ),
                timeout=10,
                message="a new tmux session",
            )
        else:
            pane = tmux(
                context,
                "split-window",
                "-t",
                "agents",
                "-P",
                "-F",
                "#{pane_id}",
                standin_command(provider),
            )
            tmux(context, "select-layout", "-t", "agents", "tiled")
        context.panes[provider] = pane.strip()
    for provider, pane_id in context.panes.items():
        if provider in ("codex", "claude"):
            wait_for(
                lambda p=pane_id: agent_prompt_shown(context, p),
                timeout=20,
                message=f"the {provider} stand-in's prompt",
            )


def capture(context: Context, pane_id: str) -> str:
    """The visible text of a pane."""
    return tmux(context, "capture-pane", "-p", "-J", "-t", pane_id)


def agent_prompt_shown(context: Context, pane_id: str) -> bool:
    """The stand-in has drawn its first screen."""
    try:
        return bool(capture(context, pane_id).strip())
    except AssertionError:
        return False


def start_background(context: Context, *args: str) -> subprocess.Popen[str]:
    """Start a long-running panebus command; ``after_scenario`` stops it."""
    log_path = context.root / f"{args[0]}-{len(context.processes)}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        ["panebus", *args],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=context.env,
    )
    context.processes.append(process)
    context.logs = [*getattr(context, "logs", []), log_path]
    return process


def wait_for_up(context: Context) -> None:
    """Until `panebus up` says it is running: every sink has subscribed by then, so no raw
    frame (raw frames are not cached by the broker) is published before they listen."""
    log_path = context.logs[-1]
    wait_for(
        lambda: "running" in log_path.read_text(encoding="utf-8"),
        timeout=30,
        message=f"`panebus up` to start (log {log_path})",
    )


def wait_for_bus(context: Context) -> None:
    """Until the broker acknowledges a publish."""
    wait_for(
        lambda: panebus(context, "publish", "sys.behave", "{}", timeout=10).returncode == 0,
        timeout=30,
        message="the broker to answer",
    )


def alias_output(context: Context, name: str, stdin: str | None = None) -> str:
    """Run an alias through the real shell-init in bash, as a user's shell would."""
    script = f'eval "$(panebus shell-init bash)"; {name}'
    # No text to pipe: /dev/null, a character device, reads like a terminal to the alias
    # (a pipe or a file on stdin means "ingest this screen").
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        env=context.env,
        timeout=60,
        check=False,
    )
    return result.stdout + result.stderr
