"""``first_seen_at``: a card re-read from the screen keeps the time it was first seen — in the
pure memory, through the pipeline on a real broker, and through the scraper on real tmux into
the alias cache, where an old card must not roll ``occ`` back past a newer turn."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from bus.clock import parse_rfc3339, to_rfc3339, utcnow
from bus.paths import Paths
from bus.publisher import Publisher
from scraper.first_seen import FIELD, FirstSeen
from scraper.parsers import registry
from scraper.pipeline import Pipeline
from scraper.redact import Redactor
from scraper.scrape import Scraper
from sinks.alias_cache import load_state, read_alias
from sinks.base import SinkRunner, build_sink
from sinks.config import SinksConfig
from tests.scraper.conftest import (
    CODEX_STATUS,
    control_clients,
    need_fixtures,
    new_pane,
    wait_drawn,
)
from tests.scraper.test_pipeline import PANE
from tests.scraper.test_scrape import make_config
from tests.sinks.frames import limit, parsed
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    import libtmux

    from tests.scraper.conftest import Collector, StandIns

S = dt.timedelta(seconds=1)
T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
WORKING = "• Working (0s • esc to interrupt)"


def fields(*rows: tuple[str, float, str | None]) -> dict[str, t.Any]:
    limits = []
    for window, used, reset_text in rows:
        item = limit(window, used)
        item["resets_text"] = reset_text
        limits.append(item)
    return {"provider": "codex", "screen": "codex.status", "limits": limits}


def stamps(out: dict[str, t.Any]) -> list[str]:
    return [item[FIELD] for item in out["limits"]]


def test_rows_keep_their_first_time_until_they_leave_the_screen() -> None:
    memory = FirstSeen()
    card = fields(("5h", 23, "08:44"), ("weekly", 58, "11:24 on 28 Nov"))
    first = memory.stamp("%1", card, T0)
    assert stamps(first) == [to_rfc3339(T0)] * 2
    assert FIELD not in card["limits"][0]  # the input is left as it was
    again = memory.stamp("%1", card, T0 + 60 * S)
    assert stamps(again) == [to_rfc3339(T0)] * 2
    # a newer gauge replaces the 5h row; the weekly row is still the card's
    gauge = fields(("5h", 91, "09:22"), ("weekly", 58, "11:24 on 28 Nov"))
    assert stamps(memory.stamp("%1", gauge, T0 + 120 * S)) == [
        to_rfc3339(T0 + 120 * S), to_rfc3339(T0)]
    # another pane showing the same figures saw them itself, now
    assert stamps(memory.stamp("%2", card, T0 + 130 * S)) == [to_rfc3339(T0 + 130 * S)] * 2
    # the card left the screen; opened again later, it is a new observation
    memory.stamp("%1", fields(), T0 + 140 * S)
    assert stamps(memory.stamp("%1", card, T0 + 150 * S)) == [to_rfc3339(T0 + 150 * S)] * 2
    memory.forget("%1")
    memory.forget("%2")
    assert len(memory) == 0


def test_a_relative_reset_moving_with_the_clock_is_the_same_row() -> None:
    memory = FirstSeen()
    one = fields(("5h", 23, "in 1h 26m"))
    one["limits"][0]["resets_at"] = to_rfc3339(T0 + 86 * 60 * S)
    two = fields(("5h", 23, "in 1h 26m"))
    two["limits"][0]["resets_at"] = to_rfc3339(T0 + 30 * S + 86 * 60 * S)
    memory.stamp("%1", one, T0)
    assert stamps(memory.stamp("%1", two, T0 + 30 * S)) == [to_rfc3339(T0)]


def test_pipeline_publishes_a_recaptured_card_with_its_first_time(
    endpoints: t.Any, collector: Collector
) -> None:
    need_fixtures()
    screen = CODEX_STATUS.read_text(encoding="utf-8")
    t1 = utcnow()
    with Publisher(endpoints, name="scraper") as publisher:
        assert publisher.wait_ready(timeout=5)
        pipeline = Pipeline(publisher, Redactor(), parse_screen=registry.parse_screen)
        assert pipeline.process(PANE, "codex", screen, "timer", observed_at=t1).parsed
        later = pipeline.process(
            PANE, "codex", f"{screen}\n{WORKING}", "output", observed_at=t1 + 90 * S
        )
        assert later.parsed is not None  # the reading changed (working): published again
        pipeline.forget(("test", "%7"))
        gone = pipeline.process(PANE, "codex", screen, "timer", observed_at=t1 + 200 * S)
        assert gone.parsed is not None
    wait_for(lambda: len(collector.bodies("parsed", "%7")) == 3, message="three parsed frames")
    frames = collector.bodies("parsed", "%7")
    first_seen = [{item[FIELD] for item in body["limits"]} for body in frames]
    assert first_seen == [{to_rfc3339(t1)}, {to_rfc3339(t1)}, {to_rfc3339(t1 + 200 * S)}]
    assert frames[1]["observed_at"] == to_rfc3339(t1 + 90 * S)
    assert frames[1]["state"] == "working"


@pytest.mark.slow
def test_old_card_typed_under_on_real_tmux_does_not_roll_occ_back(
    session: libtmux.Session,
    standins: StandIns,
    endpoints: t.Any,
    broker: t.Any,
    collector: Collector,
) -> None:
    """Real tmux pane with the real 0.169 /status card (5h 23 % used), the real scraper with
    its output trigger, a real broker and the real alias sink. A newer official figure (63 %)
    arrives after the card was first seen; then the user types below the card, so the scraper
    re-captures it and publishes it again (the reading changed): ``occ`` must keep 63 %."""
    need_fixtures()
    server = session.server
    codex = new_pane(session, standins.screen_command("codex", CODEX_STATUS))
    wait_drawn(server, codex, "5h limit")
    paths = Paths.from_env()
    sinks = SinksConfig.defaults(paths)
    alias = SinkRunner(build_sink("alias", paths, sinks), endpoints, paths=paths).start()
    config = make_config(server)  # timers off (an hour): only the output trigger captures
    with Publisher(endpoints, name="scraper") as pub, Publisher(endpoints, name="rollout") as log:
        assert pub.wait_ready(timeout=5) and log.wait_ready(timeout=5)
        scraper = Scraper(config, pub, file_triggers=False)
        scraper.start()
        try:
            card = wait_for(lambda: collector.bodies("parsed", codex), message="card parsed")[0]
            first = card["limits"][0][FIELD]
            assert card["limits"][0]["used_pct"] == 23.0
            wait_for(lambda: _occ(sinks.alias_dir).startswith("codex 5h 23%"), message="occ 23")
            turn = utcnow()
            assert turn > parse_rfc3339(first)
            resets = (turn + 3 * 3600 * S).isoformat()
            log.send(parsed([{**limit("5h", 63.0), "resets_at": resets}], at=turn,
                            confidence="official", kind="log", screen="codex.rollout"))
            wait_for(lambda: _occ(sinks.alias_dir).startswith("codex 5h 63%"), message="occ 63")
            wait_for(lambda: scraper.wait_connected(0.1), message="control client up")
            server.cmd("send-keys", "-t", codex, "-l", WORKING)
            server.cmd("send-keys", "-t", codex, "Enter")
            again = wait_for(
                lambda: [b for b in collector.bodies("parsed", codex) if b["state"] == "working"],
                message="the card re-captured and published again",
            )[0]
            assert again["limits"][0][FIELD] == first and again["observed_at"] > first
            wait_for(lambda: _parsed_slot_observed(sinks.alias_dir) == again["observed_at"],
                     message="the alias sink took the re-captured card")
            assert _occ(sinks.alias_dir).startswith("codex 5h 63%")
        finally:
            scraper.stop()
            alias.stop(timeout=5.0)
    assert not control_clients(server)


def _occ(alias_dir: t.Any) -> str:
    lines = read_alias(alias_dir, "occ") or [""]
    return lines[0]


def _parsed_slot_observed(alias_dir: t.Any) -> str | None:
    providers = load_state(alias_dir)["providers"]
    slots = providers.get("codex", {}).get("candidates", {}).get("5h||quota", {})
    return slots.get("parsed", {}).get("observed_at")
