"""How long one official Codex read through ``codex app-server`` takes (spawn, initialize,
``account/rateLimits/read``, exit), as ``panebus probe codex`` and ``up --every`` do it.

Needs a Codex that can reach its server: a running live-agents harness (its ``env`` block in
the environment: ``CODEX_HOME``, ``CODEX_CA_CERTIFICATE``, ``CODEX_BIN``) or the user's own login.

    L=../shared/live-agents/live-agents.sh; export LIVE_STATE=/tmp/live-x
    bash $L start x1; eval "$(bash $L env x1 | sed 's/^/export /')"
    HOME=$(dirname "$CODEX_HOME") .venv/bin/python tests/bench/bench_codex_appserver.py [READS]

Prints the median, min and max wall time of READS reads (default 10), one after another.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scraper.sources.codex_appserver import CodexAppServer


def main(reads: int) -> None:
    binary = os.environ.get("CODEX_BIN")
    if binary and Path(binary).is_dir():
        binary = str(Path(binary) / "codex")
    with tempfile.TemporaryDirectory() as locks:
        server = CodexAppServer(binary, lock_dir=Path(locks))
        times = []
        for _ in range(reads):
            started = time.monotonic()
            reading = server.read()
            times.append(time.monotonic() - started)
    figures = ", ".join(f"{lim.window} {lim.used_pct:g}%" for lim in reading.usage.limits)
    print(f"{reads} reads ({figures}): median {statistics.median(times) * 1000:.0f} ms, "
          f"min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
          f"(os.cpu_count()={os.cpu_count()}, load {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
