"""Load benchmark: CPU, captures, archive bytes and change → alias latency of a whole stack.

Run: ``.venv/bin/python tests/bench/bench_load.py [--scenario working|many|idle|all]
[--rounds 3] [--seconds 30] [--repo PATH]`` (or ``panebus bench working many idle``).

Each round starts a private tmux server whose panes run a shell named ``codex`` (bash under
that name) drawing a real Codex 0.169 ``/status`` card with a working spinner below it
(``codex-0.169.0-working-spinner-chatgpt.txt``), and a real ``panebus up`` process (broker,
scraper with every trigger, rollout tailer, every sink) on a private ``PANEBUS_HOME``.

- ``working``: 10 panes; each clears the screen and redraws the whole card every 0.1 s with
  the next spinner glyph and the elapsed seconds (ten working agents);
- ``many``: 200 panes redrawing the same way every second;
- ``idle``: 20 panes showing the card, never redrawing.

Over ``--seconds`` it reads the CPU time of ``panebus up`` and its children (the ``tmux -C``
clients) from ``/proc``, the scraper's captures (its ``sys.scraper`` health frame, when the code
under test publishes one) and the archive's records and bytes, as rates per pane and hour. Then,
while the panes keep redrawing, it types a new "% left" into the first pane (which redraws at
once, as an agent drawing a new card does) and times until the ``occ`` alias line shows it:
the agent's redraw, capture, redaction, parsing, the bus, the alias sink and its atomic write
are all inside. The clock starts when the bench's own control client tells tmux to type
(``--send-keys-process``: when a ``tmux send-keys`` process is started, as before 2026-12-03,
which adds that process's start-up, 4-7 ms here).
``--repo`` runs another checkout's code (e.g. an export of an older commit) for a before/after.
``--threads`` names every Python thread of ``panebus up`` after its ``threading`` name (through
a ``sitecustomize`` on the child's path: ``prctl(PR_SET_NAME)``) and prints where the CPU went,
per thread name and child process — the profile behind the figures, with no profiler attached.
The machine is shared: every scenario runs ``--rounds`` times, the CPU is the median, the
latency percentiles are over every round's samples, and the load average is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
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

CARD = REPO / "tests/fixtures/screens/codex/codex-0.169.0-working-spinner-chatgpt.txt"
CLK_TCK = os.sysconf("SC_CLK_TCK")
SCENARIOS = {"working": (10, 0.1), "many": (200, 1.0), "idle": (20, 0.0)}
#: Seconds measured per round: past the scraper's 60 s keyframe interval where panes redraw.
DEFAULT_SECONDS = {"working": 65.0, "many": 65.0, "idle": 30.0}
# bash: redraw the card every $2 s (0: never); a line on stdin is the new "% left", drawn at once.
REDRAW = r"""stty -echo 2>/dev/null; IFS= read -rd '' tpl < "$1"; period="$2"; left=77; i=0
glyphs=("·" "✢" "✳" "✶" "✻" "✽"); draw() { t=${tpl//@LEFT@/$left}; t=${t//@SPIN@/${glyphs[i % 6]}}
printf '\033[H\033[2J%s' "${t//@SECS@/$((11 + i / 10))}"; i=$((i + 1)); }; draw
while :; do
  if [ "$period" = 0 ]; then IFS= read -r n || exit; else IFS= read -r -t "$period" n; fi
  [ -n "$n" ] && left=$n; draw
done"""
# sitecustomize for --threads: each Python thread takes its name in /proc (comm, 15 bytes;
# "supervise-" dropped, so the sinks' loops in their keepers' threads are told apart).
NAME_THREADS = """import ctypes, threading
_prctl = ctypes.CDLL(None).prctl
_inner = threading.Thread._bootstrap_inner
def _named(self):
    _prctl(15, self.name.removeprefix("supervise-").encode()[:15], 0, 0, 0)
    _inner(self)
threading.Thread._bootstrap_inner = _named
"""


def template(directory: Path) -> Path:
    """The card with placeholders for the 5h figure, the spinner glyph and the seconds."""
    text = CARD.read_text(encoding="utf-8")
    text = text.replace("77% left", "@LEFT@% left", 1)
    text = text.replace("◦ Reconnecting... waiting for network (11s", "@SPIN@ Reconnecting... "
                        "waiting for network (@SECS@s", 1)
    path = directory / "card.tpl"
    path.write_text(text, encoding="utf-8")
    return path


def tree_ticks(pid: int) -> int:
    """CPU ticks of ``pid`` (with reaped children) plus its live descendants."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += sum(int(v) for v in fields[11:13])  # utime, stime
        if current == pid:
            total += sum(int(v) for v in fields[13:15])  # cutime, cstime
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with open(task) as handle:  # noqa: PTH123 - one tiny read
                todo += [int(child) for child in handle.read().split()]
    return total


def cpu_by_name(pid: int) -> dict[str, float]:
    """CPU seconds of every live thread of ``pid`` and its descendants, summed per thread name
    (comm). From ``schedstat`` (nanoseconds run), not the 10 ms ticks of ``stat``: a thread
    that wakes for 50 µs now and then shows up too."""
    totals: dict[str, float] = {}
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                comm = (task / "comm").read_text().strip()
                ran = int((task / "schedstat").read_text().split()[0]) / 1e9
                children = (task / "children").read_text().split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            totals[comm] = totals.get(comm, 0.0) + ran
            todo += [int(child) for child in children]
    return totals


def archive_totals(root: Path) -> tuple[int, int]:
    """(records, bytes) of every segment under the archive root."""
    records = size = 0
    for path in root.rglob("*.rec*"):
        data = path.read_bytes()
        size += len(data)
        if path.suffix == ".rec":
            records += data.count(b"\n")
    return records, size


def scraper_health(sub: t.Any) -> list[tuple[float, int]]:
    """(time, total captures) of each ``sys.scraper`` health frame received so far."""
    from bus.clock import parse_rfc3339

    found = []
    while (item := sub.recv(0.05)) is not None:
        body = item[1]
        if body.get("what") == "scraper":
            captures = int(sum((body.get("captures_by_trigger") or {}).values()))
            found.append((parse_rfc3339(body["observed_at"]).timestamp(), captures))
    return found


def capture_rate(health: list[tuple[float, int]], start: float, end: float) -> float | None:
    """Captures per second between the first and last health frame inside [start, end]."""
    inside = [entry for entry in health if start <= entry[0] <= end]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return None
    return (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0])


