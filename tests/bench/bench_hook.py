"""How long Claude Code waits for ``panebus hook claude-statusline`` (target ≤ 100 ms).

Runs the hook as Claude does (a fresh process, JSON on stdin) with the bus down and with a
broker up, beside a bare ``python -c pass`` and ``import panebus`` on the same machine in the
same run, and prints median / p90 / max wall times in milliseconds.

    .venv/bin/python tests/bench/bench_hook.py [RUNS]

Bytecode caching matters (a cold compile of every module costs more than the hook itself):
the figures are taken as a user's hook runs, with the installed tree's own ``__pycache__``
(written by the warm-up run). A private ``PYTHONPYCACHEPREFIX`` is not used: with one, this
interpreter re-read or re-compiled much of the standard library on every start (about 300 ms
a hook instead of 70 ms, measured 2026-12-03), which measured the prefix, not the hook.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STATUSLINE = json.dumps({
    "model": {"display_name": "Opus 4.5"},
    "rate_limits": {
        "five_hour": {"used_percentage": 23, "resets_at": 1795701600},
        "seven_day": {"used_percentage": 41, "resets_at": 1796040000},
    },
}).encode()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(argv: list[str], env: dict[str, str], runs: int) -> str:
    """Wall time (what Claude waits) and CPU time (what the machine's load cannot inflate)."""
    times: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), _cpu()
        subprocess.run(argv, input=STATUSLINE, stdout=subprocess.DEVNULL, env=env,
                       timeout=30, check=True)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((_cpu() - start_cpu) * 1000)
    times.sort()
    p90 = times[int(len(times) * 0.9) - 1]
    return (f"wall median {statistics.median(times):6.1f}  p90 {p90:6.1f}  max {times[-1]:6.1f}"
            f" | cpu median {statistics.median(cpu):6.1f} ms")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory(prefix="panebus-bench-hook-") as tmp:
        env = dict(os.environ, PANEBUS_HOME=str(Path(tmp) / "home"), TZ="UTC")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("PYTHONPYCACHEPREFIX", None)
        python = sys.executable
        hook = [python, "-m", "panebus", "hook", "claude-statusline"]
        subprocess.run(hook, input=STATUSLINE, stdout=subprocess.DEVNULL, env=env, check=True)
        print(f"python -c pass            {measure([python, '-c', 'pass'], env, runs)}")
        print(f"python -c 'import panebus' {measure([python, '-c', 'import panebus'], env, runs)}")
        print(f"hook, bus down            {measure(hook, env, runs)}")
        print(f"hook --no-publish         {measure([*hook, '--no-publish'], env, runs)}")
        bus = subprocess.Popen([python, "-m", "panebus", "bus"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            socket_dir = Path(tmp) / "home" / "run"
            deadline = time.monotonic() + 10
            while not any(socket_dir.glob("*")) and time.monotonic() < deadline:
                time.sleep(0.05)
            print(f"hook, bus up (detached)   {measure(hook, env, runs)}")
            print(f"hook, bus up --foreground {measure([*hook, '--foreground'], env, runs)}")
        finally:
            bus.terminate()
            bus.wait(timeout=10)


if __name__ == "__main__":
    main()
