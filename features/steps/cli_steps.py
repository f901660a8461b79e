"""Generic steps: run a panebus command as a user would and check what it said."""

from __future__ import annotations

import shlex
import subprocess
import typing as t

from behave import then, when

if t.TYPE_CHECKING:
    from behave.runner import Context


def run_command(context: Context, command: str, stdin: str | None = None) -> None:
    """Run ``command`` in the scenario's environment; keep its output for later steps."""
    context.result = subprocess.run(
        shlex.split(command),
        input=stdin,
        capture_output=True,
        text=True,
        env=context.env,
        timeout=120,
        check=False,
    )


@when('I run "{command}"')
def step_run(context: Context, command: str) -> None:
    run_command(context, command)


@then("it exits with {code:d}")
def step_exit_code(context: Context, code: int) -> None:
    result = context.result
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)


@then('the output contains "{text}"')
def step_output_contains(context: Context, text: str) -> None:
    output = context.result.stdout + context.result.stderr
    assert text in output, output
