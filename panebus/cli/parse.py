"""``panebus parse [FILE | -]``: read one screen (or log, hook JSON, report) and print the figures.

The user's way to check a pasted screen, and the contract every parser test stands on: with
``--json`` it prints exactly the normalized usage object (``Usage.to_dict()``, shown at the top
of docs/parsers.md; the figures of a ``parsed`` frame in docs/wire.md) plus ``source``.
What the input is, is sniffed from its content:

- JSON lines with ``"type": "event_msg"`` / ``"session_meta"`` … → a Codex rollout file;
- a JSON object with statusLine keys (``rate_limits``, ``session_id``, ``model``, …) → the
  Claude statusLine hook's input;
- a JSON object with ``daily``/``weekly``/``monthly``/``sessions``/``blocks`` → a ccusage report;
- anything else → a pane screen, through the parsers' registry.

Exit 0 when the input was read (even with no limits), 1 when no provider was recognised,
2 on usage errors (argparse, unreadable file, bad ``--now``/``--tz``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import typing as t
from pathlib import Path

from bus.clock import utcnow

if t.TYPE_CHECKING:
    from scraper.parsers.model import Usage

PROVIDER_CHOICES = ("auto", "codex", "claude", "claude-monitor")
ROLLOUT_TYPES = frozenset(
    {"event_msg", "session_meta", "response_item", "turn_context", "compacted"}
)
STATUSLINE_KEYS = frozenset(
    {"rate_limits", "session_id", "hook_event_name", "transcript_path", "workspace", "cost"}
)
NOT_RECOGNISED = 1
USAGE_ERROR = 2

Source = dict[str, str]


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "parse",
        help="parse a pane screen, Codex rollout, Claude statusLine JSON or ccusage report",
        description="Read a captured agent screen (or a Codex rollout file, a Claude statusLine "
        "JSON, a ccusage JSON report) and print the usage figures. Exit 0 when read, "
        "1 when no provider was recognised.",
    )
    parser.add_argument("file", nargs="?", default="-", metavar="FILE",
                        help="file to read, '-' (default) for stdin")
    parser.add_argument("--provider", choices=PROVIDER_CHOICES, default="auto",
                        help="which screen parser to use (default: detect)")
    parser.add_argument("--now", metavar="ISO", type=_instant,
                        help="observation time for resolving reset phrases (default: now)")
    parser.add_argument("--tz", metavar="ZONE", type=_zone,
                        help="zone the agent ran in, e.g. America/New_York (default: local)")
    parser.add_argument("--json", action="store_true", help="print the usage object as JSON")
    return parser


def _instant(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        msg = f"not an ISO 8601 time: {text!r}"
        raise argparse.ArgumentTypeError(msg) from exc
    return moment if moment.tzinfo is not None else moment.astimezone()


def _zone(name: str) -> dt.tzinfo:
    from scraper.parsers.resets import zone_named

    zone = zone_named(name)
    if zone is None:
        msg = f"unknown time zone: {name!r}"
        raise argparse.ArgumentTypeError(msg)
    return zone


def _read(path: str) -> str:
    data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    return data.decode("utf-8", errors="replace")


def _json_object(line: str) -> dict[str, t.Any] | None:
    from bus.codec import loads

    try:
        value = loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _is_rollout(text: str) -> bool:
    for line in text.splitlines():
        if not line.strip():
            continue
        first = _json_object(line)
        return first is not None and first.get("type") in ROLLOUT_TYPES
    return False


def read_input(
    text: str, now: dt.datetime, zone: dt.tzinfo, provider: str
) -> tuple[list[Usage], Source] | None:
    """Sniff ``text`` and read it; None when nothing was recognised.

    JSON inputs are recognised by their content whatever ``provider`` says: ``--provider``
    chooses among the screen parsers only.
    """
    stripped = text.strip()
    if stripped.startswith("{"):
        if _is_rollout(stripped):
            from scraper.sources.rollout import usage_from_rollout_lines

            usage = usage_from_rollout_lines(stripped.splitlines())
            if usage is None:
                from scraper.parsers.model import Usage

                usage = Usage(provider="codex", screen="codex.rollout",
                              warnings=["no token_count event in this rollout"])
            return [usage], {"kind": "log", "confidence": "official"}
        obj = _json_object(stripped)
        if obj is not None:
            from scraper.sources.ccusage import is_report, usages_from_report

            if is_report(obj):
                return usages_from_report(obj), {"kind": "report", "confidence": "parsed"}
            if STATUSLINE_KEYS & obj.keys() or isinstance(obj.get("model"), dict):
                from scraper.sources.statusline import usage_from_statusline

                return [usage_from_statusline(obj, now)], {"kind": "hook", "confidence": "official"}
    from scraper.parsers.registry import parse_screen

    screen = parse_screen(text, now, zone, provider)
    if screen is None:
        return None
    return [screen], {"kind": "screen", "confidence": "parsed"}


def _table(usage: Usage, source: Source) -> str:
    head = [f"{usage.provider}  {usage.screen}  state={usage.state}"
            + (f" ({usage.state_reason})" if usage.state_reason else "")]
    details = [f"{k}={v}" for k, v in (("version", usage.version), ("model", usage.model),
                                       ("context_left", usage.context_left_pct)) if v is not None]
    details.append(f"source={source['kind']}/{source['confidence']}")
    head.append("  " + "  ".join(details))
    if usage.limits:
        head.append(f"  {'window':<8} {'scope':<20} {'metric':<9} {'used%':>7}  resets")
    for limit in usage.limits:
        pct = "-" if limit.used_pct is None else f"{limit.used_pct:g}"
        shown = [f"{value:g}" if value is not None else "?" for value in (limit.used, limit.limit)]
        amounts = f"  ({shown[0]} / {shown[1]})" if shown != ["?", "?"] else ""
        resets = limit.resets_at.isoformat() if limit.resets_at else (limit.resets_text or "-")
        estimate = " ~est" if limit.estimate else ""
        head.append(f"  {limit.window:<8} {limit.scope or '-':<20} {limit.metric:<9} "
                    f"{pct:>7}  {resets}{amounts}{estimate}")
    periods = usage.extra.get("periods")
    if isinstance(periods, list):
        totals = usage.extra.get("totals") or {}
        cost = totals.get("cost_usd") if isinstance(totals, dict) else None
        head.append(f"  {len(periods)} period(s)" + (f", total ${cost:.2f}" if cost else ""))
    elif not usage.limits:
        head.append("  no limits")
    head.extend(f"  warning: {warning}" for warning in usage.warnings)
    return "\n".join(head)


def run(args: argparse.Namespace) -> int:
    from bus.clock import local_zone
    from bus.codec import dumps

    try:
        text = _read(args.file)
    except OSError as exc:
        print(f"panebus parse: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return USAGE_ERROR
    now: dt.datetime = args.now or utcnow()
    zone: dt.tzinfo = args.tz or local_zone()
    result = read_input(text, now, zone, args.provider)
    if result is None:
        print("panebus parse: no agent screen, rollout, statusLine JSON or ccusage report "
              "recognised", file=sys.stderr)
        return NOT_RECOGNISED
    usages, source = result
    if args.json:
        objects = [{**usage.to_dict(), "source": source} for usage in usages]
        payload: object = objects[0] if len(objects) == 1 else objects
        sys.stdout.write(dumps(payload).decode("utf-8") + "\n")
    else:
        print("\n\n".join(_table(usage, source) for usage in usages))
    return 0
