"""``panebus status``: the health of each part of the running ``panebus up``.

Reads ``health.json``, which the supervisor of ``up`` rewrites atomically in the runtime dir
(see :mod:`panebus.supervisor`). Exit 0 when ``up`` runs and every part is running, 1 when a
part is starting, backing off or in a crash loop, 3 when no live ``up`` writes the file.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import argparse

NOT_RUNNING = 3


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "status", help="health and restarts of each part of the running `panebus up`",
        description="Show the state (running, backoff, crash-loop, …), restarts and last error "
        "of every part of the running `panebus up` (broker, sinks, scraper, tmux links, "
        "rollout tailer, probes).",
    )
    parser.add_argument("--json", action="store_true",
                        help="the health document, with the verdict under \"up\"")
    return parser


def run(args: argparse.Namespace) -> int:
    import orjson

    from bus.paths import Paths
    from panebus.supervisor import HEALTH_FILE, view_health

    view = view_health(Paths.from_env().runtime_dir / HEALTH_FILE)
    if args.json:
        out = dict(view.document or {})
        out.update(up=view.up, reason=view.reason, unwell=list(view.unwell))
        print(orjson.dumps(out).decode())
    else:
        print(f"panebus up: {view.up} ({view.reason})")
        if view.up == "running":
            for line in table(view.parts):
                print(line)
    if view.up != "running":
        return NOT_RUNNING
    return 1 if view.unwell else 0


def table(rows: t.Sequence[dict[str, t.Any]]) -> list[str]:
    """One line per part: name, state, restarts, since, last error and the part's figures."""
    lines = [f"{'part':<18} {'state':<11} {'restarts':>8}  since                 last error"]
    for row in rows:
        detail = ", ".join(f"{key} {value}" for key, value in (row.get("detail") or {}).items())
        lines.append(
            f"{row.get('name', '?')!s:<18} {row.get('state', '?')!s:<11} "
            f"{row.get('restarts', 0):>8}  {str(row.get('since', ''))[:19]:<21} "
            f"{row.get('last_error') or '-'}"
        )
        if detail:
            lines.append(f"{'':<18} {detail}")
    return lines
