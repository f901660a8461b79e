"""The real Codex CLI: rollout → ``occ``, a ``/status`` the user types → ``occ``, and which
figure is current when a log line and a card disagree (issue 12, item 1, both directions)."""

from __future__ import annotations

import typing as t

from bus.clock import parse_rfc3339, utcnow
from sinks.current import OFFICIAL_TIE
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from tests.live.conftest import Harness, Panebus, StartPanebus

#: Codex's card can show the snapshot of its last minute poll of the usage endpoint.
CARD_LAG = 75.0


def occ_shows(panebus: Panebus, expected: dict[str, float]) -> dict[str, dict[str, t.Any]]:
    """The occ figures when they equal ``expected`` ({window: used %}), else {}."""
    return panebus.shows("occ", "codex", expected)


def wait_occ(panebus: Panebus, expected: dict[str, float], why: str) -> dict[str, dict[str, t.Any]]:
    return panebus.wait_shows("occ", "codex", expected, why)


def open_status_card(harness: Harness, left_pct: int) -> str:
    """Type ``/status`` as the user would; the screen once a card shows ``left_pct``% left."""
    harness.wait_idle("codex")
    harness.type_line("codex", "/status")
    row = f"{left_pct}% left"

    def card() -> str:
        text = harness.screen("codex")
        return text if row in text else ""

    return wait_for(card, timeout=CARD_LAG, interval=0.25,
                    message=f"Codex /status card with {row!r}")


def test_codex_turn_reaches_occ_as_official_rollout_figures(
    harness: Harness, panebus: Panebus
) -> None:
    harness.set_limits("codex", "5h=27", "weekly=14")
    out = harness.turn("codex", "hello from the rollout scenario")
    assert '"used_percent": 27.0' in out, out
    shown = wait_occ(panebus, {"5h": 27.0, "weekly": 14.0}, "occ with the turn's figures")
    for window in ("5h", "weekly"):
        assert shown[window]["source"] == {"kind": "log", "confidence": "official"}, shown
        assert shown[window]["screen"] == "codex.rollout", shown


def test_status_typed_by_the_user_reaches_occ_through_the_output_trigger(
    harness: Harness, start_panebus: StartPanebus, tmp_path: Path
) -> None:
    """No rollout (panebus's CODEX_HOME is empty), no timer (an hour), no probe: only the
    pane's output can bring the card's figures to occ."""
    panebus = start_panebus(codex_home=tmp_path / "empty-home" / ".codex")
    harness.clear("codex")
    harness.set_limits("codex", "5h=33", "weekly=17")
    open_status_card(harness, 67)
    shown = wait_occ(panebus, {"5h": 33.0, "weekly": 17.0}, "occ with the card's figures")
    assert shown["5h"]["source"]["kind"] == "screen", shown
    parsed = [
        body for body in panebus.parsed("codex")
        if any(limit.get("used_pct") == 33.0 for limit in body.get("limits") or [])
    ]
    assert parsed, "no parsed Codex frame carried the card's 33 %"
    triggers = {
        (raw or {}).get("trigger") for body in parsed if (raw := panebus.raw(body["raw_id"]))
    }
    assert triggers == {"output"}, f"the card reached the bus through {triggers}"


def test_newer_status_card_beats_an_older_rollout_figure(
    harness: Harness, panebus: Panebus
) -> None:
    """Item 1: a turn wrote 44 % to the rollout; later the user's /status shows 52 %: occ
    must show 52 % (the newest observation), not keep the older official 44 %."""
    harness.clear("codex")
    harness.set_limits("codex", "5h=44", "weekly=21")
    harness.turn("codex", "hello before the newer card")
    shown = wait_occ(panebus, {"5h": 44.0}, "occ with the rollout's 44 %")
    # docs/sinks.md "Which figure is shown": an official figure wins ties within OFFICIAL_TIE;
    # the card must be later.
    logged = parse_rfc3339(shown["5h"]["observed_at"])
    wait_for(lambda: utcnow() > logged + OFFICIAL_TIE, timeout=OFFICIAL_TIE.total_seconds() + 5,
             message="a card later than the official tie period")
    harness.set_limits("codex", "5h=52", "weekly=21")
    open_status_card(harness, 48)
    shown = wait_occ(panebus, {"5h": 52.0}, "occ with the newer card's 52 % (newest wins)")
    assert shown["5h"]["source"]["kind"] == "screen", shown


def test_old_card_recaptured_under_a_draft_does_not_roll_occ_back(
    harness: Harness, panebus: Panebus
) -> None:
    """Item 1, reverse: after a newer turn (63 %), the 52 % card still on screen is captured
    again because the user types a draft; occ must keep 63 %."""
    harness.clear("codex")
    harness.set_limits("codex", "5h=52", "weekly=22")
    open_status_card(harness, 48)
    wait_occ(panebus, {"5h": 52.0}, "occ with the card's 52 %")
    harness.set_limits("codex", "5h=63", "weekly=22")
    harness.turn("codex", "hello after the card")
    wait_occ(panebus, {"5h": 63.0}, "occ with the newer turn's 63 %")
    assert "48% left" in harness.screen("codex"), "the 52 % card scrolled off: nothing to re-read"
    draft = "a draft the user is typing"
    harness.tmux("send-keys", "-t", "agents:codex", "-l", draft)
    try:
        with_draft = wait_for(
            lambda: raw_frames(panebus, draft, "48% left"), timeout=20,
            message="the screen with the draft and the old card re-captured",
        )[0]
    finally:
        harness.tmux("send-keys", "-t", "agents:codex", "C-u")
    # The screen without the draft is captured next by the same publisher: once it arrived,
    # whatever panebus made of the draft's capture has been published before it.
    wait_for(lambda: [raw for raw in raw_frames(panebus, "48% left")
                      if draft not in raw["text"] and raw["seq"] > with_draft["seq"]],
             timeout=20, message="the screen without the draft re-captured")
    for body in panebus.parsed("codex")[-1:]:
        panebus.wait_cached(body)
    assert occ_shows(panebus, {"5h": 63.0}), (
        "occ rolled back to the old card re-read under a draft: "
        f"{panebus.alias_line('occ').strip()!r}"
    )


def raw_frames(panebus: Panebus, *texts: str) -> list[dict[str, t.Any]]:
    """Raw Codex frames whose text holds every one of ``texts``."""
    return [
        f["body"] for f in panebus.frames()
        if f["body"].get("kind") == "raw" and f["body"].get("provider") == "codex"
        and all(text in f["body"].get("text", "") for text in texts)
    ]
