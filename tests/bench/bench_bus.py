"""Throughput of the bus for 5 KB frames, with loss counted, beside raw pyzmq PUB→SUB.

Run: ``.venv/bin/python tests/bench/bench_bus.py [--quick] [--frames N] [--rounds R]``. Every
party is its own process (broker, publisher, each subscriber), as in real use. Rate = frames
delivered to each subscriber / (last delivery − first send). Loss = frames sent − frames a
subscriber got. The broker runs unpaced (as fast as the publisher stamps) and paced at the
20,000 frames/s target, with panebus subscribers, and once more with plain SUB sockets that
only count ("count": the broker's own rate when subscribers keep up). Each scenario prints the
CPU all parties used per frame and the rate that bounds on this machine's CPUs. Every scenario
runs ``--rounds`` times, interleaved, and a summary gives the median and the range: on a
shared machine one run can be tens of percent off the next. Not a test: figures depend on the
machine; the target is ≥ 20,000 frames/s with 0 loss while subscribers keep up.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import queue
import statistics
import sys
import tempfile
import time
import typing as t

FRAME_TEXT = 5 * 1024 - 600  # plus ~600 bytes of envelope and pane: 5 KB on the wire
IDLE_END = 3.0
TARGET_RATE = 20_000.0
READY_TIMEOUT = 20.0
WAIT = 0.2
"""Seconds a subscriber waits for the next frame before it checks whether it is done."""

if t.TYPE_CHECKING:
    from multiprocessing.queues import Queue


def text_of(size: int) -> str:
    """Pane-like text of ``size`` bytes."""
    line = "  5h limit: [########----] 63% used (resets 14:05) | weekly 12% | gpt-5-codex\n"
    return (line * (size // len(line) + 1))[:size]


def raw_draft() -> dict[str, t.Any]:
    """One raw frame draft with 5 KB of text."""
    from bus.frames import draft, source

    text = text_of(FRAME_TEXT)
    return draft(
        "raw", "codex", source("screen", "parsed"),
        pane={"server": "bench", "session": "s", "window": "1", "pane_id": "%1",
              "title": "codex", "command": "codex", "pid": 1, "width": 120, "height": 40},
        trigger="timer", text=text, sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


# -- bus parties -------------------------------------------------------------------------
def run_broker(home: str, stop: t.Any, results: Queue[t.Any]) -> None:
    """The broker, until ``stop`` is set; reports the CPU time it used."""
    os.environ["PANEBUS_HOME"] = home
    from bus.broker import Broker
    from bus.endpoints import Endpoints

    broker = Broker(Endpoints.default(), heartbeat_interval=0).start()
    cpu = time.process_time()
    changes: list[tuple[float, int]] = []  # (when, frames forwarded) each time it moved
    while not stop.wait(0.01):  # sampled: the broker's process must not pay for the bench
        if not changes or changes[-1][1] != broker.forwarded:
            changes.append((time.monotonic(), broker.forwarded))
    broker.stop(timeout=5.0)
    results.put(("broker", time.process_time() - cpu, changes))


def run_bus_subscriber(home: str, expected: int, results: Queue[t.Any]) -> None:
    """Count the raw frames that arrive; report (count, first, last, gaps, rejected)."""
    os.environ["PANEBUS_HOME"] = home
    from bus.endpoints import Endpoints
    from bus.subscribers import Subscriber

    with Subscriber(Endpoints.default(), prefixes=["raw.", "sys.probe"], name="bench") as sub:
        cpu = time.process_time()

        def next_topic(timeout: float) -> str | None:
            item = sub.recv(timeout)
            return None if item is None else item[0]

        count, first, last = count_frames(next_topic, expected, "sys.probe", results)
        results.put(("done", count, first, last, sub.gaps, sub.rejected,
                     time.process_time() - cpu))


def count_frames(
    next_topic: t.Callable[[float], str | None], expected: int, probe: str, results: Queue[t.Any]
) -> tuple[int, float, float]:
    """Count frames until ``expected`` or idle; say "ready" on the first probe.

    Returns (count, first arrival, last arrival) in ``time.monotonic()`` seconds.
    """
    ready = False
    count, first, last = 0, 0.0, 0.0
    idle_since = time.monotonic()
    while count < expected:
        if time.monotonic() - idle_since > (IDLE_END if ready else READY_TIMEOUT):
            break
        topic = next_topic(WAIT)
        if topic is None:
            continue
        idle_since = time.monotonic()
        if topic == probe:
            if not ready:
                ready = True
                results.put(("ready",))
            continue
        last = time.monotonic()
        first = first or last
        count += 1
    return count, first, last


def pace(index: int, start: float, rate: float | None) -> None:
    """Sleep until frame ``index`` is due at ``rate`` frames/s (no pacing when None)."""
    if rate is not None and (delay := start + index / rate - time.monotonic()) > 0.0005:
        time.sleep(delay)


def run_bus_publisher(
    home: str, frames: int, rate: float | None, results: Queue[t.Any]
) -> None:
    """Send ``frames`` raw frames through :class:`bus.publisher.Publisher` (stamp + validate)."""
    os.environ["PANEBUS_HOME"] = home
    from bus.endpoints import Endpoints
    from bus.publisher import Publisher

    body = raw_draft()
    # linger: close() waits until every queued frame has reached the broker (a publisher that
    # outruns the broker leaves a backlog; the default 0.5 s linger would discard its tail).
    with Publisher(
        Endpoints.default(), name="bench", send_timeout=10.0, linger_ms=60_000
    ) as pub:
        pub.wait_ready(timeout=10.0)
        cpu = time.process_time()
        start = time.monotonic()
        for index in range(frames):
            pace(index, start, rate)
            pub.send(body)
        results.put(("sent", start, time.monotonic(), pub.dropped, time.process_time() - cpu))


def probe_until_ready(home: str, results: Queue[t.Any], parties: int) -> None:
    """Publish ``sys.probe`` until every subscriber said it sees the bus."""
    os.environ["PANEBUS_HOME"] = home
    from bus.endpoints import Endpoints
    from bus.frames import draft, source
    from bus.publisher import Publisher

    ready = 0
    deadline = time.monotonic() + READY_TIMEOUT
    with Publisher(Endpoints.default(), name="probe") as pub:
        while ready < parties and time.monotonic() < deadline:
            pub.send(draft("sys", "unknown", source("manual", "parsed"), what="probe"))
            try:
                while True:
                    results.get(timeout=0.05)
                    ready += 1
            except queue.Empty:
                pass
    if ready < parties:
        raise RuntimeError("subscribers did not come up")


def bench_broker(
    frames: int, subscribers: int, rate: float | None = None, *, counting: bool = False
) -> dict[str, t.Any]:
    """1 publisher → broker → ``subscribers`` subscribers, unpaced or paced at ``rate``.

    ``counting``: the subscribers are plain SUB sockets that only count what arrives, so they
    keep up and what is measured is the broker (with panebus subscribers, which validate
    every frame, the subscribers are what a machine with few CPUs runs out of first).
    """
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="pbbench") as home:
        stop = ctx.Event()
        results: Queue[t.Any] = ctx.Queue()
        broker = ctx.Process(target=run_broker, args=(home, stop, results))
        broker.start()
        receiver = run_counting_subscriber if counting else run_bus_subscriber
        subs = [ctx.Process(target=receiver, args=(home, frames, results))
                for _ in range(subscribers)]
        for proc in subs:
            proc.start()
        probe_until_ready(home, results, subscribers)
        publisher = ctx.Process(target=run_bus_publisher, args=(home, frames, rate, results))
        publisher.start()
        outcome = collect(results, subscribers + 1)
        for proc in (publisher, *subs):
            proc.join(30)
        stop.set()
        outcome.append(results.get(timeout=30))
        broker.join(30)
    paced = "" if rate is None else f" @{rate / 1000:g}k"
    counted = " count" if counting else ""
    return summarise(f"broker 1→{subscribers}{paced}{counted}", frames, outcome)


# -- raw pyzmq baseline ------------------------------------------------------------------
def run_counting_subscriber(home: str, expected: int, results: Queue[t.Any]) -> None:
    """A plain SUB on the broker's subscribe endpoint: counts frames, decodes nothing."""
    os.environ["PANEBUS_HOME"] = home
    from bus.endpoints import Endpoints

    run_raw_subscriber(Endpoints.default().subscribe, expected, results, probe="sys.probe")


