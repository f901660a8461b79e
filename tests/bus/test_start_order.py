"""Start order never matters (docs/architecture.md): frames sent before the broker is up stay."""

from __future__ import annotations

import typing as t

from bus.broker import Broker
from bus.publisher import Publisher
from bus.subscribers import Subscriber
from tests.bus.bodies import parsed
from tests.bus.rawzmq import receive
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.endpoints import Endpoints


def test_values_published_before_the_broker_starts_reach_its_cache(endpoints: Endpoints) -> None:
    with Publisher(endpoints, name="early") as publisher:
        codex = publisher.send(parsed("codex", "codex.status", 11.0))
        claude = publisher.send(parsed("claude", "claude.usage", 12.0))
        broker = Broker(endpoints, heartbeat_interval=0).start()
        try:
            assert publisher.wait_ready(timeout=10)
            wait_for(lambda: len(broker.cache) == 2, timeout=10,
                     message="the values held while no broker ran")
            with Subscriber(endpoints, prefixes=["parsed."], name="late") as late:
                got: dict[str, str] = {}

                def both() -> bool:
                    item = late.recv(timeout=0.1)
                    if item is not None:
                        got[item[0]] = item[1]["id"]
                    return len(got) == 2

                wait_for(both, timeout=10, message="both cached values")
            assert got == {"parsed.codex.status": codex["id"],
                           "parsed.claude.usage": claude["id"]}
            assert publisher.dropped == 0
        finally:
            broker.stop(timeout=5)


def test_close_delivers_frames_held_while_no_broker_ran(endpoints: Endpoints) -> None:
    publisher = Publisher(endpoints, name="snap")
    held = publisher.send(parsed("codex", "codex.status", 13.0))
    assert publisher.held == 1
    broker = Broker(endpoints, heartbeat_interval=0).start()
    try:
        publisher.close()  # waits (up to its linger) for the broker, then sends what it held
        wait_for(lambda: "parsed.codex.status" in broker.cache, message="the held frame")
        with Subscriber(endpoints, prefixes=["parsed."], name="check") as sub:
            assert receive(sub)[1]["id"] == held["id"]
    finally:
        broker.stop(timeout=5)
