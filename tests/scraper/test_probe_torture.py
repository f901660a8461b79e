"""The probe torture at test size: a person in a second process types, deletes, submits and
enters copy mode at random (through ``send-keys`` and through a real attached client) while two
probers keep probing the same stand-in pane. The zero goals must hold; the figures of the large
run are printed by tests/bench/bench_probe_torture.py."""

from __future__ import annotations

import typing as t

import pytest

from tests.scraper.probe_torture import Settings, run

if t.TYPE_CHECKING:
    from pathlib import Path

    import libtmux


@pytest.mark.parametrize("provider", ["codex", "claude"])
def test_probes_never_harm_a_person_typing(
    server: libtmux.Server, panebus_home: Path, tmp_path: Path, provider: str
) -> None:
    settings = Settings(provider=provider, probes=16, seed=11, channel="both", pace=1.0)
    figures = run(str(server.socket_name), settings, tmp_path)
    report = "\n".join(figures.lines())
    assert figures.attempts == settings.probes, report
    assert figures.desync == 0, report  # the replay understood every key the agent got
    assert figures.user_chars_deleted_by_probe == 0, report
    assert figures.user_chars_submitted_by_probe == 0, report
    assert figures.probe_enter_on_other_text == 0, report
    assert figures.esc_while_working == 0, report
    assert figures.esc_elsewhere == 0, report
    assert figures.probe_submits == figures.captured + sum(figures.failed.values()), report
    if provider == "codex":
        assert figures.esc_on_card == 0, report  # Codex never gets an Esc
    else:
        assert figures.esc_on_card <= figures.probe_submits, report
