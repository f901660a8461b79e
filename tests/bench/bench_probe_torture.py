"""The probe torture at full size: hundreds of probes against a person who types, deletes,
submits and uses copy mode at random, on real tmux with the stand-in agents.

    .venv/bin/python tests/bench/bench_probe_torture.py [--probes 300] [--provider codex]
        [--channel both|send-keys|client] [--quiet 1.0] [--seed 1]
    LIVE_STATE=/tmp/live-x .venv/bin/python tests/bench/bench_probe_torture.py --live NAME

``--live NAME`` runs against the REAL Codex and Claude Code of a running live-agents harness
(``../shared/live-agents/live-agents.sh start NAME``; set ``reply-delay=S`` with its
``set-limits`` so turns last): the person checks its own drafts there (tests/live/probe_live.py).

Prints, per provider, the probes captured / refused (by reason) / failed, how long a captured
probe took, and the harm counts (tests/scraper/probe_torture.py says how each is counted):
the person's characters deleted or submitted by a probe, Esc while the agent worked, and the
probe's characters left in the person's draft. Runs on a private tmux server (``-L``) and a
private PANEBUS_HOME; nothing of the user's is touched.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.scraper.probe_torture import Settings, run

HARNESS = Path(__file__).resolve().parents[3] / "shared" / "live-agents" / "live-agents.sh"


def live(args: argparse.Namespace) -> None:
    """The torture against the harness's real agents."""
    import re

    from tests.live.probe_live import run_live

    env_block = subprocess.run(["bash", str(HARNESS), "env", args.live], capture_output=True,
                               text=True, check=True).stdout
    info = dict(re.findall(r"^([A-Z_]+)=(\S*)", env_block, re.M))
    homes = {"codex": Path(info["CODEX_HOME"]), "claude": Path(info["CLAUDE_CONFIG_DIR"])}
    for provider in args.provider or ["codex", "claude"]:
        with tempfile.TemporaryDirectory(prefix="panebus-torture-live-") as tmp:
            os.environ["PANEBUS_HOME"] = str(Path(tmp) / "home")
            started = time.monotonic()
            figures = run_live(
                args.live, provider, provider, homes[provider], probes=args.probes,
                seed=args.seed, quiet=args.quiet, channel=args.channel,
                lock_dir=Path(tmp) / "locks", pace=args.pace, with_person=not args.no_person,
                probers=1 if args.no_person else 2,
            )
            elapsed = time.monotonic() - started
        who = "no person" if args.no_person else f"person via {args.channel}"
        print(f"== REAL {provider} (harness {args.live}): {args.probes} probe attempts, {who}, "
              f"quiet {args.quiet:g}s, seed {args.seed}, {elapsed:.0f}s")
        for line in figures.lines():
            print(f"   {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probes", type=int, default=300, help="probe attempts per provider")
    parser.add_argument("--provider", action="append", choices=("codex", "claude"))
    parser.add_argument("--channel", default="both", choices=("both", "send-keys", "client"))
    parser.add_argument("--quiet", type=float, default=1.0, help="probe quiet period, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pace", type=float, default=1.5, help="max pause between attempts")
    parser.add_argument("--live", metavar="NAME", help="a running live-agents harness")
    parser.add_argument("--no-person", action="store_true",
                        help="probes alone, one at a time (how long a probe takes)")
    args = parser.parse_args()
    if args.live:
        live(args)
        return
    for provider in args.provider or ["codex", "claude"]:
        settings = Settings(
            provider=provider, probes=args.probes, seed=args.seed, channel=args.channel,
            quiet=args.quiet, pace=args.pace,
        )
        socket = f"panebus-torture-{os.getpid()}-{provider}"
        with tempfile.TemporaryDirectory(prefix="panebus-torture-") as tmp:
            os.environ["PANEBUS_HOME"] = str(Path(tmp) / "home")
            started = time.monotonic()
            try:
                figures = run(socket, settings, Path(tmp))
            finally:
                subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True,
                               check=False)
            elapsed = time.monotonic() - started
        print(f"== {provider}: {args.probes} probe attempts, person via {args.channel}, "
              f"quiet {args.quiet:g}s, seed {args.seed}, {elapsed:.0f}s")
        for line in figures.lines():
            print(f"   {line}")


if __name__ == "__main__":
    main()
