"""Chaos: SIGKILL every process of panebus at random moments while frames stream; count losses.

Run: ``python tests/bench/bench_chaos.py [--kills 300] [--tmux-restarts 10] [--seed 1]``.
Not collected by pytest; ``tests/app/test_chaos_short.py`` runs a short round of the same
code in the suite. Everything lives in a temp dir (PANEBUS_HOME) and a private tmux server.

What runs, as separate processes: ``panebus bus``, ``panebus scrape`` (one private tmux server
whose panes print all the time), ``panebus sink archive|alias|windows|featurelog``; then, in a
second phase, ``panebus up`` alone. A publisher thread sends raw frames (2 KB, fake panes) and
parsed frames at a steady rate; the panes' own output makes the scraper capture. The chaos
loop SIGKILLs one process at a random moment and starts it again, hundreds of times; it also
kills and restarts the tmux server, and (when a tmpfs can be mounted, i.e. as root) fills the
archive's filesystem and frees it again.

What is counted (goals in brackets):

- acknowledged frames lost [0]: ids the archive listed in a ``sys.sink.archive`` ``ack``
  (it acks only what it fsynced) that are not in the archive at the end;
- torn or unreadable records after restart [0]: bytes after the last whole record of any
  segment, once the archive has been restarted and stopped cleanly at the end;
- seconds from a tmux server restart to the first capture of its new pane [≤ 2 s];
- orphan control clients [0]: ``tmux -C`` clients on the server whose parent is not a live
  scraper/``up`` 5 s after that parent was killed, and any left once everything stopped;
- alias-cache files seen half-written [0]: a reader thread reads ``state.json`` (must parse) and
  the alias files (whole lines) in a loop for the whole run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

import orjson

from bus.endpoints import Endpoints
from bus.frames import draft, source
from bus.paths import Paths
from bus.publisher import Publisher
from bus.subscribers import Subscriber
from sinks import archive_format as fmt

PANEBUS = [sys.executable, "-m", "panebus"]
SINKS = ("archive", "alias", "windows", "featurelog")
ORPHAN_GRACE = 5.0
PANES = 3
PANE_LOOP = "while :; do date +%s.%N; sleep 0.2; done"
FRAME_BYTES = 2000


@dataclasses.dataclass
class Options:
    """One chaos run."""

    kills: int = 300
    tmux_restarts: int = 10
    fill_disk: bool = True
    rate: float = 50.0  # published frames a second
    gap: tuple[float, float] = (0.1, 0.6)  # seconds between two kills (uniform)
    gap_up: tuple[float, float] = (0.5, 4.0)  # the same for `up`, which takes ~2 s to start
    seed: int = 1
    disk_bytes: int = 1 << 20


@dataclasses.dataclass
class Result:
    """The figures a run prints."""

    kills: dict[str, int] = dataclasses.field(default_factory=dict)
    sent: int = 0
    acked: int = 0
    archived: int = 0
    lost: list[str] = dataclasses.field(default_factory=list)
    torn_segments: list[str] = dataclasses.field(default_factory=list)
    unreadable_bytes: int = 0
    tmux_to_capture: list[float] = dataclasses.field(default_factory=list)
    tmux_no_capture: int = 0
    orphans: set[int] = dataclasses.field(default_factory=set)
    left_clients: int = 0
    alias_reads: int = 0
    half_written: list[str] = dataclasses.field(default_factory=list)
    disk: str = "not run"
    archive_write_failures: int = 0
    full_disk_tracebacks: int = 0
    full_disk_repeats: int = 0
    seconds: float = 0.0
    notes: list[str] = dataclasses.field(default_factory=list)

    def lines(self) -> list[str]:
        """The report, one figure per line, each beside its goal."""
        waits = self.tmux_to_capture
        tmux = (f"median {statistics.median(waits):.2f} s, max {max(waits):.2f} s "
                f"over {len(waits)} restarts" if waits else "no restart measured")
        kills = ", ".join(f"{name} {count}" for name, count in sorted(self.kills.items()))
        return [
            f"run                  {self.seconds:.0f} s, {sum(self.kills.values())} SIGKILLs "
            f"({kills})",
            f"frames               {self.sent} published, {self.acked} acknowledged, "
            f"{self.archived} archived",
            f"acked frames lost    {len(self.lost)}   (goal 0)",
            f"torn/unreadable      {len(self.torn_segments)} segment(s), "
            f"{self.unreadable_bytes} byte(s)   (goal 0)",
            f"tmux restart→capture {tmux}; {self.tmux_no_capture} without a capture "
            "(goal ≤ 2 s)",
            f"orphan clients       {len(self.orphans)} after kills, {self.left_clients} left "
            "at the end   (goal 0)",
            f"alias half-written   {len(self.half_written)} of {self.alias_reads} reads   "
            "(goal 0)",
            *self.notes,
            f"full disk            {self.disk}; frames the archive could not write: "
            f"{self.full_disk_tracebacks} logged with a traceback, {self.full_disk_repeats} "
            "more counted as repeats",
        ]


class Tmux:
    """The private tmux server the scraper watches; killed and restarted by the chaos."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env

    def cmd(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True,
                              text=True, env=self.env, timeout=10, check=check)

    def start(self) -> list[int]:
        """A session of panes printing all the time; the pids of their shells."""
        for _ in range(100):  # a server just killed may still hold its socket for a moment
            made = self.cmd("-f", "/dev/null", "new-session", "-d", "-s", "agents", "-x", "120",
                            "-y", "40", PANE_LOOP)
            if made.returncode == 0:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"tmux would not start: {made.stderr}")
        for _ in range(PANES - 1):
            self.cmd("split-window", "-t", "agents", PANE_LOOP, check=True)
        out = self.cmd("list-panes", "-a", "-F", "#{pane_pid}", check=True).stdout
        return [int(pid) for pid in out.split()]

    def kill(self) -> None:
        """kill-server; SIGKILL the server when it is too busy to answer (hundreds of panes on a
        loaded machine), so no run leaves its server behind."""
        pid = ""
        try:
            pid = self.cmd("display-message", "-p", "#{pid}").stdout.strip()
            self.cmd("kill-server")
        except subprocess.TimeoutExpired:
            if pid.isdigit():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)

    def control_clients(self) -> list[int]:
        out = self.cmd("list-clients", "-F", "#{client_pid} #{client_control_mode}").stdout
        return [int(line.split()[0]) for line in out.splitlines()
                if line.strip().endswith(" 1")]


