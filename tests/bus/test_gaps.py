"""Per-producer sequence gaps are detected and resolved from the broker's snapshot."""

from __future__ import annotations

import logging
import typing as t

from bus import subscriber_core, subscribers
from bus.broker import Broker
from bus.publisher import Publisher
from bus.subscribers import Subscriber
from tests.bus.bodies import parsed, raw, stamped
from tests.bus.rawzmq import RawPublisher, receive
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    import pytest

    from bus.endpoints import Endpoints
    from bus.frames import Body


def recv_all(sub: Subscriber, quiet: float = 0.5) -> list[tuple[str, Body]]:
    """Everything ``sub`` yields until it has been quiet for ``quiet`` seconds."""
    got: list[tuple[str, Body]] = []
    while (item := sub.recv(timeout=quiet)) is not None:
        got.append(item)
    return got


def test_hand_made_seq_jump_is_detected_and_resynced(endpoints: Endpoints, broker: Broker) -> None:
    with Subscriber(endpoints, prefixes=["parsed.", "sys.probe"], name="watcher") as sub:
        wait_for(lambda: broker.subscriptions >= 3, message="subscriber registered")
        pub = RawPublisher(endpoints.publish)
        try:
            pub.probe_until_synced(sub)
            first = stamped(parsed(used_pct=1.0), seq=0)
            pub.send("parsed.codex.status", first)
            assert receive(sub)[1]["id"] == first["id"]
            assert sub.gaps == 0
            jumped = stamped(parsed(used_pct=5.0), seq=5)  # seq 1..4 never sent
            pub.send("parsed.codex.status", jumped)
            assert receive(sub)[1]["id"] == jumped["id"]
            assert sub.gaps == 1
            wait_for(lambda: broker.snapshots >= 1, message="a resync request at the broker")
            # The snapshot holds only values already yielded: its answer, handled, is one more
            # duplicate and nothing comes twice.
            twice: list[tuple[str, Body]] = []

            def answered() -> bool:
                if (item := sub.recv(timeout=0.05)) is not None:
                    twice.append(item)
                return sub.duplicates >= 1
            wait_for(answered, message="the snapshot's answer handled")
            assert twice == []
            following = stamped(parsed(used_pct=6.0), seq=6)
            pub.send("parsed.codex.status", following)
            assert receive(sub)[1]["id"] == following["id"]
            assert sub.gaps == 1
        finally:
            pub.close()


def test_gap_in_topics_outside_the_prefixes_is_still_seen(
    endpoints: Endpoints, broker: Broker
) -> None:
    with Subscriber(endpoints, prefixes=["parsed.", "sys.probe"], name="watcher") as sub:
        wait_for(lambda: broker.subscriptions >= 3, message="subscriber registered")
        pub = RawPublisher(endpoints.publish)
        try:
            pub.probe_until_synced(sub)
            pub.send("raw.codex.3", stamped(raw("a"), seq=0))
            pub.send("raw.codex.3", stamped(raw("b"), seq=3))
            marker = stamped(parsed(), seq=4)
            pub.send("parsed.codex.status", marker)
            assert receive(sub)[1]["id"] == marker["id"]
            assert sub.gaps == 1
        finally:
            pub.close()


def publish_rotating(pub: Publisher, total: int, padding: str, topics: int = 20) -> dict[str, str]:
    """Publish ``total`` padded parsed frames over ``topics`` topics; the last id on each topic."""
    last_ids: dict[str, str] = {}
    for index in range(total):
        body = parsed("codex", f"codex.s{index % topics}", float(index % 100))
        last_ids[f"parsed.codex.s{index % topics}"] = pub.send(dict(body, padding=padding))["id"]
    return last_ids


