"""Sink benchmarks: alias read (shell function vs ``panebus alias``), archive write throughput.

Run: ``.venv/bin/python tests/bench/bench_sinks.py`` (prints figures; not collected by pytest).
Everything happens under a temporary PANEBUS_HOME; the user's dirs are never touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import uuid
from pathlib import Path

if t.TYPE_CHECKING:
    from sinks.base import SinkRunner

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

PANEBUS = str(Path(sys.executable).with_name("panebus"))


def seed_alias(home: Path) -> None:
    from bus.clock import to_rfc3339, utcnow
    from bus.paths import Paths
    from sinks import alias_cache

    now = utcnow()

    def lim(window: str, used: float, hours: float) -> dict[str, t.Any]:
        return {"window": window, "scope": None, "metric": "quota", "used_pct": used,
                "resets_at": to_rfc3339(now + dt.timedelta(hours=hours)), "resets_text": None,
                "used": None, "limit": None, "estimate": False}

    bodies = [
        {"v": 1, "kind": "parsed", "id": uuid.uuid4().hex, "seq": 0, "producer": "bench",
         "observed_at": to_rfc3339(now), "provider": provider,
         "source": {"kind": "screen", "confidence": "parsed"}, "screen": f"{provider}.x",
         "raw_id": None, "stale_after": None, "model": "m", "warnings": [],
         "limits": [lim("5h", 23.0, 2), lim("weekly", 42.0, 70)]}
        for provider in ("codex", "claude")
    ]
    alias_cache.update(Paths.from_env().alias_dir, bodies)


def bench_alias(home: Path) -> None:
    seed_alias(home)
    calls = 500
    script = (
        f'eval "$({PANEBUS} shell-init bash)"\n'
        "occ >/dev/null\n"  # warm the page cache
        f"s=$EPOCHREALTIME; for i in $(seq {calls}); do occ >/dev/null; done; e=$EPOCHREALTIME\n"
        'echo "$s $e"\n'
    )
    out = subprocess.run(["bash", "--norc", "-c", script], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, check=True, timeout=120).stdout.split()
    start, end = (float(x.replace(",", ".")) for x in out)
    per_call = (end - start) / calls * 1000
    print(f"alias read, shell function (bash builtins): {per_call:.3f} ms/call over {calls} calls "
          f"(target <= 5 ms)")
    one_shot = []
    for _ in range(5):
        begin = time.perf_counter()
        subprocess.run(["bash", "--norc", "-c", f'eval "$({PANEBUS} shell-init bash)"; occ'],
                       stdin=subprocess.DEVNULL, capture_output=True, check=True, timeout=60)
        one_shot.append((time.perf_counter() - begin) * 1000)
    cli = []
    for _ in range(10):
        begin = time.perf_counter()
        subprocess.run([PANEBUS, "alias", "occ"], stdin=subprocess.DEVNULL, capture_output=True,
                       check=True, timeout=60)
        cli.append((time.perf_counter() - begin) * 1000)
    print(f"alias read, `panebus alias occ` (Python start): median {statistics.median(cli):.1f} ms "
          f"-> shell function is {statistics.median(cli) / per_call:.0f}x faster")
    print(f"(new bash + shell-init eval + occ, for reference: median "
          f"{statistics.median(one_shot):.1f} ms)")


def raw_body(number: int, size: int) -> dict[str, t.Any]:
    from bus.clock import now_rfc3339

    text = f"screen {number} " + "x" * size
    return {"v": 1, "kind": "raw", "id": uuid.uuid4().hex, "seq": number, "producer": "bench",
            "observed_at": now_rfc3339(), "provider": "codex",
            "source": {"kind": "screen", "confidence": "parsed"},
            "pane": {"server": "default", "session": "s", "window": "1",
                     "pane_id": f"%{number % 4}", "title": "", "command": "codex", "pid": 1,
                     "width": 120, "height": 40},
            "trigger": "timer", "text": text, "sha256": hashlib.sha256(text.encode()).hexdigest()}


def bench_archive_writer(home: Path, frames: int = 20000, size: int = 5000) -> None:
    from sinks.archive import ArchiveWriter
    from sinks.config import ArchiveConfig

    for policy in ("interval", "always"):
        count = frames if policy == "interval" else 2000
        bodies = [raw_body(n, size) for n in range(count)]
        writer = ArchiveWriter(ArchiveConfig(root=home / f"archive-{policy}", fsync=policy)).open()
        begin = time.perf_counter()
        acked = 0
        for body in bodies:
            writer.write(body)
            acked += len(writer.sync_if_due())
        acked += len(writer.close())
        elapsed = time.perf_counter() - begin
        label = "default `interval` (1 s / 1000 frames)" if policy == "interval" else "`always`"
        print(f"archive writer, fsync {label}: {count / elapsed:,.0f} frames/s "
              f"({size} B text, {acked} acked)")


@contextlib.contextmanager
def sink_on_a_broker(name: str) -> t.Iterator[SinkRunner]:
    """A broker in a thread and one sink runner on it, both stopped afterwards."""
    from bus.broker import Broker
    from bus.endpoints import Endpoints
    from bus.paths import Paths
    from sinks.base import SinkRunner, build_sink
    from sinks.config import SinksConfig

    paths = Paths.from_env()
    endpoints = Endpoints.default()
    broker = Broker(endpoints)
    broker.start()
    runner = SinkRunner(
        build_sink(name, paths, SinksConfig.defaults(paths)), endpoints, paths=paths
    ).start()
    try:
        yield runner
    finally:
        runner.stop()
        broker.stop(timeout=5.0)


def bench_archive_over_bus(home: Path, frames: int = 5000, size: int = 5000) -> None:
    from bus.publisher import Publisher
    from bus.subscribers import Subscriber

    acked: set[str] = set()
    with sink_on_a_broker("archive") as runner:
        endpoints = runner.endpoints
        with Subscriber(endpoints, prefixes=["sys.sink.archive"], name="acks") as acks, \
                Publisher(endpoints, name="bench") as pub:
            pub.wait_ready(timeout=5.0)
            drafts = [raw_body(n, size) for n in range(frames)]
            for body in drafts:
                for key in ("v", "id", "seq", "producer"):
                    body.pop(key)
            begin = time.perf_counter()
            ids = set()
            for body in drafts:
                ids.add(pub.send(body)["id"])
                if len(ids) % 500 == 0:
                    time.sleep(0.001)  # PUB/SUB drops when the sink lags: pace a little
            written_at = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not ids <= acked:
                item = acks.recv(timeout=0.05)
                if item is not None and "ack" in item[1]:
                    acked.update(item[1]["ack"]["ids"])
                if written_at is None and runner.sink.health()["written"] >= frames:
                    written_at = time.perf_counter()
            elapsed = time.perf_counter() - begin
        written = (written_at or time.perf_counter()) - begin
        print(f"archive sink over the bus, default fsync: {frames / written:,.0f} frames/s "
              f"written; all {len(ids & acked)}/{frames} acknowledged after {elapsed:.2f} s "
              f"({len(ids & acked) / elapsed:,.0f} frames/s incl. the last fsync interval)")


def bench_alias_over_bus(home: Path, frames: int = 50) -> None:
    """Parsed frame published -> ``occ`` file shows it (the sink half of pane change -> alias)."""
    from bus.clock import to_rfc3339, utcnow
    from bus.paths import Paths
    from bus.publisher import Publisher

    paths = Paths.from_env()
    occ = paths.alias_dir / "occ"
    latencies = []
    with sink_on_a_broker("alias") as runner:
        with Publisher(runner.endpoints, name="bench-alias") as pub:
            pub.wait_ready(timeout=5.0)
            for number in range(frames):
                used = float(number % 100) + 0.5
                now = utcnow()
                body = {"kind": "parsed", "provider": "codex", "observed_at": to_rfc3339(now),
                        "source": {"kind": "screen", "confidence": "parsed"},
                        "screen": "codex.status", "raw_id": None, "stale_after": None,
                        "warnings": [], "limits": [{
                            "window": "5h", "scope": None, "metric": "quota",
                            "used_pct": used, "resets_at": None, "resets_text": None,
                            "used": None, "limit": None, "estimate": False}]}
                begin = time.perf_counter()
                pub.send(body)
                wanted = f"5h {used:g}%"
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    if occ.exists() and wanted in occ.read_text():
                        latencies.append((time.perf_counter() - begin) * 1000)
                        break
                    time.sleep(0.0005)
        latencies.sort()
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        print(f"parsed frame published -> occ file updated (alias sink, fsynced): "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(latencies)} frames")


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="panebus-bench-sinks-"))
    os.environ["PANEBUS_HOME"] = str(home)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(home / "run"))
    try:
        bench_alias(home)
        bench_archive_writer(home)
        bench_archive_over_bus(home)
        bench_alias_over_bus(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