def parent_of(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1])


class Procs:
    """The panebus processes of the run, by name; started, killed, restarted."""

    def __init__(self, env: dict[str, str], log_dir: Path, tmux_socket: str) -> None:
        self.env = env
        self.log_dir = log_dir
        self.tmux_socket = tmux_socket
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def argv(self, name: str) -> list[str]:
        if name == "bus":
            return [*PANEBUS, "bus", "--heartbeat", "1"]
        if name == "scrape":
            return [*PANEBUS, "scrape", "-L", self.tmux_socket]
        if name == "up":
            return [*PANEBUS, "up", "-L", self.tmux_socket]
        return [*PANEBUS, "sink", name.removeprefix("sink-")]

    def start(self, name: str) -> subprocess.Popen[bytes]:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(self.argv(name), env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=log, stderr=log, start_new_session=True)
        self.running[name] = process
        return process

    def kill(self, name: str) -> None:
        process = self.running[name]
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.running.values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for name, process in self.running.items():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                print(f"  {name} did not stop on SIGTERM; killed", file=sys.stderr)
                process.kill()
                process.wait(timeout=10)
        self.running.clear()

    def pids(self, *names: str) -> set[int]:
        return {p.pid for n, p in self.running.items() if n in names and p.poll() is None}


class Observer:
    """Acks of the archive, captures by pane pid, and the alias files read in a loop."""

    def __init__(self, alias_dir: Path, result: Result) -> None:
        self.alias_dir = alias_dir
        self.result = result
        self.acked: set[str] = set()
        self.sent: set[str] = set()
        self.first_capture: dict[int, float] = {}
        self.last_raw = 0.0
        self.write_failures = 0
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=target, daemon=True)
                        for target in (self._subscribe, self._read_alias)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def _subscribe(self) -> None:
        with Subscriber(Endpoints.default(), prefixes=["sys.sink.archive", "raw."],
                        name="chaos") as sub:
            while not self.stop.is_set():
                item = sub.recv(timeout=0.1)
                if item is None:
                    continue
                topic, body = item
                if topic.startswith("raw."):
                    self.last_raw = time.monotonic()
                    pid = body.get("pane", {}).get("pid")
                    if isinstance(pid, int):
                        self.first_capture.setdefault(pid, time.monotonic())
                elif isinstance(body.get("ack"), dict):
                    self.acked.update(body["ack"].get("ids", ()))
                elif isinstance(body.get("failed"), int):
                    self.write_failures = max(self.write_failures, body["failed"])

    def _read_alias(self) -> None:
        files = [self.alias_dir / name for name in ("state.json", "occ", "acm", "os")]
        while not self.stop.is_set():
            for path in files:
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                self.result.alias_reads += 1
                if not whole(path.name, data):
                    self.result.half_written.append(f"{path.name}: {data[:60]!r}")
            self.stop.wait(0.002)