def queue_for(frames: int) -> int:
    """The baseline's queue depth: the whole run fits, so plain PUB (which drops at its high-water
    mark instead of waiting, unlike panebus publishers) loses nothing however far it runs ahead.
    Never shallower than panebus's own queues."""
    from bus.protocol import HWM

    return max(HWM, frames + 1_000)


def run_raw_subscriber(
    endpoint: str, expected: int, results: Queue[t.Any], probe: str = "probe"
) -> None:
    """Plain SUB: count frames, no decoding."""
    import zmq

    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.RCVHWM, queue_for(expected))
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(endpoint)
    cpu = time.process_time()

    sub.setsockopt(zmq.RCVTIMEO, int(WAIT * 1000))  # what count_frames asks for, set once

    def next_topic(_timeout: float) -> str | None:
        try:
            return bytes(sub.recv_multipart()[0]).decode()  # a blocking receive: no poll
        except zmq.Again:
            return None

    count, first, last = count_frames(next_topic, expected, probe, results)
    results.put(("done", count, first, last, 0, 0, time.process_time() - cpu))
    sub.close(linger=0)


def bench_raw(frames: int, subscribers: int) -> dict[str, t.Any]:
    """Plain pyzmq PUB (pre-encoded 5 KB bodies) → SUB, no broker."""
    import zmq

    from bus import codec

    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="pbraw") as directory:
        endpoint = f"ipc://{directory}/raw.sock"
        pub = zmq.Context.instance().socket(zmq.PUB)
        pub.setsockopt(zmq.SNDHWM, queue_for(frames))
        pub.setsockopt(zmq.LINGER, 1000)
        pub.bind(endpoint)
        results: Queue[t.Any] = ctx.Queue()
        subs = [ctx.Process(target=run_raw_subscriber, args=(endpoint, frames, results))
                for _ in range(subscribers)]
        for proc in subs:
            proc.start()
        ready = 0
        deadline = time.monotonic() + READY_TIMEOUT
        while ready < subscribers and time.monotonic() < deadline:
            pub.send_multipart([b"probe", b"{}"])
            try:
                while True:
                    results.get(timeout=0.05)
                    ready += 1
            except queue.Empty:
                pass
        body = raw_draft()
        body.update(v=1, id="0" * 32, seq=0, producer="bench:0:raw", observed_at="x")
        parts = [b"raw.codex.1", codec.dumps(body)]
        cpu = time.process_time()
        start = time.monotonic()
        for _ in range(frames):
            pub.send_multipart(parts)
        outcome = [("sent", start, time.monotonic(), 0, time.process_time() - cpu),
                   *collect(results, subscribers)]
        for proc in subs:
            proc.join(30)
        pub.close()
    return summarise(f"raw pyzmq 1→{subscribers}", frames, outcome)


