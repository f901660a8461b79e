"""Long run: RSS and open files of ``panebus up`` over an hour-equivalent of frames.

Run: ``python tests/bench/bench_longrun.py [--hours 1] [--rate 400] [--panes 20]``.
Not collected by pytest. Everything lives in a temp dir and a private tmux server.

An hour of heavy real use is taken as 20 agent panes that each show a new screen every 2 s:
36,000 raw frames (5 KB) an hour, and new figures (a parsed frame) on every 10th screen. The
bench publishes that many frames into the ``up`` under test at ``--rate`` raw frames a second
at most, and never more than 2,000 frames ahead of the archive or 20 parsed frames ahead of the
alias sink. Unpaced, a sink that falls behind (the archive on a busy 2-CPU machine at about 130
frames a second; the alias sink, whose every update is four fsynced file replacements) queues
frames up to the bus's high-water mark — every subscriber reads every frame, for gap detection
— and RSS measures that backlog rather than a leak. Frames come from pane ids that come and go
(a new fake pane every 200 frames, so the archive and every per-pane structure see churn), while
real tmux panes print all the time and are killed and replaced by five every 10 s. It samples the
RSS and the open file descriptors of the ``up`` process, prints them at intervals, and prints the
slope of each over the second half of the run (after warm-up): flat means ≈ 0.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

from bus.endpoints import Endpoints
from bus.frames import draft, source
from bus.publisher import Publisher
from panebus.memory import resident_kb
from panebus.supervisor import HEALTH_FILE, read_health

sys.path.insert(0, str(Path(__file__).parent))
from bench_chaos import PANEBUS, Chaos, Options, Tmux  # the bench's sibling

FRAMES_PER_HOUR = 36_000  # raw frames of 20 panes with a new screen every 2 s
AHEAD = 2_000  # frames the publisher may be ahead of the archive
AHEAD_PARSED = 20  # parsed frames it may be ahead of the alias sink
PARSED_EVERY = 10  # a parsed frame with new figures every 10th screen (figures move slowly)
FAKE_PANE_FRAMES = 200
TEXT_BYTES = 5000
PANE_LOOP = "while :; do date +%s.%N; sleep 1; done"
SINK_COLUMNS = ("archive", "alias", "windows", "featurelog", "forecast", "notify")


def rss_kb(pid: int) -> int:
    return resident_kb(pid) or 0


def open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def fd_kinds(pid: int) -> dict[str, int]:
    """What the open descriptors are: sockets, pipes, archive segments, other files."""
    kinds: dict[str, int] = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        kind = target.split(":", 1)[0] if ":" in target and not target.startswith("/") else (
            "archive segment" if target.endswith(".rec") else "file " + Path(target).parent.name)
        kinds[kind] = kinds.get(kind, 0) + 1
    return dict(sorted(kinds.items(), key=lambda item: -item[1]))


def handled(health_file: Path) -> dict[str, int]:
    """Frames each sink of ``up`` has handled, from the health file its supervisor writes."""
    document = read_health(health_file) or {"parts": []}
    return {str(row["name"]).removeprefix("sink."): int(row["detail"].get("handled", 0))
            for row in document["parts"]
            if str(row["name"]).startswith("sink.") and row.get("detail")}


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (x, y) points (per unit of x)."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    num = sum((x - mean_x) * (y - mean_y) for x, y in points)
    den = sum((x - mean_x) ** 2 for x, _ in points)
    return num / den if den else 0.0


def publish(
    total: int,
    rate: float,
    done: threading.Event,
    counter: list[int],
    progress: t.Callable[[], dict[str, int]],
) -> None:
    """Publish ``total`` raw frames at ``rate``, never more than :data:`AHEAD` frames ahead of
    the archive nor :data:`AHEAD_PARSED` parsed frames ahead of the alias sink (every sink
    reads every frame, so a sink's count shows how far it has read): the run measures what
    ``up`` keeps, not a queue of frames a sink has not read yet."""
    parsed = 0
    pane = {"server": "longrun", "session": "fake", "window": "1", "title": "",
            "command": "codex", "width": 120, "height": 40}
    with Publisher(Endpoints.default(), name="longrun") as pub:
        pub.wait_ready(timeout=10.0)
        began = time.monotonic()
        for number in range(total):
            lag = began + number / rate - time.monotonic()
            if lag > 0:
                time.sleep(lag)
            while True:
                done_so_far = progress()
                if (number - done_so_far.get("archive", 0) <= AHEAD
                        and parsed - done_so_far.get("alias", 0) <= AHEAD_PARSED):
                    break
                time.sleep(0.1)
            fake = number // FAKE_PANE_FRAMES
            text = f"screen {number}\n" + "y" * TEXT_BYTES
            pub.send(draft("raw", "codex", source("screen", "parsed"),
                           pane=dict(pane, pane_id=f"%{10_000 + fake}", pid=100_000 + fake),
                           trigger="timer", text=text,
                           sha256=hashlib.sha256(text.encode()).hexdigest()))
            if number % PARSED_EVERY == 0:
                pub.send(draft("parsed", "codex", source("screen", "parsed"),
                               screen="codex.status", raw_id=None, stale_after=None, warnings=[],
                               limits=[{"window": "5h", "scope": None, "metric": "quota",
                                        "used_pct": float(number // PARSED_EVERY % 100),
                                        "resets_at": None,
                                        "resets_text": None, "used": None, "limit": None,
                                        "estimate": False}]))
                parsed += 1
            counter[0] = number + 1
    done.set()


def churn(tmux: Tmux, stop: threading.Event, counter: list[int]) -> None:
    """Every 10 s: kill five panes of the agents session and open five new ones."""
    while not stop.wait(10.0):
        try:
            out = tmux.cmd("list-panes", "-t", "agents", "-F", "#{pane_id}").stdout.split()
            for pane_id in out[:5]:
                tmux.cmd("kill-pane", "-t", pane_id)
            for _ in range(5):
                tmux.cmd("new-window", "-d", "-t", "agents", PANE_LOOP)
        except subprocess.TimeoutExpired:
            print("  tmux did not answer within 10 s (machine busy); churn goes on", flush=True)
            continue
        counter[0] += 5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hours", type=float, default=1.0, help="hour-equivalents of frames")
    parser.add_argument("--rate", type=float, default=400.0,
                        help="raw frames a second at most (slower when the archive falls behind)")
    parser.add_argument("--panes", type=int, default=20, help="real tmux panes printing")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument("--tail", type=float, default=30.0,
                        help="seconds to keep sampling once every frame is sent")
    args = parser.parse_args(argv)
    total = int(FRAMES_PER_HOUR * args.hours)
    home = Path(tempfile.mkdtemp(prefix="panebus-longrun-"))
    chaos = Chaos(home, Options(fill_disk=False), lambda line: None)  # env, config and tmux
    tmux = chaos.tmux
    print(f"long run: {total} frames ({args.hours:g} hour-equivalent) at {args.rate:g}/s, "
          f"{args.panes} real panes churning, in {home}", flush=True)
    up: subprocess.Popen[bytes] | None = None
    stop = threading.Event()
    try:
        tmux.start()
        for _ in range(args.panes - 3):
            tmux.cmd("new-window", "-d", "-t", "agents", PANE_LOOP)
        with (home / "up.log").open("wb") as log:
            up = subprocess.Popen([*PANEBUS, "up", "-L", tmux.socket], env=chaos.env,
                                  stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        time.sleep(5.0)  # started and settled: the samples measure the run, not the start
        sent, churned = [0], [0]
        done = threading.Event()
        health_file = chaos.paths.runtime_dir / HEALTH_FILE
        baseline = handled(health_file)

        def progress() -> dict[str, int]:
            now = handled(health_file)
            return {name: now.get(name, 0) - baseline.get(name, 0) for name in now}

        threads = [threading.Thread(target=publish, daemon=True,
                                    args=(total, args.rate, done, sent, progress)),
                   threading.Thread(target=churn, args=(tmux, stop, churned), daemon=True)]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        samples: list[tuple[float, int, int]] = []
        tail_end = 0.0
        print(f"{'s':>6} {'frames':>8} {'panes±':>6} {'RSS KB':>8} {'fds':>5}  "
              "handled by archive / alias / windows / featurelog / forecast / notify", flush=True)
        while True:
            elapsed = time.monotonic() - began
            sample = (elapsed, rss_kb(up.pid), open_fds(up.pid))
            samples.append(sample)
            counts = handled(health_file)
            print(f"{elapsed:6.0f} {sent[0]:8d} {churned[0]:6d} {sample[1]:8d} {sample[2]:5d}  "
                  + " / ".join(str(counts.get(name, 0)) for name in SINK_COLUMNS), flush=True)
            if up.poll() is not None:
                break
            if done.is_set():
                tail_end = tail_end or time.monotonic() + args.tail
                if time.monotonic() >= tail_end:
                    break
            done.wait(args.sample) if not done.is_set() else time.sleep(args.sample)
        stop.set()
        half = samples[len(samples) // 2 :]
        minutes = [(s[0] / 60.0, float(s[1])) for s in half]
        fds = [(s[0] / 60.0, float(s[2])) for s in half]
        print(f"RSS  {samples[0][1]} → {samples[-1][1]} KB; slope over the second half "
              f"{slope(minutes):+.1f} KB/min")
        print(f"fds  {samples[0][2]} → {samples[-1][2]}; slope over the second half "
              f"{slope(fds):+.2f} /min")
        print(f"panes churned {churned[0]}; frames {sent[0]} in {samples[-1][0]:.0f} s")
        print("open files by kind:", fd_kinds(up.pid))
    finally:
        stop.set()
        if up is not None and up.poll() is None:
            up.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                up.wait(timeout=30)
        tmux.kill()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
