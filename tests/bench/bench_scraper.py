"""Scraper benchmark: capture cost, output→frame latency, idle CPU. Prints figures.

Run: ``.venv/bin/python tests/bench/bench_scraper.py [--panes 20] [--cpu-seconds 60]``

1. Capture cost per pane: ``capture-pane`` through the control client vs libtmux
   ``Pane.capture_pane()`` (which forks a ``tmux`` process per call). Target ≥ 20× cheaper.
2. Latency from pane output to the raw frame on the bus, with output triggers and the default
   settings (p50/p99), for the two kinds of output the output gate tells apart: a line that may
   hold a figure (it says "limit"), captured at once, and any other line, coalesced (captured
   within about a second). Each sample types a new line into one of several stand-in panes in
   turn, so the per-pane ``min_interval`` does not hold a sample back. The lines differ in
   letters, not digits: a change of digits alone is a timer tick, which is never published.
3. CPU of a real ``panebus scrape`` process (plus its children: the ``tmux -C`` client) over
   ``--cpu-seconds`` with N idle agent panes, from ``/proc/<pid>/stat``; also the set of
   child processes seen (no subprocess per tick: only the control client should appear).

Everything runs on a private tmux socket and a temp PANEBUS_HOME; nothing is left behind.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

FIXTURE = (
    REPO.parent / "shared/fixtures/screens/codex/codex-0.169.0-main-composer-chatgpt-fresh.txt"
)
STANDIN = (
    'stty -echo 2>/dev/null; f="$1"; show() { printf "\\033[H\\033[2J"; cat "$f"; }; show; '
    'while IFS= read -r l; do show; [ -z "$l" ] || printf "%s\\n" "$l"; done'
)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def setup_env(root: Path) -> None:
    """Private PANEBUS_HOME and agent dirs; a plain shell for panes."""
    home = root / "home"
    home.mkdir()
    os.environ.update(
        PANEBUS_HOME=str(root / "pb"),
        HOME=str(home),
        XDG_RUNTIME_DIR=str(root / "run"),
        CODEX_HOME=str(home / ".codex"),
        CLAUDE_CONFIG_DIR=str(home / ".claude"),
        SHELL="/bin/sh",
    )
    (root / "run").mkdir(mode=0o700)


def start_panes(socket: str, count: int, bin_dir: Path) -> list[str]:
    """A tmux server with ``count`` stand-in Codex panes showing a real idle screen."""
    import libtmux

    codex = bin_dir / "codex"
    codex.symlink_to("/bin/sh")
    command = f"exec {codex} -c {shlex.quote(STANDIN)} codex {shlex.quote(str(FIXTURE))}"
    server = libtmux.Server(socket_name=socket)
    session = server.new_session(session_name="bench", window_command=command, x=120, y=40)
    for _ in range(count - 1):
        session.new_window(window_shell=command, attach=False)
    return [p.pane_id for w in session.windows for p in w.panes if p.pane_id]


def bench_capture(socket: str, panes: list[str]) -> dict[str, float]:
    import libtmux

    from scraper.capture import capture_args
    from scraper.config import ServerSpec
    from scraper.control import ControlClient

    client = ControlClient(ServerSpec(socket_name=socket), "bench")
    assert client.start(timeout=5)
    rounds = 20
    try:
        start = time.perf_counter()
        for _ in range(rounds):
            for pane_id in panes:
                client.command(capture_args(pane_id))
        control = (time.perf_counter() - start) / (rounds * len(panes))
        start = time.perf_counter()
        for _ in range(rounds):
            client.commands([capture_args(pane_id) for pane_id in panes])
        batched = (time.perf_counter() - start) / (rounds * len(panes))
    finally:
        client.close()
    server = libtmux.Server(socket_name=socket)
    objects = [p for w in server.sessions[0].windows for p in w.panes]
    start = time.perf_counter()
    for _ in range(2):
        for pane in objects:
            pane.capture_pane()
    libtmux_cost = (time.perf_counter() - start) / (2 * len(objects))
    return {"control_us": control * 1e6, "batched_us": batched * 1e6,
            "libtmux_us": libtmux_cost * 1e6, "ratio": libtmux_cost / control,
            "ratio_batched": libtmux_cost / batched}


def bench_latency(socket: str, panes: list[str], samples: int) -> dict[str, float]:
    from bus.broker import Broker
    from bus.endpoints import Endpoints
    from bus.publisher import Publisher
    from bus.subscribers import Subscriber
    from scraper.config import ScraperConfig, ServerSpec
    from scraper.control import ControlClient
    from scraper.scrape import Scraper

    endpoints = Endpoints.default()
    broker = Broker(endpoints)
    broker.start()
    config = ScraperConfig(servers=(ServerSpec(socket_name=socket),))
    latencies: dict[bool, list[float]] = {True: [], False: []}  # figure line or not
    sent: dict[str, float] = {}
    received = threading.Event()
    stop = threading.Event()

    def listen(sub: Subscriber) -> None:
        for _, body in sub.iter(timeout=0.1, stop=stop):
            marker = body["text"].rsplit("\n", 1)[-1]
            if marker in sent:
                latencies[marker.startswith("limit")].append(
                    time.perf_counter() - sent.pop(marker))
                received.set()

    typist = ControlClient(ServerSpec(socket_name=socket), "bench")
    assert typist.start(timeout=5)
    with Publisher(endpoints, name="scraper") as pub, Subscriber(
        endpoints, prefixes=["raw."], name="bench"
    ) as sub:
        assert pub.wait_ready(timeout=5)
        scraper = Scraper(config, pub, file_triggers=False)
        scraper.start()
        listener = threading.Thread(target=listen, args=(sub,), daemon=True)
        listener.start()
        try:
            assert scraper.wait_connected(10)
            deadline = time.monotonic() + 20
            while len(scraper.watched()) < len(panes) and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.5)  # let startup captures settle
            lanes = panes[: max(1, min(len(panes), 12))]
            for index in range(samples):
                pane_id = lanes[index % len(lanes)]
                word = "".join(chr(97 + int(digit)) for digit in str(index))  # 12 -> "bc"
                marker = f"limit sample-{word}" if index % 2 else f"sample-{word}"
                received.clear()
                sent[marker] = time.perf_counter()
                typist.command(["send-keys", "-t", pane_id, "-l", marker])
                typist.command(["send-keys", "-t", pane_id, "Enter"])
                received.wait(3)
                time.sleep(0.1)
        finally:
            stop.set()
            listener.join(5)
            scraper.stop()
            typist.close()
    broker.stop(timeout=5)
    if os.environ.get("BENCH_DEBUG"):
        print("latencies ms in order:", {kind: [round(x * 1000) for x in values]
                                         for kind, values in latencies.items()})
    found: dict[str, float] = {"lost": float(samples - sum(map(len, latencies.values())))}
    for figure, name in ((True, "figure"), (False, "other")):
        values = sorted(latencies[figure])
        found[f"{name}_p50_ms"] = statistics.median(values) * 1000 if values else float("nan")
        found[f"{name}_p99_ms"] = (values[min(len(values) - 1, int(len(values) * 0.99))] * 1000
                                   if values else float("nan"))
        found[f"{name}_samples"] = float(len(values))
    return found


def _cpu_ticks(pid: int) -> tuple[int, int]:
    """(own utime+stime, reaped children's cutime+cstime) in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


def bench_cpu(socket: str, seconds: float, interval: float) -> dict[str, t.Any]:
    from bus.broker import Broker
    from bus.endpoints import Endpoints

    broker = Broker(Endpoints.default())
    broker.start()
    process = subprocess.Popen(
        [sys.executable, "-m", "panebus", "scrape", "-L", socket, "--interval", str(interval)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        time.sleep(5)  # start-up (imports, first sweep and captures) is not idle time
        own0, reaped0 = _cpu_ticks(process.pid)
        live0 = {c: sum(_cpu_ticks(c)) for c in _children(process.pid)}
        children_seen = set(live0)
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            time.sleep(0.5)
            children_seen.update(_children(process.pid))
        own1, reaped1 = _cpu_ticks(process.pid)
        live1 = {c: sum(_cpu_ticks(c)) for c in _children(process.pid)}
        elapsed = time.monotonic() - start
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=15)
        broker.stop(timeout=5)
    child_ticks = sum(live1.get(c, 0) - live0.get(c, 0) for c in live1) + (reaped1 - reaped0)
    own = own1 - own0
    return {
        "own_pct": 100.0 * own / CLK_TCK / elapsed,
        "children_pct": 100.0 * child_ticks / CLK_TCK / elapsed,
        "children_seen": float(len(children_seen)),
        "seconds": elapsed,
        "summary": out.strip(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--panes", type=int, default=20)
    parser.add_argument("--cpu-seconds", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=30.0,
                        help="timer interval for the CPU run (default: the config default)")
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    if not FIXTURE.exists():
        print(f"fixtures missing at {FIXTURE}", file=sys.stderr)
        return 1
    socket = f"pbbench{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="pbbench") as tmp:
        root = Path(tmp)
        setup_env(root)
        (root / "bin").mkdir()
        try:
            panes = start_panes(socket, args.panes, root / "bin")
            time.sleep(1.0)
            capture = bench_capture(socket, panes)
            print(f"capture per pane: control client {capture['control_us']:.0f} µs one by one, "
                  f"{capture['batched_us']:.0f} µs pipelined (a sweep); libtmux capture_pane "
                  f"{capture['libtmux_us']:.0f} µs → {capture['ratio']:.1f}× / "
                  f"{capture['ratio_batched']:.1f}× cheaper (target ≥ 20×)")
            latency = bench_latency(socket, panes, args.samples)
            for name, what in (("figure", "a line that may hold a figure, captured at once"),
                               ("other", "any other line, coalesced")):
                print(f"output → raw frame, {what}: p50 {latency[f'{name}_p50_ms']:.1f} ms, "
                      f"p99 {latency[f'{name}_p99_ms']:.1f} ms over "
                      f"{latency[f'{name}_samples']:.0f} samples")
            print(f"  ({latency['lost']:.0f} lost)")
            cpu = bench_cpu(socket, args.cpu_seconds, args.interval)
            print(f"panebus scrape, {args.panes} idle agent panes, {cpu['seconds']:.0f} s, "
                  f"timer {args.interval:g} s: {cpu['own_pct']:.2f}% of a core "
                  f"(+ children {cpu['children_pct']:.2f}%); child processes seen: "
                  f"{cpu['children_seen']:.0f} (target ≤ 1%, only the control client)")
            print(f"  scrape summary: {cpu['summary']}")
        finally:
            subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True,
                           check=False, timeout=10)
            tmux_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
            (tmux_dir / socket).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
