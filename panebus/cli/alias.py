"""``panebus alias occ|acm|os [--json] [--ingest]`` — print an alias, or ingest a pasted screen.

The shell functions from ``panebus shell-init`` read the alias files themselves; this verb is
their fallback (file missing) and the stdin path: ``… | occ`` runs ``panebus alias occ
--ingest``, which parses the text like a screen, publishes it with ``source.kind: manual``, and
updates the cache files directly too, so the figures show even when no bus is running.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import typing as t
import uuid

if t.TYPE_CHECKING:
    import argparse

    from bus.frames import Body
    from bus.paths import Paths

ALIAS_PROVIDERS = {
    "occ": ("codex",),
    "acm": ("claude", "claude-monitor"),
    "os": ("codex", "claude"),
}
PROVIDER_HINT = {"occ": "codex", "acm": "auto", "os": "auto"}
MANUAL_STALE_AFTER = dt.timedelta(minutes=10)
PUBLISH_TIMEOUT = 1.0


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """``alias NAME [--json] [--ingest] [--provider P]``."""
    parser = subparsers.add_parser(
        "alias",
        help="print occ / acm / os, or ingest a screen piped on stdin",
        description="Print an alias line from the cache, or (--ingest) parse stdin as a screen.",
    )
    parser.add_argument("name", choices=tuple(ALIAS_PROVIDERS), help="which alias")
    parser.add_argument("--json", action="store_true", help="cached figures with source and age")
    parser.add_argument("--ingest", action="store_true", help="parse stdin, publish it (manual)")
    parser.add_argument("--host", metavar="NAME",
                        help="on a central host: only this host's figures (default: every host)")
    parser.add_argument(
        "--provider",
        choices=("auto", "codex", "claude", "claude-monitor"),
        help="with --ingest: which parser (default: codex for occ, auto otherwise)",
    )
    return parser


def alias_dir(paths: Paths) -> t.Any:
    """The configured alias dir."""
    from sinks.config import SinksConfig

    return SinksConfig.load(paths).alias_dir


def run(args: argparse.Namespace) -> int:
    """Print, print as JSON, or ingest."""
    from bus.paths import Paths

    paths = Paths.from_env()
    directory = alias_dir(paths)
    if args.ingest:
        code = ingest(args, directory)
        if code != 0:
            return code
    if args.json:
        return print_json(args.name, directory)
    if getattr(args, "host", None):
        return print_host_lines(args.name, directory, args.host)
    return print_lines(args.name, directory)


def print_host_lines(name: str, directory: t.Any, host: str) -> int:
    """One host's lines of the alias (a central host keeps each host apart)."""
    from bus.clock import utcnow
    from bus.keys import this_host
    from sinks import alias_cache, alias_render

    state = alias_cache.load_state(directory)
    local = str(state.get("host") or this_host())
    if host != local and host not in (state.get("hosts") or {}):
        known = ", ".join(sorted({local, *(state.get("hosts") or {})}))
        print(f"{name}: no figures from host {host!r} (known: {known})", file=sys.stderr)
        return 1
    now = utcnow()
    alias_cache.select(state, now)
    epoch = int(now.timestamp())
    for line in alias_cache.all_host_lines(state, now, only=host)[name]:
        print(alias_render.render_at(line.encode(), epoch))
    return 0


def print_lines(name: str, directory: t.Any) -> int:
    """Render the alias file (or, without one, the empty cache: "no data yet")."""
    from bus.clock import utcnow
    from sinks import alias_cache, alias_render

    lines = alias_cache.read_alias(directory, name)
    if lines is None:
        now = int(time.time())
        empty = alias_render.alias_lines({}, utcnow())[name]
        lines = [alias_render.render_at(line.encode(), now) for line in empty]
    for line in lines:
        print(line)
    return 0


def print_json(name: str, directory: t.Any) -> int:
    """The shown figures of the alias's providers, each with source, screen and age."""
    from bus.clock import utcnow
    from bus.codec import dumps
    from sinks import alias_cache, current

    state = alias_cache.load_state(directory)
    now = utcnow()
    alias_cache.select(state, now)
    out: dict[str, t.Any] = {"alias": name, "providers": {}}
    for provider in ALIAS_PROVIDERS[name]:
        entry = state["providers"].get(provider)
        if entry is None:
            continue
        figures = []
        for figure in entry.get("figures", {}).values():
            shown = dict(figure)
            seen = current.first_seen(figure)  # the age of the figure's first observation
            shown["age_s"] = round((now - seen).total_seconds(), 1) if seen else None
            stale = current.stale_at(figure)
            shown["stale"] = bool(stale is not None and now >= stale)
            figures.append(shown)
        out["providers"][provider] = {"model": entry.get("model"), "limits": figures}
    reports = state["providers"].get("ccusage", {}).get("screens", {})
    out["ccusage"] = {
        screen: {k: report.get(k) for k in ("agent", "report", "observed_at", "totals")}
        for screen, report in reports.items()
        if name == "os" or report.get("agent") in ALIAS_PROVIDERS[name]
    }
    print(dumps(out).decode())
    return 0


def ingest(args: argparse.Namespace, directory: t.Any) -> int:
    """Parse stdin as a screen; publish (manual) and fold it into the cache files."""
    from bus.clock import local_zone, to_rfc3339, utcnow
    from bus.frames import draft, source
    from sinks import alias_cache

    raw = sys.stdin.buffer.read()
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        print(f"{args.name}: nothing on stdin to ingest", file=sys.stderr)
        return 1
    try:
        from scraper.parsers.registry import parse_screen
        from scraper.redact import redact
    except ImportError as exc:
        print(f"{args.name}: screen parsers are not available: {exc}", file=sys.stderr)
        return 1
    now = utcnow()
    zone = local_zone()
    usage = parse_screen(
        redact(text).text,
        observed_at=now,
        zone=zone,
        provider=args.provider or PROVIDER_HINT[args.name],
    )
    if usage is None or usage.provider not in ("codex", "claude", "claude-monitor"):
        print(f"{args.name}: no agent screen recognised in the input", file=sys.stderr)
        return 1
    fields = usage.to_dict()
    provider = fields.pop("provider")
    body: Body = draft(
        "parsed",
        provider,
        source("manual", "parsed"),
        raw_id=None,
        stale_after=to_rfc3339(now + MANUAL_STALE_AFTER),
        observed_at=to_rfc3339(now),
        **fields,
    )
    published = publish(body)
    local = {**body, "v": 1, "id": uuid.uuid4().hex, "seq": 0, "producer": "alias-ingest"}
    alias_cache.update(directory, [local])
    if not published:
        print(f"{args.name}: bus not reachable; cache updated directly", file=sys.stderr)
    return 0


def publish(body: Body) -> bool:
    """Send one frame and wait for the broker's ack (``False`` when there is no broker)."""
    from bus.endpoints import Endpoints
    from bus.publisher import Publisher

    try:
        with Publisher(Endpoints.default(), name="alias-ingest") as pub:
            return bool(pub.send_acked(body, timeout=PUBLISH_TIMEOUT))
    except Exception as exc:  # the bus is optional here: the cache is updated either way
        print(f"bus: {exc}", file=sys.stderr)
        return False
