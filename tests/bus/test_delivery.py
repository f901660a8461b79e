"""Frames reach every subscriber, in order per producer; late joiners get cached values."""

from __future__ import annotations

import subprocess
import sys
import typing as t
from pathlib import Path

from bus.publisher import Publisher
from bus.subscribers import Subscriber
from tests.bus.bodies import parsed, raw
from tests.bus.rawzmq import receive
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.broker import Broker
    from bus.endpoints import Endpoints
    from bus.frames import Body

REPO = Path(__file__).resolve().parents[2]
COUNT = 300


def drain(sub: Subscriber, into: list[tuple[str, Body]], want: int, timeout: float = 20.0) -> None:
    """Receive into ``into`` until it holds ``want`` non-``sys`` items (raises on timeout)."""

    def more() -> bool:
        item = sub.recv(timeout=0.2)
        if item is not None and not item[0].startswith("sys."):
            into.append(item)
        return len(into) >= want

    wait_for(more, timeout=timeout, interval=0, message=f"{want} frames ({len(into)} so far)")


def test_two_publisher_processes_three_subscribers(endpoints: Endpoints, broker: Broker) -> None:
    subs = [Subscriber(endpoints, prefixes=[""], name=f"s{i}") for i in range(3)]
    try:
        # Each registers "", the three cached prefixes and its join marker at the broker.
        wait_for(lambda: broker.subscriptions >= 3 * 5, message="subscriptions at the broker")
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.bus.publish_many", name, str(COUNT)], cwd=REPO
            )
            for name in ("alpha", "beta")
        ]
        for proc in procs:
            assert proc.wait(timeout=60) == 0
        for sub in subs:
            got: list[tuple[str, Body]] = []
            drain(sub, got, 2 * COUNT)
            by_producer: dict[str, list[int]] = {}
            for _topic, body in got:
                by_producer.setdefault(body["producer"].rsplit(":", 1)[1], []).append(body["seq"])
            for name in ("alpha", "beta"):
                seqs = by_producer.get(name, [])
                missing = sorted(set(range(COUNT)) - set(seqs))
                assert seqs == list(range(COUNT)), (sub.core.name, name, missing[:10], len(seqs))
            assert sub.rejected == 0
            assert sub.gaps == 0
    finally:
        for sub in subs:
            sub.close()


def test_send_right_after_construction_is_not_lost(endpoints: Endpoints, broker: Broker) -> None:
    with Subscriber(endpoints, prefixes=["raw."], name="early") as sub:
        wait_for(lambda: broker.subscriptions >= 2, message="subscriber registered")
        with Publisher(endpoints, name="hasty") as pub:
            sent = pub.send(raw("first"))
        item = receive(sub)
        assert item[1]["id"] == sent["id"]


def test_late_subscriber_gets_cached_values_once(endpoints: Endpoints, broker: Broker) -> None:
    with Publisher(endpoints, name="scraper") as pub:
        assert pub.wait_ready(timeout=5.0)
        pub.send(parsed("codex", "codex.status", 10.0))
        latest_codex = pub.send(parsed("codex", "codex.status", 11.0))
        latest_claude = pub.send(parsed("claude", "claude.usage", 50.0))
        pub.send(raw("not cached"))
        wait_for(lambda: len(broker.cache) == 2, message="two cached topics")
    with Subscriber(endpoints, prefixes=["parsed."], name="late") as late:
        got: list[tuple[str, Body]] = []
        drain(late, got, 2, timeout=5.0)
        assert {body["id"] for _topic, body in got} == {latest_codex["id"], latest_claude["id"]}
        assert {topic for topic, _body in got} == {"parsed.codex.status", "parsed.claude.usage"}
        # A second subscriber joining replays the cache to everyone: the first drops the ids.
        with Subscriber(endpoints, prefixes=["parsed."], name="later") as later:
            drain(later, [], 2, timeout=5.0)
            with Publisher(endpoints, name="marker") as pub:
                assert pub.wait_ready(timeout=5.0)
                marker = pub.send(parsed("codex", "codex.marker", 1.0))
            # The marker comes after the replay: the first thing yielded is the marker.
            assert receive(late)[1]["id"] == marker["id"]
            assert late.duplicates >= 2


def test_snapshot_returns_cached_values(endpoints: Endpoints, broker: Broker) -> None:
    with Publisher(endpoints, name="scraper") as pub:
        wanted = pub.send(parsed("codex", "codex.status", 12.0))
        pub.send(parsed("claude", "claude.usage", 13.0))
        wait_for(lambda: len(broker.cache) == 2, message="cached")
    with Subscriber(endpoints, prefixes=["parsed."], name="snap") as sub:
        values = sub.snapshot("parsed.codex.")
        assert [(topic, body["id"]) for topic, body in values] == [
            ("parsed.codex.status", wanted["id"])
        ]
        assert len(sub.snapshot("parsed.")) == 2
        assert sub.snapshot("window.") == []
