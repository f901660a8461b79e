"""Frames/s through the broker for 5 KB frames, beside raw pyzmq PUB→SUB, with loss counted.

Runs, in one go on this machine: raw pyzmq PUB→SUB (no broker, no validation), then a
:class:`~bus.client.Publisher` → broker → :class:`~bus.client.Subscriber` with 1 and with 3
subscribers. Every party is its own process (the broker too), as in production. Each case
is run unpaced (as fast as the publisher can stamp and send) and paced at the 20,000 frames/s
target. Loss is frames sent minus frames received by each subscriber (0 is the requirement
while subscribers keep up).

    .venv/bin/python tests/bench/bench_bus.py [FRAMES]
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import sys
import tempfile
import time
import typing as t
from pathlib import Path

FRAME_TEXT_BYTES = 5_000
TARGET_RATE = 20_000
IDLE_END = 3.0  # a subscriber stops after this long without a frame
WARMUP_TOPIC = "sys.bench"


def _text() -> str:
    line = "│ 5h limit: [████████░░░░░░░░] 23% used (resets 08:44) │ codex weekly 61% │\n"
    return (line * (FRAME_TEXT_BYTES // len(line) + 1))[:FRAME_TEXT_BYTES]


def _raw_body(text: str) -> dict[str, t.Any]:
    from bus.frames import draft, source

    pane = {"server": "bench", "session": "s", "window": "1", "pane_id": "%3", "title": "codex",
            "command": "codex", "pid": 1, "width": 200, "height": 50}
    return draft("raw", "codex", source("screen", "parsed"), pane=pane, trigger="output",
                 text=text, sha256=hashlib.sha256(text.encode()).hexdigest())


def _pace(index: int, start: float, rate: float | None) -> None:
    if rate is None:
        return
    due = start + index / rate
    delay = due - time.perf_counter()
    if delay > 0.0005:
        time.sleep(delay)


# -- raw pyzmq ---------------------------------------------------------------------------------
def _raw_sub(endpoint: str, ready: t.Any, results: t.Any) -> None:
    import zmq

    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(endpoint)
    count = 0
    last = 0.0
    while True:
        if not sub.poll(int(IDLE_END * 1000)):
            break
        topic, _body = sub.recv_multipart()
        if topic == b"warmup":
            ready.set()
            continue
        count += 1
        last = time.time()
    results.put((count, last, 0, 0))
    context.destroy(0)


def _raw_pub(endpoint: str, frames: int, rate: float | None, ready: t.Any,
             started: t.Any) -> None:
    import orjson
    import zmq

    context = zmq.Context()
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)
    pub.bind(endpoint)
    while not ready.wait(0.05):
        pub.send_multipart([b"warmup", b"{}"])
    body = orjson.dumps(_raw_body(_text()))
    start_wall = time.time()
    start = time.perf_counter()
    for index in range(frames):
        _pace(index, start, rate)
        pub.send_multipart([b"raw.codex.3", body])
    started.put(start_wall)
    context.destroy(linger=10_000)


# -- through the broker ------------------------------------------------------------------------
def _broker(home: str, stop: t.Any, up: t.Any) -> None:
    os.environ["PANEBUS_HOME"] = home
    from bus.broker import Broker
    from bus.endpoints import Endpoints

    broker = Broker(Endpoints.default(), heartbeat_interval=0)
    broker.start()
    up.set()
    stop.wait(600)
    broker.stop(timeout=5)


def _bus_sub(home: str, ready: t.Any, results: t.Any) -> None:
    os.environ["PANEBUS_HOME"] = home
    from bus.client import Subscriber
    from bus.endpoints import Endpoints

    count = 0
    last = 0.0
    with Subscriber(Endpoints.default(), prefixes=["raw.", WARMUP_TOPIC], name="bench") as sub:
        while (item := sub.recv(IDLE_END)) is not None:
            if item[0] == WARMUP_TOPIC:
                ready.set()
                continue
            count += 1
            last = time.time()
        results.put((count, last, sub.gaps, sub.rejected))


def _bus_pub(home: str, frames: int, rate: float | None, ready: list[t.Any],
             started: t.Any) -> None:
    os.environ["PANEBUS_HOME"] = home
    from bus.client import Publisher
    from bus.endpoints import Endpoints
    from bus.frames import draft, source

    body = _raw_body(_text())
    warmup = draft("sys", "unknown", source("manual", "parsed"), what="bench")
    with Publisher(Endpoints.default(), name="bench") as pub:
        pub.wait_ready(10)
        while not all(event.is_set() for event in ready):
            pub.send(warmup, topic=WARMUP_TOPIC)
            time.sleep(0.05)
        start_wall = time.time()
        start = time.perf_counter()
        for index in range(frames):
            _pace(index, start, rate)
            pub.send(body)
        started.put(start_wall)


def run_case(kind: str, subscribers: int, frames: int, rate: float | None) -> str:
    context = mp.get_context("spawn")
    results = context.Queue()
    started = context.Queue()
    ready = [context.Event() for _ in range(subscribers)]
    with tempfile.TemporaryDirectory(prefix="pbb-") as tmp:
        procs = []
        stop = context.Event()
        if kind == "raw":
            endpoint = f"ipc://{Path(tmp) / 'raw.sock'}"
            pub = context.Process(target=_raw_pub, args=(endpoint, frames, rate, ready[0]
                                                         if subscribers == 1 else _All(ready),
                                                         started))
            pub.start()
            time.sleep(0.2)  # the bench's own PUB must bind before SUBs connect (not a test)
            subs = [context.Process(target=_raw_sub, args=(endpoint, event, results))
                    for event in ready]
        else:
            up = context.Event()
            broker = context.Process(target=_broker, args=(tmp, stop, up))
            broker.start()
            up.wait(30)
            procs.append(broker)
            subs = [context.Process(target=_bus_sub, args=(tmp, event, results))
                    for event in ready]
            pub = context.Process(target=_bus_pub, args=(tmp, frames, rate, ready, started))
        for proc in subs:
            proc.start()
        if kind != "raw":
            pub.start()
        start_wall = started.get(timeout=600)
        outcomes = [results.get(timeout=600) for _ in subs]
        for proc in [pub, *subs]:
            proc.join(30)
        stop.set()
        for proc in procs:
            proc.join(30)
    received = [count for count, *_ in outcomes]
    elapsed = max(last for _, last, *_ in outcomes) - start_wall
    gaps = sum(outcome[2] for outcome in outcomes)
    rejected = sum(outcome[3] for outcome in outcomes)
    loss = sum(frames - count for count in received)
    rate_text = "unpaced" if rate is None else f"paced {rate:,.0f}/s"
    per_sub = frames / elapsed if elapsed > 0 else float("nan")
    return (f"{kind:<6} 1→{subscribers}  {rate_text:<14} {per_sub:>9,.0f} frames/s per subscriber"
            f"  ({per_sub * FRAME_TEXT_BYTES / 1e6:6.1f} MB/s)  loss {loss}"
            f"  gaps {gaps}  rejected {rejected}")


class _All:
    """``wait`` on several events at once (the raw publisher waits for every subscriber)."""

    def __init__(self, events: list[t.Any]) -> None:
        self.events = events

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        return all(event.wait(max(0.0, deadline - time.monotonic())) for event in self.events)


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
    print(f"{frames:,} frames of {FRAME_TEXT_BYTES:,} B text each; cpus: {os.cpu_count()}; "
          f"every party in its own process")
    for kind, subscribers, rate in [
        ("raw", 1, None), ("raw", 3, None),
        ("broker", 1, None), ("broker", 3, None),
        ("broker", 1, TARGET_RATE), ("broker", 3, TARGET_RATE),
    ]:
        print(run_case(kind, subscribers, frames, rate), flush=True)


if __name__ == "__main__":
    main()
