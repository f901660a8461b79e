"""Notification latency: a parsed frame that crosses a threshold → the message on a real tmux
client attached to the pane's session.

    python tests/bench/bench_notify.py [--events 40]

Runs a broker and the notify sink (its SinkRunner, as ``panebus up`` runs it) on a private
PANEBUS_HOME, a private tmux server with one session, and a real ``tmux attach`` client in a pty.
Each round publishes a figure of a new usage window at 95 % and times until the client's
terminal output shows the event's text. Prints p50/p99/max in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=40)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="panebus-bench-notify-"))
    os.environ["PANEBUS_HOME"] = str(home)
    from bus.broker import Broker
    from bus.clock import to_rfc3339, utcnow
    from bus.endpoints import Endpoints
    from bus.paths import Paths
    from bus.publisher import Publisher
    from sinks.base import SinkRunner, build_sink
    from sinks.config import SinksConfig

    socket = f"pb-notify-{uuid.uuid4().hex[:6]}"
    subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "work",
                    "-x", "120", "-y", "40"], check=True)
    primary, secondary = pty.openpty()
    client = subprocess.Popen(["tmux", "-L", socket, "attach", "-t", "work"], stdin=secondary,
                              stdout=secondary, stderr=secondary,
                              env={**os.environ, "TERM": "xterm-256color"},
                              start_new_session=True)
    os.close(secondary)
    os.set_blocking(primary, False)
    paths = Paths.from_env()
    endpoints = Endpoints.default()
    broker = Broker(endpoints, heartbeat_interval=0).start()
    config = SinksConfig.load(paths)
    runner = SinkRunner(build_sink("notify", paths, config), endpoints, paths=paths).start()
    latencies: list[float] = []
    try:
        with Publisher(endpoints, name="bench") as pub:
            pub.wait_ready(timeout=5.0)
            pane = {"server": socket, "session": "work", "window": "0", "pane_id": "%0",
                    "title": "codex", "command": "codex", "pid": 1, "width": 120, "height": 40}
            for index in range(args.events):
                now = utcnow()
                resets = now + dt.timedelta(hours=5 + 6 * index)  # a new window each round
                body = {"kind": "parsed", "provider": "codex",
                        "source": {"kind": "screen", "confidence": "parsed"},
                        "screen": "codex.status", "raw_id": None, "stale_after": None,
                        "state": "idle", "version": None, "model": None,
                        "context_left_pct": None, "warnings": [], "pane": pane,
                        "limits": [{"window": "5h", "scope": None, "metric": "quota",
                                    "used_pct": 95.0 + index / 100, "resets_at": to_rfc3339(resets),
                                    "resets_text": None, "used": None, "limit": None,
                                    "estimate": False}]}
                want = f"at {95.0 + index / 100:g}%".encode()
                screen = bytearray()
                started = time.perf_counter()
                pub.send(body)
                while want not in screen:
                    try:
                        screen.extend(os.read(primary, 65536))
                    except BlockingIOError:
                        time.sleep(0.0005)
                    if time.perf_counter() - started > 10:
                        print(f"event {index}: not shown within 10 s", file=sys.stderr)
                        break
                else:
                    latencies.append((time.perf_counter() - started) * 1000)
                time.sleep(0.05)
    finally:
        runner.stop(timeout=5.0)
        broker.stop(timeout=5.0)
        client.terminate()
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False)
    latencies.sort()
    if not latencies:
        print("no event reached the client")
        return 1
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"notification latency, event → attached client ({len(latencies)}/{args.events} shown):"
          f" p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms,"
          f" max {latencies[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