def wait_until(predicate: t.Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() >= deadline:
            return False
        time.sleep(interval)
    return True


def run_round(
    scenario: str, seconds: float, samples: int, code: Path, *, threads: bool = False,
    spawn: bool = False,
) -> dict[str, t.Any]:
    panes, period = SCENARIOS[scenario]
    root = Path(tempfile.mkdtemp(prefix=f"panebus-bench-{scenario}-"))
    home = root / "home"
    (home / "bin").mkdir(parents=True)
    (root / "run").mkdir(mode=0o700)
    env = dict(os.environ, PANEBUS_HOME=str(root / "pb"), HOME=str(home),
               XDG_RUNTIME_DIR=str(root / "run"), CODEX_HOME=str(home / ".codex"),
               CLAUDE_CONFIG_DIR=str(home / ".claude"), SHELL="/bin/sh",
               PYTHONPATH=str(code))
    if threads:
        (root / "site").mkdir()
        (root / "site" / "sitecustomize.py").write_text(NAME_THREADS, encoding="utf-8")
        env["PYTHONPATH"] = f"{root / 'site'}{os.pathsep}{code}"
    os.environ.update({k: env[k] for k in ("PANEBUS_HOME", "XDG_RUNTIME_DIR", "HOME")})
    codex = home / "bin" / "codex"
    codex.symlink_to("/usr/bin/bash")
    card = template(root)
    socket = f"pb-bench-{scenario}-{os.getpid()}-{root.name.rsplit('-', 1)[-1]}"
    tmux = ["tmux", "-L", socket]
    command = f"exec {codex} -c {shlex.quote(REDRAW)} codex {card} {period:g}"
    subprocess.run([*tmux, "-f", "/dev/null", "new-session", "-d", "-s", "bench", "-x", "120",
                    "-y", "45", command], check=True, env=env)
    server_pid = int(subprocess.run([*tmux, "display-message", "-p", "#{pid}"], check=True,
                                    capture_output=True, text=True).stdout)
    for _ in range(panes - 1):
        subprocess.run([*tmux, "new-window", "-d", "-t", "bench", command], check=True, env=env)
    from bus.endpoints import Endpoints
    from bus.paths import Paths
    from bus.subscribers import Subscriber
    from sinks.config import SinksConfig

    paths = Paths.from_env()
    archive = SinksConfig.load(paths).archive.root
    occ = paths.alias_dir / "occ"
    up = subprocess.Popen([sys.executable, "-m", "panebus", "up", "-L", socket], cwd=code,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result: dict[str, t.Any] = {"panes": panes}
    try:
        with Subscriber(Endpoints.default(), prefixes=["sys.scraper"], name="bench") as sub:
            if not wait_until(lambda: len(list(archive.rglob("*.rec"))) >= panes, 120.0, 0.2):
                result["error"] = "not every pane was archived within 120 s"
                return result
            time.sleep(3.0)  # settle: startup captures, first fsyncs
            records0, bytes0 = archive_totals(archive)
            named0 = cpu_by_name(up.pid) if threads else {}
            ticks0, clock0, wall0 = tree_ticks(up.pid), time.monotonic(), time.time()
            time.sleep(seconds)
            ticks1, clock1, wall1 = tree_ticks(up.pid), time.monotonic(), time.time()
            named1 = cpu_by_name(up.pid) if threads else {}
            time.sleep(1.5)  # the archive's interval fsync
            records1, bytes1 = archive_totals(archive)
            rate = capture_rate(scraper_health(sub), wall0, wall1 + 1.0)
        elapsed = clock1 - clock0
        hours = (elapsed + 1.5) / 3600 * panes
        result.update(
            cpu=(ticks1 - ticks0) / CLK_TCK / elapsed * 100,
            records_per_pane_hour=(records1 - records0) / hours,
            mb_per_pane_hour=(bytes1 - bytes0) / hours / 1e6,
            captures_per_pane_hour=None if rate is None else rate * 3600 / panes,
            threads={name: (ran - named0.get(name, 0.0)) / elapsed * 100
                     for name, ran in named1.items()},
        )
        if samples:
            with Subscriber(Endpoints.default(), prefixes=["parsed.codex"], name="lat") as parsed:
                time.sleep(0.5)
                result["latencies"] = measure_latency(tmux, occ, samples, parsed, spawn)
        else:
            result["latencies"] = []
    finally:
        up.terminate()
        try:
            up.wait(20)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True, timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.kill(server_pid, signal.SIGTERM)  # a server too busy to answer kill-server
        socket_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (socket_dir / socket).unlink(missing_ok=True)
    return result


class Typist:
    """Types into a pane through a control client of its own: the clock starts when tmux is
    told to type, not when a ``tmux send-keys`` process (4-7 ms to start on this machine)
    gets around to it. ``no-output``: it is not sent what the 200 panes print."""

    def __init__(self, tmux: list[str], session: str = "bench", pane: str = "bench:0") -> None:
        self.pane = pane
        self.process = subprocess.Popen(
            [*tmux, "-C", "attach-session", "-f", "ignore-size,no-output", "-t", f"={session}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin = self.process.stdin
        self._drain = threading.Thread(target=self.process.stdout.read, daemon=True)
        self._drain.start()

    def type(self, line: str) -> None:
        """Type ``line`` (digits: no quoting needed) and Enter."""
        self.stdin.write(f"send-keys -t {self.pane} {line} Enter\n".encode())
        self.stdin.flush()

    def close(self) -> None:
        self.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def measure_latency(tmux: list[str], occ: Path, samples: int, parsed: t.Any,
                    spawn: bool = False) -> list[float]:
    """Type a new "% left" into the first pane and time until ``occ`` shows it (``spawn``: with
    a ``tmux send-keys`` process per sample, its start-up inside the figure, as before)."""
    latencies = []
    bus_times = []
    typist = None if spawn else Typist(tmux)
    for index in range(samples):
        left = 10 + (index * 7) % 80
        want = f"5h {100 - left}%"
        start = time.perf_counter()
        if typist is None:
            subprocess.run([*tmux, "send-keys", "-t", "bench:0", str(left), "Enter"], check=True)
        else:
            typist.type(str(left))
        seen: list[float] = []

        def arrived(w: str = want, seen: list[float] = seen, left: int = left) -> bool:
            while not seen and (item := parsed.recv(0)) is not None:
                limits = item[1].get("limits") or []
                if any(lim.get("window") == "5h" and lim.get("used_pct") == 100 - left
                       for lim in limits):
                    seen.append(time.perf_counter())
            return w in occ.read_text(encoding="utf-8")

        if wait_until(arrived, 3.0, 0.001):
            latencies.append((time.perf_counter() - start) * 1000)
            if seen:
                bus_times.append((seen[0] - start) * 1000)
        time.sleep(0.4)  # pacing between samples, not synchronisation
    if typist is not None:
        typist.close()
    if bus_times:
        print(f"    (parsed frame on the bus: p50 {statistics.median(bus_times):.1f} ms)")
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], action="append")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, help="per round (default: 65, idle 30)")
    parser.add_argument("--samples", type=int, default=20, help="latency samples per round")
    parser.add_argument("--repo", type=Path, default=REPO, help="code under test")
    parser.add_argument("--threads", action="store_true",
                        help="print the CPU per thread name and child process")
    parser.add_argument("--send-keys-process", action="store_true",
                        help="type with a `tmux send-keys` process per sample (its start-up "
                             "counted in the latency) instead of a control client")
    args = parser.parse_args()
    chosen = args.scenario or ["all"]
    scenarios = list(SCENARIOS) if "all" in chosen else chosen
    code = args.repo.resolve()
    print(f"code under test: {code}")
    for scenario in scenarios:
        panes, period = SCENARIOS[scenario]
        seconds = args.seconds or DEFAULT_SECONDS[scenario]
        what = f"redrawing every {period:g} s" if period else "idle"
        print(f"== {scenario}: {panes} panes {what}, {args.rounds} rounds of {seconds:g} s",
              flush=True)
        rounds = []
        for number in range(args.rounds):
            load = Path("/proc/loadavg").read_text().split()[:3]
            found = run_round(scenario, seconds, 0 if scenario == "idle" else args.samples, code,
                              threads=args.threads, spawn=args.send_keys_process)
            rounds.append(found)
            if "error" in found:
                print(f"  round {number + 1}: {found['error']}")
                continue
            captures = found["captures_per_pane_hour"]
            lat = found["latencies"]
            print(
                f"  round {number + 1} (load {' '.join(load)}): CPU {found['cpu']:.2f} % of a "
                f"core; per pane-hour: captures "
                f"{'n/a' if captures is None else f'{captures:,.0f}'}, archive records "
                f"{found['records_per_pane_hour']:,.0f}, {found['mb_per_pane_hour']:.3f} MB"
                + (f"; latency p50 {statistics.median(lat):.1f} ms p99 "
                   f"{percentile(lat, 0.99):.1f} ms ({len(lat)} samples)" if lat else ""),
                flush=True,
            )
            if found["threads"]:
                busiest = sorted(found["threads"].items(), key=lambda item: -item[1])
                print(f"    CPU by thread (schedstat, all live threads "
                      f"{sum(found['threads'].values()):.2f} %): " + ", ".join(
                          f"{name} {share:.3f}" for name, share in busiest[:14] if share >= 0.001),
                      flush=True)
        good = [r for r in rounds if "error" not in r]
        if not good:
            continue
        latencies = [v for r in good for v in r["latencies"]]
        caps = [r["captures_per_pane_hour"] for r in good]
        print(
            f"  median: CPU {statistics.median(r['cpu'] for r in good):.2f} % of a core "
            f"(range {min(r['cpu'] for r in good):.2f}-{max(r['cpu'] for r in good):.2f}); "
            f"captures/pane-hour "
            f"{'n/a' if None in caps else f'{statistics.median(caps):,.0f}'}; "
            f"archive {statistics.median(r['mb_per_pane_hour'] for r in good):.3f} MB/pane-hour"
            + (f"; change -> alias p50 {statistics.median(latencies):.1f} ms, p99 "
               f"{percentile(latencies, 0.99):.1f} ms over {len(latencies)} samples"
               if latencies else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