# -- reporting ---------------------------------------------------------------------------
def collect(results: Queue[t.Any], count: int) -> list[tuple[t.Any, ...]]:
    """``count`` final reports (sent/done) from the parties."""
    outcome: list[tuple[t.Any, ...]] = []
    while len(outcome) < count:
        report = results.get(timeout=300)
        if report[0] != "ready":
            outcome.append(report)
    return outcome


def broker_rate(frames: int, outcome: list[tuple[t.Any, ...]]) -> float | None:
    """Frames/s the broker forwarded: its last ``frames`` forwards (the probes came before)."""
    report = next((r for r in outcome if r[0] == "broker"), None)
    if report is None or not report[2]:
        return None
    changes: list[tuple[float, int]] = report[2]
    total = changes[-1][1]
    first = next(when for when, count in changes if count > total - frames)
    last = next(when for when, count in changes if count >= total)
    return frames / (last - first) if last > first else None


def summarise(name: str, frames: int, outcome: list[tuple[t.Any, ...]]) -> dict[str, t.Any]:
    """Rate per subscriber and in total, loss, gaps."""
    sent = next(report for report in outcome if report[0] == "sent")
    done = [report for report in outcome if report[0] == "done"]
    start = sent[1]
    rates = [report[1] / (report[3] - start) if report[1] else 0.0 for report in done]
    return {
        "scenario": name,
        "frames": frames,
        "publish_rate": frames / (sent[2] - start),
        "delivery_rate_min": min(rates),
        "lost": [frames - report[1] for report in done],
        "gaps": [report[4] for report in done],
        "rejected": [report[5] for report in done],
        "dropped_at_publisher": sent[3],
        "broker_rate": broker_rate(frames, outcome),
        # All parties' CPU per frame (µs): what bounds the rate when they share few CPUs.
        "cpu_total_us": (
            sent[4] + sum(report[6] for report in done)
            + sum(r[1] for r in outcome if r[0] == "broker")
        ) / frames * 1e6,
        # CPU per frame (µs) of each party, its ZeroMQ I/O thread included.
        "cpu_us": {
            "publisher": sent[4] / frames * 1e6,
            "broker": next((r[1] / frames * 1e6 for r in outcome if r[0] == "broker"), None),
            "subscriber": max(report[6] for report in done) / frames * 1e6,
        },
    }


