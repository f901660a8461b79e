"""The live-agents harness itself: present beside the clone, started with the agent versions
this suite was written against. Without the harness this is the one test collected here, and
it is skipped with the reason (the rest of tests/live is not collected)."""

from __future__ import annotations

import typing as t

import pytest

from tests.live.conftest import MISSING, PANE_SIZE, WINDOWS

if t.TYPE_CHECKING:
    from tests.live.conftest import Harness

#: What the scenarios were checked against (the harness's defaults).
VERSIONS = {"CODEX_VERSION": "0.169.0", "CLAUDE_VERSION": "2.1.197"}


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_harness_runs_the_agents_this_suite_was_written_for(harness: Harness) -> None:
    assert {key: harness.info.get(key) for key in VERSIONS} == VERSIONS, harness.info
    assert harness.pane_sizes() == dict.fromkeys(WINDOWS, PANE_SIZE)
    assert harness.codex_home.is_dir() and harness.claude_config_dir.is_dir(), harness.info
