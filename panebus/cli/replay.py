"""``panebus replay`` — re-publish archived raw frames (e.g. to re-parse with newer parsers).

Each frame goes out as a new frame (new id, seq, producer) with ``trigger: "replay"``,
``replay: true`` and ``replay_of: <original id>``, and keeps its original ``observed_at``.
The archive, window log, feature log and alias cache skip replays, so nothing is counted twice.
"""

from __future__ import annotations

import sys
import typing as t

from panebus.cli.archive import add_filters, archive_root, build_query

if t.TYPE_CHECKING:
    import argparse

ENVELOPE = ("v", "id", "seq", "producer")


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """``replay [--since … --until …] [--provider] [--pane] [--dry-run]``."""
    parser = subparsers.add_parser(
        "replay",
        help="re-publish archived raw frames, marked as replays",
        description="Re-publish archived raw frames with trigger 'replay' (other sinks skip them).",
    )
    add_filters(parser)
    parser.add_argument("--dry-run", action="store_true", help="only count what would be sent")
    parser.add_argument(
        "--parse", action="store_true",
        help="also parse each snapshot with today's parsers and publish the parsed frames "
        "(marked as replays, raw_id = the archived frame)",
    )
    parser.add_argument("--stale-after", type=float, default=600.0, metavar="SECONDS",
                        help="with --parse: stale_after of the parsed frames, after capture")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to reach the broker")
    return parser


def run(args: argparse.Namespace) -> int:
    """Publish each matching snapshot; exit 1 when the broker does not acknowledge."""
    from sinks.archive_query import find

    try:
        query = build_query(args)
    except ValueError as exc:
        print(f"panebus replay: {exc}", file=sys.stderr)
        return 2
    snapshots = list(find(archive_root(args), query))
    if args.dry_run or not snapshots:
        print(f"{len(snapshots)} archived frames match")
        return 0
    from bus.endpoints import Endpoints
    from bus.publisher import Publisher

    sent = reparsed = 0
    with Publisher(Endpoints.default(), name="replay") as pub:
        if not pub.wait_ready(timeout=args.timeout):
            print(
                "panebus replay: the broker is not reachable (is `panebus bus` running?)",
                file=sys.stderr,
            )
            return 1
        for snap in snapshots:
            body = {k: v for k, v in snap.body.items() if k not in ENVELOPE}
            body.update(trigger="replay", replay=True, replay_of=snap.body.get("id"))
            if not pub.send_acked(body, timeout=args.timeout):
                print(f"panebus replay: not acknowledged after {sent} frames", file=sys.stderr)
                return 1
            sent += 1
            if args.parse:
                parsed = reparse(snap.body, args.stale_after)
                if parsed is not None and pub.send_acked(parsed, timeout=args.timeout):
                    reparsed += 1
    print(f"replayed {sent} frames" + (f", {reparsed} parsed" if args.parse else ""))
    return 0


def reparse(raw: dict[str, t.Any], stale_after: float) -> dict[str, t.Any] | None:
    """The parsed replay of one archived raw frame, or None when no parser reads it."""
    import datetime as dt

    from bus.clock import local_zone, parse_rfc3339
    from scraper.parsers.registry import parse_screen
    from scraper.pipeline import parsed_draft

    moment = parse_rfc3339(raw["observed_at"])
    provider = raw.get("provider", "unknown")
    usage = parse_screen(raw.get("text", ""), moment, local_zone(),
                         provider if provider in ("codex", "claude", "claude-monitor") else "auto")
    if usage is None:
        return None
    body = parsed_draft(
        usage.to_dict(), raw, stale_after=moment + dt.timedelta(seconds=stale_after)
    )
    body.update(replay=True, replay_of=raw.get("id"))
    return body