def whole(name: str, data: bytes) -> bool:
    """Whether a file read is a whole file: ``state.json`` parses, alias files are lines."""
    if name == "state.json":
        try:
            return isinstance(orjson.loads(data), dict)
        except orjson.JSONDecodeError:
            return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not data or data.endswith(b"\n")


def publish(stop: threading.Event, rate: float, observer: Observer, result: Result) -> None:
    """Raw frames of fake panes (2 KB, every one different) and a parsed frame now and then."""
    pane = {"server": "chaos", "session": "fake", "window": "1", "title": "", "command": "codex",
            "pid": 1, "width": 80, "height": 24}
    number = 0
    with Publisher(Endpoints.default(), name="chaos-publisher") as pub:
        while not stop.wait(1.0 / rate):
            text = f"frame {number} {time.time()}\n" + "x" * FRAME_BYTES
            body = draft("raw", "codex", source("screen", "parsed"),
                         pane=dict(pane, pane_id=f"%{9000 + number % 5}"), trigger="timer",
                         text=text, sha256=hashlib.sha256(text.encode()).hexdigest())
            observer.sent.add(pub.send(body)["id"])
            if number % 10 == 0:
                pub.send(draft(
                    "parsed", "codex", source("screen", "parsed"), screen="codex.status",
                    raw_id=None, stale_after=None, warnings=[],
                    limits=[{"window": "5h", "scope": None, "metric": "quota",
                             "used_pct": float(number % 100), "resets_at": None,
                             "resets_text": None, "used": None, "limit": None,
                             "estimate": False}]))
            number += 1
            result.sent = number


def mount_tmpfs(target: Path, size: int) -> str | None:
    """Mount a small tmpfs at ``target``; the reason when it cannot be done."""
    if shutil.which("mount") is None:
        return "no mount command"
    if os.geteuid() != 0:
        return "not root: cannot mount a small filesystem"
    target.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(target)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"mount failed: {done.stderr.strip() or done.returncode}"
    return None


def remount(target: Path, size: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(target)], check=False,
                   capture_output=True)


def umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


