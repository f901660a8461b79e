"""A source's :class:`Usage` → a ``parsed`` frame body (docs/wire.md "parsed"), the same for all.

The rollout tailer, the Claude statusLine hook and the ccusage ingest each read figures
without a pane; this is where their :class:`Usage` becomes a body the
:class:`bus.publisher.Publisher` can stamp and send, so the three agree on every field.
"""

from __future__ import annotations

import typing as t

from bus.clock import to_rfc3339
from bus.frames import draft, source

if t.TYPE_CHECKING:
    from bus.frames import Body
    from scraper.parsers.model import Usage


def earliest_reset(usage: Usage) -> str | None:
    """The first ``resets_at`` among the limits (RFC 3339), or ``None`` when none is known.

    Sources that read exact figures use it as ``stale_after``: once a window has reset, its
    figure no longer describes the present.
    """
    resets = [limit.resets_at for limit in usage.limits if limit.resets_at is not None]
    return to_rfc3339(min(resets)) if resets else None


def parsed_body(
    usage: Usage,
    source_kind: str,
    confidence: str,
    *,
    stale_after: str | None = None,
    raw_id: str | None = None,
) -> Body:
    """A ``parsed`` draft: every key of ``usage.to_dict()`` plus screen, raw_id, stale_after.

    An ``observed_at`` in ``usage.extra`` (a log line's own time) is kept as the frame's
    ``observed_at``; otherwise the publisher stamps the send time.
    """
    fields = usage.to_dict()
    provider = fields.pop("provider")
    observed_at = fields.pop("observed_at", None)
    body = draft(
        "parsed",
        provider,
        source(source_kind, confidence),
        raw_id=raw_id,
        stale_after=stale_after,
        **fields,
    )
    if isinstance(observed_at, str):
        body["observed_at"] = observed_at
    return body