def report(scenario: dict[str, t.Any], size: int, cpus: int) -> None:
    """Print one run of one scenario: rates, loss, each party's CPU and the CPU bound."""
    mbps = scenario["delivery_rate_min"] * size / 1e6
    print(f"{scenario['scenario']:<22} {scenario['publish_rate']:>10,.0f} "
          f"{scenario['delivery_rate_min']:>10,.0f} {mbps:>6.0f}  {scenario['lost']} "
          f"{scenario['gaps']} {scenario['rejected']}", flush=True)
    cpu = "  ".join(f"{role} {us:.1f}" for role, us in scenario["cpu_us"].items()
                    if us is not None)
    forwarded = scenario["broker_rate"]
    through = "" if forwarded is None else f"; broker forwarded {forwarded:,.0f}/s"
    print(f"{'':<22} CPU µs per frame: {cpu}{through}", flush=True)
    total = scenario["cpu_total_us"]
    print(f"{'':<22} all parties {total:.0f} µs CPU per frame: at most "
          f"{cpus * 1e6 / total:,.0f} frames/s on {cpus} CPUs", flush=True)


def spread(values: list[float]) -> str:
    """``median (min–max)`` of a scenario's runs, as whole numbers."""
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:,.0f}"
    return f"{median:,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def summary(runs: dict[str, list[dict[str, t.Any]]], cpus: int) -> None:
    """One line per scenario over all rounds: a shared machine varies by tens of percent."""
    print(f"\nsummary over {max(len(r) for r in runs.values())} rounds, median (min–max):")
    print(f"{'scenario':<22} {'deliver/s':>24} {'CPU µs/frame':>16} {'CPU bound/s':>24}  lost")
    for name, scenarios in runs.items():
        totals = [s["cpu_total_us"] for s in scenarios]
        print(f"{name:<22} {spread([s['delivery_rate_min'] for s in scenarios]):>24} "
              f"{spread(totals):>16} {spread([cpus * 1e6 / us for us in totals]):>24}  "
              f"{sum(sum(s['lost']) for s in scenarios)}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 frames instead of 60,000")
    parser.add_argument("--frames", type=int, help="frames per scenario")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times every scenario runs, interleaved (default 3)")
    args = parser.parse_args()
    from bus.protocol import Stamper

    frames = args.frames or (20_000 if args.quick else 60_000)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    size = len(Stamper("bench").stamp(raw_draft())[1][1])
    print(f"bench_bus: {frames} frames of {size} bytes per scenario, {cpus} CPUs, "
          f"{args.rounds} rounds")
    print(f"{'scenario':<22} {'publish/s':>10} {'deliver/s':>10} {'MB/s':>6}  "
          "lost per subscriber, gaps, rejected")
    plan: list[t.Callable[[], dict[str, t.Any]]] = [
        lambda: bench_raw(frames, 1), lambda: bench_broker(frames, 1),
        lambda: bench_raw(frames, 3), lambda: bench_broker(frames, 3),
        lambda: bench_broker(frames, 1, TARGET_RATE), lambda: bench_broker(frames, 3, TARGET_RATE),
        lambda: bench_broker(frames, 3, counting=True),
    ]
    runs: dict[str, list[dict[str, t.Any]]] = {}
    for _round in range(max(1, args.rounds)):
        for run in plan:
            scenario = run()
            runs.setdefault(scenario["scenario"], []).append(scenario)
            report(scenario, size, cpus)
    summary(runs, cpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
