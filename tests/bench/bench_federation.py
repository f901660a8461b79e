"""Several hosts: a host's frames to a central broker over tcp + CURVE, beside ipc on one host.

Run: ``.venv/bin/python tests/bench/bench_federation.py [--quick]``. Every party is its own
process: the central broker (ipc for its own clients, tcp + CURVE on 127.0.0.1 for hosts), the
host's broker with its forwarder (the ``upstream`` part of ``panebus up``), the publisher, and
the subscriber on the central broker (this process). Parsed frames (~700 bytes) carry their
send time; the subscriber takes the latency from it (one machine, one clock).

- rate: N frames sent unpaced; frames delivered / (last delivery − first send);
- latency: frames paced at 500/s; p50 and p99 of send → delivery;
- both for ``tcp+curve`` (publisher on the host's bus → forwarder → central) and ``ipc``
  (publisher on the central bus directly), in the same run;
- reconnect: the central broker killed, frames published meanwhile, the broker started again:
  seconds from its bind to the last spooled frame delivered, and from its bind to the
  forwarder's next acknowledgement;
- outage buffer: bytes on disk per frame and the forwarder's RSS before and after an outage
  of many frames, scaled to a minute at 1, 10 and 100 parsed frames/s.

Not a test: the figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
import typing as t
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

HOST = "edge"
READY = 20.0


def _parsed(index: int) -> dict[str, t.Any]:
    from bus.frames import draft, source

    return draft(
        "parsed", "codex", source("screen", "parsed"), screen="codex.bench", raw_id=None,
        stale_after=None, warnings=[], bench_ns=time.time_ns(), bench_index=index,
        limits=[{"window": "5h", "scope": None, "metric": "quota", "used_pct": 42.0,
                 "resets_at": None, "resets_text": None, "used": None, "limit": None,
                 "estimate": False},
                {"window": "weekly", "scope": None, "metric": "quota", "used_pct": 12.0,
                 "resets_at": None, "resets_text": None, "used": None, "limit": None,
                 "estimate": False}],
    )


def central(run_dir: str, keys_dir: str, listen: str, stop: t.Any, ready: t.Any) -> None:
    from bus.auth import RemoteAccess
    from bus.broker import Broker
    from bus.endpoints import Endpoints

    broker = Broker(Endpoints.ipc(Path(run_dir)), heartbeat_interval=1.0,
                    remote=RemoteAccess.listen(listen, Path(keys_dir))).start()
    ready.put(("central", time.time()))
    stop.wait()
    broker.stop()


def edge(  # noqa: PLR0917 - a multiprocessing target takes its args by position
    run_dir: str, keys_dir: str, listen: str, spool: str, stop: t.Any, ready: t.Any,
    report: t.Any,
) -> None:
    os.environ["PANEBUS_HOST"] = HOST
    import threading

    from bus.broker import Broker
    from bus.endpoints import Endpoints
    from bus.federation import Forwarder

    endpoints = Endpoints.ipc(Path(run_dir))
    broker = Broker(endpoints, heartbeat_interval=1.0).start()
    forwarder = Forwarder(endpoints, listen, HOST, Path(keys_dir), Path(spool))
    halt = threading.Event()
    thread = threading.Thread(target=forwarder.run, args=(halt,), daemon=True)
    thread.start()
    ready.put(("edge", os.getpid()))
    while not stop.wait(0.05):
        report.put((time.time(), forwarder.state.forwarded, forwarder.spool.pending_bytes,
                    forwarder.state.last_ack_at))
    halt.set()
    thread.join(10)
    broker.stop()


def publish(run_dir: str, host: str, count: int, rate: float | None, done: t.Any) -> None:
    os.environ["PANEBUS_HOST"] = host
    from bus.endpoints import Endpoints
    from bus.publisher import Publisher

    with Publisher(Endpoints.ipc(Path(run_dir)), name="bench") as publisher:
        publisher.wait_ready(10)
        began = time.monotonic()
        for index in range(count):
            if rate:
                ahead = began + index / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)  # pacing, not synchronisation
            publisher.send(_parsed(index))
    done.put(count)


def _receive(sub: t.Any, count: int, timeout: float) -> tuple[list[float], float, float]:
    """Latencies (ms) of ``count`` bench frames, first and last delivery times."""
    latencies: list[float] = []
    first = last = 0.0
    deadline = time.monotonic() + timeout
    while len(latencies) < count and time.monotonic() < deadline:
        item = sub.recv(0.5)
        if item is None or "bench_ns" not in item[1]:
            continue
        now = time.time_ns()
        latencies.append((now - item[1]["bench_ns"]) / 1e6)
        last = now / 1e9
        if len(latencies) == 1:
            first = item[1]["bench_ns"] / 1e9
    return latencies, first, last


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    unpaced = 3_000 if options.quick else 20_000
    paced = 1_000 if options.quick else 5_000
    outage_frames = 2_000 if options.quick else 20_000

    from bus.endpoints import Endpoints
    from bus.keys import UPSTREAM_KEY, generate_keys, generate_pair, key_files
    from bus.paths import ensure_private_dir
    from bus.subscribers import Subscriber
    from tests.bus.test_acked_curve_async import free_port_block

    root = Path(tempfile.mkdtemp(prefix="pb-fed-"))
    central_keys, edge_keys = root / "ck", root / "ek"
    generate_keys(central_keys)
    generate_pair(edge_keys, HOST)
    (central_keys / "authorized").mkdir(mode=0o700)
    shutil.copyfile(key_files(edge_keys, HOST)[0], central_keys / "authorized" / f"{HOST}.key")
    shutil.copyfile(key_files(central_keys, "broker")[0], key_files(edge_keys, UPSTREAM_KEY)[0])
    central_run = str(ensure_private_dir(root / "crun"))
    edge_run = str(ensure_private_dir(root / "erun"))
    spool = str(root / "spool")
    listen = f"tcp://127.0.0.1:{free_port_block()}"
    ctx = mp.get_context("spawn")
    stop_central, stop_edge = ctx.Event(), ctx.Event()
    ready, report, done = ctx.Queue(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=central, args=(central_run, str(central_keys), listen,
                                               stop_central, ready)),
             ctx.Process(target=edge, args=(edge_run, str(edge_keys), listen, spool, stop_edge,
                                            ready, report))]
    for proc in procs:
        proc.start()
    edge_pid = 0
    for _ in procs:
        name, value = ready.get(timeout=READY)
        if name == "edge":
            edge_pid = int(value)
    sub = Subscriber(Endpoints.ipc(Path(central_run)), ["parsed.codex.bench"], name="bench")
    time.sleep(1.0)  # the forwarder's link and this subscription settle (a bench, not a test)
    print(f"federation bench: {unpaced} unpaced, {paced} paced at 500/s, parsed frames "
          f"(~700 B), 127.0.0.1, CPUs {os.cpu_count()}, load {os.getloadavg()[0]:.2f}")
    try:
        for path, run_dir, host in (("tcp+curve", edge_run, HOST),
                                    ("ipc", central_run, "central")):
            sender = ctx.Process(target=publish, args=(run_dir, host, unpaced, None, done))
            sender.start()
            latencies, first, last = _receive(sub, unpaced, 120)
            sender.join(30)
            rate = len(latencies) / (last - first) if last > first else float("nan")
            print(f"  {path:<10} rate {rate:>8.0f} frames/s  delivered {len(latencies)}/"
                  f"{unpaced}")
            sender = ctx.Process(target=publish, args=(run_dir, host, paced, 500.0, done))
            sender.start()
            latencies, first, last = _receive(sub, paced, 120)
            sender.join(30)
            print(f"  {path:<10} paced 500/s: p50 {_pct(latencies, 0.5):.2f} ms  p99 "
                  f"{_pct(latencies, 0.99):.2f} ms  max {max(latencies or [0]):.2f} ms  "
                  f"delivered {len(latencies)}/{paced}")

        # Outage: the central broker killed; frames published meanwhile go to the spool.
        procs[0].kill()
        procs[0].join(10)
        rss_before = _rss_kib(edge_pid)
        sender = ctx.Process(target=publish, args=(edge_run, HOST, outage_frames, None, done))
        sender.start()
        done.get(timeout=300)
        sender.join(30)
        pending = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the forwarder spooled them all
            while not report.empty():
                _at, _forwarded, pending, _ack = report.get()
            if pending >= outage_frames * 600:
                break
            time.sleep(0.1)
        rss_after = _rss_kib(edge_pid)
        per_frame = pending / outage_frames
        print(f"  outage: {outage_frames} frames spooled, {pending / 1e6:.1f} MB on disk "
              f"({per_frame:.0f} B/frame); forwarder RSS {rss_before / 1024:.1f} → "
              f"{rss_after / 1024:.1f} MiB")
        for per_second in (1, 10, 100):
            print(f"    a minute of outage at {per_second:>3} parsed frames/s: "
                  f"{per_second * 60 * per_frame / 1e6:.2f} MB on disk")
        stop_central = ctx.Event()
        procs[0] = ctx.Process(target=central, args=(central_run, str(central_keys), listen,
                                                     stop_central, ready))
        procs[0].start()
        _name, bound_at = ready.get(timeout=READY)
        sub.close()
        sub = Subscriber(Endpoints.ipc(Path(central_run)), ["parsed.codex.bench"], name="b2")
        first_ack = None
        while time.monotonic() < deadline + 240:
            while not report.empty():
                at, _forwarded, pending, ack = report.get()
                if first_ack is None and ack and at > bound_at:
                    first_ack = at
            if pending == 0:
                break
            time.sleep(0.05)
        drained_at = time.time()
        print(f"  reconnect: first ack {((first_ack or drained_at) - bound_at):.2f} s after the "
              f"central broker bound again; {outage_frames} spooled frames delivered "
              f"{drained_at - bound_at:.2f} s after it")
    finally:
        sub.close()
        stop_edge.set()
        stop_central.set()
        for proc in procs:
            proc.join(15)
            if proc.is_alive():
                proc.kill()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
