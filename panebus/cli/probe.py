"""``panebus probe codex|claude [PANE]``: official Codex figures from ``codex app-server``, or
/status or /usage typed into an idle agent pane.

For Codex the app-server is asked first (nothing typed, official figures, screen
``codex.app-server``); the pane is probed only when the app-server cannot answer, or with
``--screen``.

Exit codes: 0 read (or captured) and published; 3 refused: the probe could not be sure it was
safe (pane busy, text in its prompt, copy mode, someone typing, another probe on the pane, no
such pane — nothing typed; or someone typed at the very moment the command went in — then
nothing was submitted, and the message says whether the command was removed or is left in the
draft); 4 Enter was pressed but no settled card showed or the pane did not come back; 5 read
but no bus was reachable to publish it.
"""

from __future__ import annotations

import sys
import typing as t

from panebus.cli.common import add_server_arguments, load_scraper_config

if t.TYPE_CHECKING:
    import argparse

    from scraper.probe import ProbeResult
    from scraper.sources.codex_appserver import Reading

NO_BUS = 5


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Register the verb."""
    parser = subparsers.add_parser(
        "probe",
        help="type /status (Codex) or /usage (Claude) into an idle agent pane and capture it",
        description=(
            "Codex: ask `codex app-server` for the official figures (nothing is typed); only "
            "when it cannot answer, or with --screen, read the pane. A pane probe types "
            "/status (Codex) or /usage (Claude) into an agent pane that is idle at an "
            "empty prompt, captures the settled card, publishes it (trigger probe) and closes "
            "Claude's dialog with Esc (Codex's card stays in its transcript: no Esc). Refuses "
            "(exit 3) when the agent works, asks something, the pane is in copy mode, another "
            "probe runs there, or someone is typing."
        ),
    )
    parser.add_argument("provider", choices=("codex", "claude"))
    parser.add_argument("pane", nargs="?", help="pane id (%%3) or session:window.pane")
    add_server_arguments(parser)
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS", help="wait for the card"
    )
    parser.add_argument(
        "--quiet", type=float, default=3.0, metavar="SECONDS",
        help="refuse while a tmux client typed into the pane's session this recently (3)",
    )
    parser.add_argument("--json", action="store_true", help="print the parsed card as JSON")
    parser.add_argument("--no-publish", action="store_true", help="capture only, no bus")
    parser.add_argument(
        "--screen", action="store_true",
        help="Codex: type /status into the pane even when the app-server answers",
    )
    parser.add_argument(
        "--codex-bin", metavar="PATH",
        help="the codex binary for the app-server (default: $PANEBUS_CODEX_BIN, else codex)",
    )
    return parser


def describe(result: ProbeResult) -> str:
    """One human line about what the card said."""
    parts = []
    if result.usage is not None:
        for limit in result.usage.limits:
            if limit.used_pct is None:
                continue
            scope = f" ({limit.scope})" if limit.scope else ""
            reset = f", resets {limit.resets_text}" if limit.resets_text else ""
            parts.append(f"{limit.window}{scope} {limit.used_pct:g}% used{reset}")
    figures = "; ".join(parts) or "no figures on the card"
    return f"{result.provider} {result.pane.pane_id} ({result.pane.target}): {figures}"


def describe_reading(reading: Reading) -> str:
    """One human line about what the app-server said."""
    parts = []
    for limit in reading.usage.limits:
        scope = f" ({limit.scope})" if limit.scope else ""
        reset = f", resets {limit.resets_at:%Y-%m-%d %H:%M} UTC" if limit.resets_at else ""
        parts.append(f"{limit.window}{scope} {limit.used_pct:g}% used{reset}")
    return f"codex app-server ({reading.seconds:.2f}s): {'; '.join(parts)}"


def _from_appserver(args: argparse.Namespace) -> int | None:
    """Read, print and publish the app-server's figures; None when it cannot answer."""
    from bus.codec import dumps
    from panebus.oneshot import ACK_TIMEOUT, open_publisher
    from scraper.sources.codex_appserver import (
        AppServerUnavailable,
        CodexAppServer,
        appserver_frame,
    )

    try:
        reading = CodexAppServer(args.codex_bin, timeout=args.timeout).read()
    except AppServerUnavailable as exc:
        print(f"panebus probe: {exc}; reading the pane instead", file=sys.stderr)
        return None
    body = appserver_frame(reading.usage)
    if args.json:
        print(dumps(reading.usage.to_dict()).decode())
    else:
        print(describe_reading(reading))
    if args.no_publish:
        return 0
    with open_publisher("probe") as publisher:
        sent = publisher is not None and publisher.publisher.send_acked(body, timeout=ACK_TIMEOUT)
    if not sent:
        print("panebus probe: no bus reachable (start `panebus up` or `panebus bus`): "
              "read, not published", file=sys.stderr)
        return NO_BUS
    print("published parsed.codex.app-server (source api, official)", file=sys.stderr)
    return 0


def run(args: argparse.Namespace) -> int:
    """Probe, print what was read, publish when a broker is reachable."""
    from bus.codec import dumps
    from panebus.oneshot import open_publisher
    from scraper.probe import ProbeFailed, Prober, ProbeRefused

    if args.provider == "codex" and not args.screen:
        code = _from_appserver(args)
        if code is not None:
            return code
    config = load_scraper_config(args, "probe")
    if config is None:
        return 2
    servers = list(config.servers)
    with open_publisher("probe", enabled=not args.no_publish) as publisher:
        refusals = []
        for server in servers:
            prober = Prober(
                server,
                publisher=publisher,
                targets=config.targets,
                redact_patterns=config.redact_patterns,
                timeout=args.timeout,
                stale_after=config.stale_after,
                quiet=args.quiet,
            )
            try:
                result = prober.probe(args.provider, args.pane)
            except ProbeRefused as exc:
                if exc.typed:  # stop here: the message says what happened to the keys
                    print(f"panebus probe: refused after typing: {exc}", file=sys.stderr)
                    return ProbeRefused.exit_code
                refusals.append(str(exc))
                continue
            except ProbeFailed as exc:
                print(f"panebus probe: {exc}", file=sys.stderr)
                return ProbeFailed.exit_code
            break
        else:
            print(f"panebus probe: refused, nothing typed: {'; '.join(refusals)}", file=sys.stderr)
            return ProbeRefused.exit_code
        confirmed = (
            publisher is not None
            and result.raw is not None
            and publisher.confirm(
                "probe", agent=result.provider, pane=result.raw["pane"], raw_id=result.raw["id"]
            )
        )
    if args.json and result.usage is not None:
        print(dumps(result.usage.to_dict()).decode())
    else:
        print(describe(result))
    if not result.restored:
        print("panebus probe: the pane did not return to its prompt (the card is still open: "
              "Esc waits until nobody types and the agent is idle)", file=sys.stderr)
        return ProbeFailed.exit_code
    if args.no_publish:
        return 0
    if result.raw is None or not confirmed:
        print(
            "panebus probe: no bus reachable (start `panebus up` or `panebus bus`): "
            "captured, not published",
            file=sys.stderr,
        )
        return NO_BUS
    print(f"published raw {result.raw['id']} (trigger probe)", file=sys.stderr)
    return 0