class Chaos:
    """One run in ``home`` (a temp dir): set up, kill for a while, stop, count."""

    def __init__(
        self,
        home: Path,
        options: Options,
        say: t.Callable[[str], None],
        setenv: t.Callable[[str, str], None] | None = None,
    ) -> None:
        self.home = home
        self.setenv = setenv or os.environ.__setitem__
        self.options = options
        self.say = say
        self.random = random.Random(options.seed)
        self.result = Result()
        self.socket = f"chaos-{os.getpid()}"
        self.env = self._environment()
        self.paths = Paths.from_env()
        self.tmux = Tmux(self.socket, self.env)
        self.procs = Procs(self.env, home, self.socket)
        self.observer = Observer(self.paths.alias_dir, self.result)
        self.mounted = False

    def _environment(self) -> dict[str, str]:
        panebus_home = self.home / "pbhome"
        user = self.home / "home"
        for directory in (panebus_home, user, self.home / "run"):
            directory.mkdir(mode=0o700, exist_ok=True)
        updates = {"PANEBUS_HOME": str(panebus_home), "HOME": str(user),
                   "XDG_RUNTIME_DIR": str(self.home / "run"),
                   "CODEX_HOME": str(user / ".codex"), "CLAUDE_CONFIG_DIR": str(user / ".claude"),
                   "TMUX_TMPDIR": str(self.home / "run")}
        for name, value in updates.items():
            self.setenv(name, value)  # this process's bus clients use the same endpoints
        env = dict(os.environ)
        env.pop("TMUX", None)
        config = panebus_home / "config" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text('[[targets]]\nsession = "agents"\nprovider = "codex"\n\n'
                          "[sinks.archive]\nfsync = \"interval\"\n")
        return env

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> Result:
        began = time.monotonic()
        options = self.options
        self._check_config()
        disk = self.paths.archive_dir
        if options.fill_disk:
            reason = mount_tmpfs(disk, options.disk_bytes)
            self.mounted = reason is None
            self.result.disk = "skipped: " + reason if reason else "mounted"
            if reason:
                self.say(f"full disk: skipped ({reason})")
        self.tmux.start()
        stop_publishing = threading.Event()
        publisher = threading.Thread(target=publish, daemon=True, args=(
            stop_publishing, options.rate, self.observer, self.result))
        try:
            for name in ("bus", "scrape", *(f"sink-{sink}" for sink in SINKS)):
                self.procs.start(name)
            self.observer.start()
            publisher.start()
            separate = ["bus", "scrape", *(f"sink-{sink}" for sink in SINKS)]
            first = options.kills // 2
            self._chaos(separate, first, tmux_restarts=options.tmux_restarts // 2)
            self.procs.stop_all()
            self.procs.start("up")
            self._chaos(["up"], options.kills - first,
                        tmux_restarts=options.tmux_restarts - options.tmux_restarts // 2)
        finally:
            stop_publishing.set()
            publisher.join(timeout=10)
            self._settle_and_stop()
            self.observer.close()
            self.result.left_clients = len(self.tmux.control_clients())
            self.tmux.kill()
            self._count_archive()
            if self.mounted:
                umount(disk)
        self.result.seconds = time.monotonic() - began
        return self.result

    def _check_config(self) -> None:
        done = subprocess.run([*PANEBUS, "doctor", "--json", "-L", self.socket], env=self.env,
                              capture_output=True, text=True, timeout=60, check=False)
        if "config" in done.stderr.lower() and done.returncode == 2:
            raise SystemExit(f"bad chaos config: {done.stderr}")

    def _chaos(self, targets: list[str], kills: int, tmux_restarts: int) -> None:
        restart_at = set(self.random.sample(range(max(kills, 1)), min(tmux_restarts, kills)))
        fill_at = kills // 3 if self.mounted and "bus" in targets else -1
        free_at = 2 * kills // 3 if self.mounted and "bus" in targets else -1
        gap = self.options.gap_up if targets == ["up"] else self.options.gap
        for number in range(kills):
            time.sleep(self.random.uniform(*gap))
            name = self.random.choice(targets)
            self.procs.kill(name)
            self.result.kills[name] = self.result.kills.get(name, 0) + 1
            self.procs.start(name)
            if name in ("scrape", "up"):
                self._check_orphans()
            if number in restart_at:
                self._restart_tmux(after=name)
            if number == fill_at:
                self.say("  filling the archive's filesystem")
                self._fill()
            if number == free_at:
                self.say("  freeing it")
                self._free()
            if number % 50 == 49:
                self.say(f"  {number + 1}/{kills} kills of {', '.join(targets)}; "
                         f"{len(self.observer.acked)} acked so far")

    def _check_orphans(self) -> None:
        deadline = time.monotonic() + ORPHAN_GRACE
        while True:
            owners = self.procs.pids("scrape", "up")
            orphans = {pid for pid in self.tmux.control_clients()
                       if parent_of(pid) not in owners}
            if not orphans or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        for pid in orphans:
            self.result.orphans.add(pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # so one orphan is counted once

    def _restart_tmux(self, after: str) -> None:
        """Kill and restart the tmux server once the scraper is attached and frames flow, so
        the figure is the reconnect alone, not the start of a process killed just before."""
        deadline = time.monotonic() + 30.0
        while time.monotonic() < deadline:
            owners = self.procs.pids("scrape", "up")
            attached = any(parent_of(pid) in owners for pid in self.tmux.control_clients())
            if attached and time.monotonic() - self.observer.last_raw < 0.5:
                break
            time.sleep(0.05)
        self.tmux.kill()
        restarted = time.monotonic()
        pids = self.tmux.start()
        deadline = restarted + 15.0
        while time.monotonic() < deadline:
            seen = [self.observer.first_capture[pid] for pid in pids
                    if pid in self.observer.first_capture]
            if seen:
                self.result.tmux_to_capture.append(min(seen) - restarted)
                return
            time.sleep(0.01)
        self.result.tmux_no_capture += 1
        self.result.notes.append(f"no capture 15 s after a tmux restart (just after killing "
                                 f"{after}, at {time.strftime('%H:%M:%S')})")

    def _fill(self) -> None:
        filler = self.paths.archive_dir / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()

    def _free(self) -> None:
        with contextlib.suppress(OSError):
            (self.paths.archive_dir / "filler").unlink()
        remount(self.paths.archive_dir, 64 << 20)
        self.result.disk = "filled, then freed (archive kept running)"

    def _settle_and_stop(self) -> None:
        """Let the last frames land, stop cleanly, then start and stop the archive once more
        (a restart after the last kill is what cuts a torn tail)."""
        time.sleep(2.0)
        self.procs.stop_all()
        final = self.procs.start("sink-archive")
        time.sleep(3.0)
        final.send_signal(signal.SIGTERM)
        final.wait(timeout=30)
        self.procs.running.clear()
        self.result.archive_write_failures = self.observer.write_failures
        logs = [self.home / f"{name}.log" for name in ("sink-archive", "up")]
        text = "".join(path.read_text(errors="replace") for path in logs if path.exists())
        self.result.full_disk_tracebacks = text.count("sink failed on a frame; skipped")
        self.result.full_disk_repeats = sum(
            int(line.split("repeated ", 1)[1].split()[0])
            for line in text.splitlines() if "the same failure repeated" in line)

    def _count_archive(self) -> None:
        archived: set[str] = set()
        for segment in fmt.segments(self.paths.archive_dir):
            scan = fmt.read_segment(segment)
            if scan.torn:
                self.result.torn_segments.append(str(segment))
                self.result.unreadable_bytes += segment.stat().st_size - scan.good_length
            archived.update(str(body.get("id")) for body in scan.bodies)
        acked = self.observer.acked
        self.result.acked = len(acked)
        self.result.archived = len(archived)
        self.result.lost = sorted(acked - archived)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kills", type=int, default=Options.kills)
    parser.add_argument("--tmux-restarts", type=int, default=Options.tmux_restarts)
    parser.add_argument("--no-disk", action="store_true", help="skip the full-disk part")
    parser.add_argument("--rate", type=float, default=Options.rate)
    parser.add_argument("--seed", type=int, default=Options.seed)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    args = parser.parse_args(argv)
    options = Options(kills=args.kills, tmux_restarts=args.tmux_restarts,
                      fill_disk=not args.no_disk, rate=args.rate, seed=args.seed)
    home = Path(tempfile.mkdtemp(prefix="panebus-chaos-"))
    print(f"chaos: {options.kills} kills, {options.tmux_restarts} tmux restarts, "
          f"{options.rate:g} frames/s, seed {options.seed}, in {home}", flush=True)
    try:
        result = Chaos(home, options, lambda line: print(line, flush=True)).run()
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    for line in result.lines():
        print(line)
    if result.lost:
        print(f"lost ids (first 5): {result.lost[:5]}")
    if result.half_written:
        print(f"half-written reads (first 3): {result.half_written[:3]}")
    failed = (result.lost or result.torn_segments or result.orphans or result.left_clients
              or result.half_written)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
