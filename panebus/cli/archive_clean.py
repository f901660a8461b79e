"""``panebus archive redact|purge`` — clean archived history, reporting what changed.

``redact`` applies today's redaction rules (the catalogue plus the config's ``[[redact]]``
patterns) to archived frames; ``purge`` removes frames by time, pane, provider or id. Both
rewrite segments atomically and refuse while an archive sink is running (exit 3); ``--dry-run``
reports without writing.
"""

from __future__ import annotations

import sys
import typing as t

if t.TYPE_CHECKING:
    import argparse

    from sinks.archive_rewrite import RewriteReport

EXIT_BUSY = 3


def add_actions(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The ``redact`` and ``purge`` subcommands of ``panebus archive``."""
    from panebus.cli.archive import add_filters

    redact = actions.add_parser(
        "redact",
        help="mask secrets in archived frames with the current rules",
        description="Re-apply the current redaction rules (built-in catalogue and the config's "
        "[[redact]] patterns) to archived frames, rewriting each segment that changes "
        "atomically. Stop the archive sink first.",
    )
    add_filters(redact)
    redact.add_argument("--dry-run", action="store_true", help="report, change nothing")
    redact.add_argument("--json", action="store_true", help="the report as one JSON object")
    purge = actions.add_parser(
        "purge",
        help="remove archived frames by time, pane, provider or id",
        description="Remove the archived frames that match every filter given (at least one). "
        "Stop the archive sink first.",
    )
    add_filters(purge)
    purge.add_argument("--dry-run", action="store_true", help="report, change nothing")
    purge.add_argument("--json", action="store_true", help="the report as one JSON object")


def run(args: argparse.Namespace) -> int:
    """Run ``redact`` or ``purge`` and print what changed."""
    from panebus.cli.archive import archive_root, build_query
    from panebus.cli.common import load_scraper_config
    from scraper.pipeline import sha256_text
    from scraper.redact import PatternError, Redactor
    from sinks import archive_rewrite

    verb = f"archive {args.action}"
    try:
        query = build_query(args)
    except ValueError as exc:
        print(f"panebus {verb}: {exc}", file=sys.stderr)
        return 2
    filters = ("since", "until", "pane", "provider", "trigger", "frame_id")
    filtered = any(getattr(args, name) for name in filters)
    if args.action == "purge":
        if not filtered:
            print(
                f"panebus {verb}: say what to remove (--since, --until, --pane, --provider, "
                "--trigger or --id); nothing was changed",
                file=sys.stderr,
            )
            return 2
        transform = archive_rewrite.purge(query)
    else:
        config = load_scraper_config(args, verb)
        if config is None:
            return 2
        try:
            redactor = Redactor(config.redact_patterns)
        except PatternError as exc:
            print(f"panebus {verb}: {exc}", file=sys.stderr)
            return 2
        masking = archive_rewrite.redaction(redactor, sha256_text)
        transform = archive_rewrite.only(query, masking) if filtered else masking
    root = archive_root(args)
    try:
        report = archive_rewrite.rewrite(
            root, transform, dry_run=args.dry_run, days=query.day_range()
        )
    except archive_rewrite.ArchiveBusy as exc:
        print(f"panebus {verb}: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except OSError as exc:
        print(f"panebus {verb}: {exc}", file=sys.stderr)
        return 1
    print_report(report, args.action, root, as_json=args.json)
    return 0


def print_report(report: RewriteReport, action: str, root: object, *, as_json: bool) -> None:
    """One line per segment changed, then the totals (or one JSON object)."""
    from bus.codec import dumps

    if as_json:
        print(dumps({
            "action": action,
            "root": str(root),
            "dry_run": report.dry_run,
            "segments": report.segments,
            "records": report.records,
            "segments_changed": len(report.changes),
            "records_removed": report.removed,
            "records_rewritten": report.changed,
            "secrets": dict(report.counts),
            "changes": [
                {"path": str(change.path), "records": change.records, "kept": change.kept,
                 "rewritten": change.changed, "torn_bytes": change.torn_bytes,
                 "secrets": dict(change.counts)}
                for change in report.changes
            ],
        }).decode())
        return
    would = "would " if report.dry_run else ""
    for change in report.changes:
        parts = []
        if change.removed:
            parts.append(f"{would}remove {change.removed} of {change.records} records")
        if change.changed:
            kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(change.counts.items()))
            parts.append(f"{would}rewrite {change.changed} records ({kinds})")
        if change.torn_bytes:
            parts.append(f"{would}drop a torn tail of {change.torn_bytes} bytes")
        print(f"{change.path}: {'; '.join(parts)}")
    done = "dry run, nothing written" if report.dry_run else "done"
    print(
        f"{action}: {len(report.changes)} of {report.segments} segments {would}changed, "
        f"{report.records} records looked at, {report.removed} {would}removed, "
        f"{report.changed} {would}rewritten ({done})"
    )