def test_lost_frames_are_recovered_from_the_snapshot(endpoints: Endpoints) -> None:
    """Real loss: tiny queues and a subscriber that does not read while 3000 frames pass."""
    total = 3000
    broker = Broker(endpoints, heartbeat_interval=0, hwm=20).start()
    try:
        with Subscriber(endpoints, prefixes=["parsed."], name="slow", hwm=20) as sub:
            wait_for(lambda: broker.subscriptions >= 2, message="subscriber registered")
            with Publisher(endpoints, name="fast") as pub:
                assert pub.wait_ready(timeout=5.0)
                publish_rotating(pub, total, padding="x" * 2000)
                wait_for(lambda: broker.forwarded >= total, message="broker forwarded all")
                early = recv_all(sub)  # what is queued (where it stops changes nothing below)
                assert len(early) < total  # frames were lost between broker and subscriber
                pub.send(parsed("codex", "codex.final", 1.0))  # reveals the gap
                late: list[tuple[str, Body]] = []

                def caught_up() -> bool:
                    late.extend(recv_all(sub, quiet=0.1))
                    yielded = {topic: body["id"] for topic, body in early + late}
                    cached = {topic: codec_id(parts[1]) for topic, parts in
                              list(broker.cache.items())}
                    return "parsed.codex.final" in yielded and yielded == cached

                wait_for(caught_up, timeout=20, message="the latest values after the loss")
        assert sub.gaps >= 1
        got = early + late
        ids = [body["id"] for _topic, body in got]
        assert len(ids) == len(set(ids))
        last_yielded: dict[str, str] = {}
        for topic, body in got:
            last_yielded[topic] = body["id"]
        cached = {topic: codec_id(parts[1]) for topic, parts in broker.cache.items()}
        assert last_yielded == cached
    finally:
        broker.stop(timeout=5.0)


def test_loss_at_the_end_is_revealed_by_the_heartbeat(endpoints: Endpoints) -> None:
    """Frames lost with none after them: only the broker's heartbeat can say they existed.

    A subscriber that does not read while frames pass: its queues fill in order and, once
    full, every later frame is dropped, so what arrives has no seq jump. The heartbeats are 5 s
    apart, so none is lost with them and the broker's own seq does not jump either; the
    heartbeat's map of where each producer stands is what reveals the loss.
    """
    total = 300
    broker = Broker(endpoints, heartbeat_interval=5.0, hwm=20).start()
    try:
        with Subscriber(endpoints, prefixes=["parsed."], name="slow", hwm=20) as sub:
            wait_for(lambda: broker.subscriptions >= 2, message="subscriber registered")
            wait_for(lambda: sub.recv(timeout=0.05) is None and sub.synced, message="synced")
            with Publisher(endpoints, name="steady") as pub:
                assert pub.wait_ready(timeout=5.0)
                last_ids = publish_rotating(pub, total, padding="x" * 20_000)

                def all_forwarded() -> bool:
                    cached = {topic: codec_id(parts[1]) for topic, parts in
                              list(broker.cache.items())}
                    return cached == last_ids

                # Everything has passed the broker (and the tail was dropped) before we read.
                wait_for(all_forwarded, message="the broker to forward every frame")
                got: list[tuple[str, Body]] = []

                def caught_up() -> bool:
                    got.extend(recv_all(sub, quiet=0.1))
                    return {topic: body["id"] for topic, body in got} == last_ids

                wait_for(caught_up, timeout=20, message="the last values after the loss")
        assert len(got) < total  # frames were lost, and nothing was sent after them
        assert sub.gaps >= 1
        ids = [body["id"] for _topic, body in got]
        assert len(ids) == len(set(ids))
    finally:
        broker.stop(timeout=5.0)


def codec_id(raw_body: bytes) -> str:
    """The id inside an encoded body."""
    from bus.codec import loads

    return str(loads(raw_body)["id"])


def test_unanswered_resync_is_given_up_and_frames_keep_coming(
    endpoints: Endpoints, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No snapshot service answers (a bare PUB stands in for the broker): after the resync
    timeout the subscriber stops waiting for the reply and still yields every later frame."""
    monkeypatch.setattr(subscriber_core, "BASELINE_TIMEOUT", 0.0)  # no join marker will come
    monkeypatch.setattr(subscribers, "RESYNC_TIMEOUT", 0.2)
    rogue = RawPublisher(endpoints.subscribe, bind=True)
    try:
        with Subscriber(endpoints, prefixes=["parsed.", "sys.probe"], name="alone") as sub:
            rogue.probe_until_received(sub)
            producer = "alone:1:pub"
            rogue.send("parsed.codex.status", stamped(parsed(used_pct=1.0), 0, producer))
            assert receive(sub)[1]["seq"] == 0
            rogue.send("parsed.codex.status", stamped(parsed(used_pct=5.0), 5, producer))
            assert receive(sub)[1]["seq"] == 5
            assert sub.gaps == 1
            with caplog.at_level(logging.WARNING, logger="bus.subscribers"):
                wait_for(
                    lambda: sub.recv(timeout=0.05) is None
                    and "did not answer a resync" in caplog.text,
                    message="the resync given up",
                )
            for seq in (6, 7):
                rogue.send("parsed.codex.status", stamped(parsed(used_pct=seq), seq, producer))
                assert receive(sub)[1]["seq"] == seq
            assert sub.gaps == 1
    finally:
        rogue.close()
