"""One captured screen → frames: dedup by hash → redact → raw frame → parse → parsed frame.

The arrow of docs/architecture.md's picture from "capture" to "publish". A raw frame is published
only when the pane's text changed since the last one published for that pane, and not when only a
spinner or timer ticked since the previous capture (:func:`scraper.changes.classify`): such a
capture is neither redacted, parsed nor published, only counted (``coalesced`` on the pane's next
raw frame), except as a keyframe every ``keyframe_interval`` seconds and for manual, probe and
startup captures. A parsed frame is published only when what the parsers read (``Usage.to_dict()``)
changed. Secrets are masked before either leaves: the parsers see the redacted text too, so no
parsed field can carry a secret either.

Not thread-safe by design: the scraper calls it from its one worker thread, which is also the
only thread that touches the publisher (ZeroMQ sockets belong to one thread).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
import typing as t

from bus.clock import local_zone, to_rfc3339, utcnow
from bus.frames import draft, source
from scraper.changes import classify
from scraper.first_seen import FirstSeen
from scraper.parsers import registry

if t.TYPE_CHECKING:
    from scraper.changes import Change
    from scraper.discovery import PaneInfo, PaneKey
    from scraper.parsers.model import Usage
    from scraper.redact import Redactor

logger = logging.getLogger(__name__)

#: Keys of ``Usage.to_dict()`` that may change without the reading changing.
VOLATILE_KEYS = frozenset({"observed_at", "age", "age_seconds"})
#: Triggers whose capture is always published whole (a person or a probe asked for it).
WHOLE_TRIGGERS = frozenset({"manual", "probe", "startup"})
#: A pane whose spinner keeps ticking still gets a raw frame this often (seconds): a keyframe.
KEYFRAME_INTERVAL = 60.0


class Publishing(t.Protocol):
    """What the pipeline needs from :class:`bus.publisher.Publisher`."""

    def send(self, body: dict[str, t.Any], topic: str | None = None) -> dict[str, t.Any]: ...


ParseScreen = t.Callable[[str, dt.datetime, dt.tzinfo, str], "Usage | None"]


@dataclasses.dataclass
class PipelineStats:
    """Counters the scraper reports (``panebus scrape`` prints them)."""

    screens: int = 0
    unchanged: int = 0
    raw_published: int = 0
    parsed_published: int = 0
    parse_failures: int = 0
    publish_failures: int = 0
    secrets_masked: int = 0
    states_published: int = 0
    spinner_skipped: int = 0


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one screen produced (None where nothing was published)."""

    raw: dict[str, t.Any] | None = None
    parsed: dict[str, t.Any] | None = None
    usage: Usage | None = None
    change: Change = "new"  # how the text differs from the pane's previous capture


def parsed_draft(
    fields: t.Mapping[str, t.Any], raw: t.Mapping[str, t.Any], stale_after: dt.datetime
) -> dict[str, t.Any]:
    """The ``parsed`` draft for what a parser read from one raw frame (``fields`` is
    ``Usage.to_dict()``, computed once by the caller, who also compares it for changes).

    One builder for the scraper and for ``panebus replay --parse`` (re-parsing archived
    frames with newer parsers), so both carry the same fields: the raw frame's time, its id
    as ``raw_id``, its pane, and ``stale_after``.
    """
    body = draft(
        "parsed",
        fields["provider"],
        source("screen", "parsed"),
        observed_at=raw["observed_at"],
        raw_id=raw["id"],
        stale_after=to_rfc3339(stale_after),
    )
    body.update(fields)
    if "pane" in raw:
        body["pane"] = raw["pane"]
    return body


def sha256_text(text: str) -> str:
    """The ``sha256`` field of a raw frame."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Pipeline:
    """Turn captured text into raw, parsed and activity-state frames, without repeats."""

    def __init__(
        self,
        publisher: Publishing,
        redactor: Redactor,
        stale_after: float = 600.0,
        zone: dt.tzinfo | None = None,
        parse_screen: ParseScreen | None = None,
        *,
        keyframe_interval: float = KEYFRAME_INTERVAL,
    ) -> None:
        self.publisher = publisher
        self.redactor = redactor
        self.stale_after = dt.timedelta(seconds=stale_after)
        self.zone = zone or local_zone()
        self.parse_screen: ParseScreen = parse_screen or registry.parse_screen
        self.stats = PipelineStats()
        self.keyframe_interval = keyframe_interval
        self._last_hash: dict[PaneKey, str] = {}
        self._last_text: dict[PaneKey, str] = {}  # the previous capture, for classify()
        self._last_raw_at: dict[PaneKey, float] = {}  # monotonic time of the last raw frame
        self._skipped: dict[PaneKey, int] = {}  # spinner-only captures not published since
        self._last_parsed: dict[PaneKey, dict[str, t.Any]] = {}
        self._last_activity: dict[PaneKey, str] = {}
        self.first_seen = FirstSeen()  # per-limit first_seen_at of what each pane shows

    def forget(self, key: PaneKey) -> None:
        """Drop what we remember of a pane (it is gone or was respawned)."""
        self._last_hash.pop(key, None)
        self._last_text.pop(key, None)
        self._last_raw_at.pop(key, None)
        self._skipped.pop(key, None)
        self._last_parsed.pop(key, None)
        self._last_activity.pop(key, None)
        self.first_seen.forget(key)

    def process(
        self,
        pane: PaneInfo,
        provider: str,
        text: str,
        trigger: str,
        *,
        observed_at: dt.datetime | None = None,
        force: bool = False,
    ) -> Outcome:
        """Publish what is new in ``text``; ``force`` publishes the raw frame even unchanged."""
        self.stats.screens += 1
        key = (pane.server, pane.pane_id)
        change = classify(self._last_text.get(key), text)
        self._last_text[key] = text
        digest = sha256_text(text)
        if not force and self._last_hash.get(key) == digest:
            self.stats.unchanged += 1
            return Outcome(change="same")
        now = time.monotonic()
        if (
            change in ("spinner", "same")  # same as a capture skipped as a spinner tick
            and not force
            and trigger not in WHOLE_TRIGGERS
            and now - self._last_raw_at.get(key, -1e9) < self.keyframe_interval
        ):
            # Only a spinner or timer ticked: nothing to parse, nothing worth a frame. Counted,
            # and the count rides on the pane's next raw frame.
            self.stats.spinner_skipped += 1
            self._skipped[key] = self._skipped.get(key, 0) + 1
            return Outcome(change=change)
        moment = observed_at or utcnow()
        redacted = self.redactor.redact(text, pane.width)
        if redacted.total:
            self.stats.secrets_masked += redacted.total
            logger.info(
                "masked secrets", extra={"pane_id": pane.pane_id, "counts": redacted.counts}
            )
        body = draft(
            "raw",
            provider,
            source("screen", "parsed"),
            observed_at=to_rfc3339(moment),
            pane=self._pane_fields(pane),
            trigger=trigger,
            text=redacted.text,
            sha256=sha256_text(redacted.text),
        )
        skipped = self._skipped.pop(key, 0)
        if skipped:
            body["coalesced"] = skipped  # spinner-only redraws since the pane's last raw frame
        # Parsed before the raw frame goes out, so the parsed frame follows it at once: parsing
        # after it meant waiting for the interpreter while every sink took the raw frame
        # (most of the pipeline's share of change → occ).
        usage = self._parse(redacted.text, moment, provider, pane)
        raw = self._send(body)
        if raw is None:
            if skipped:
                self._skipped[key] = skipped
            return Outcome(change=change)
        self._last_hash[key] = digest
        self._last_raw_at[key] = now
        self.stats.raw_published += 1
        if usage is None:
            return Outcome(raw=raw, change=change)
        parsed = self._publish_parsed(key, pane, usage, raw, moment)
        self._publish_activity(key, pane, usage)
        return Outcome(raw=raw, parsed=parsed, usage=usage, change=change)

    def publish_state(self, pane: PaneInfo, provider: str, state: str, reason: str) -> None:
        """A ``state.*`` frame (added, gone, respawned, idle, working, waiting, unknown)."""
        body = draft(
            "state",
            provider,
            source("screen", "parsed"),
            pane=self._pane_fields(pane),
            state=state,
            reason=self.redactor.redact(reason).text,  # may quote the pane's title
        )
        if self._send(body) is not None:
            self.stats.states_published += 1

    def _pane_fields(self, pane: PaneInfo) -> dict[str, t.Any]:
        """The frame's ``pane`` with secrets masked: what runs in a pane sets its title."""
        fields, masked = self.redactor.redact_fields(pane.wire())
        self.stats.secrets_masked += masked
        return fields

    def _parse(
        self, text: str, moment: dt.datetime, provider: str, pane: PaneInfo
    ) -> Usage | None:
        try:
            return self.parse_screen(text, moment, self.zone, provider)
        except Exception:
            # Parsers must not raise; one that does must not stop the scraper.
            self.stats.parse_failures += 1
            logger.exception("parser failed", extra={"pane_id": pane.pane_id, "provider": provider})
            return None

    def _publish_parsed(
        self,
        key: PaneKey,
        pane: PaneInfo,
        usage: Usage,
        raw: dict[str, t.Any],
        moment: dt.datetime,
    ) -> dict[str, t.Any] | None:
        content = self.first_seen.stamp(key, usage.to_dict(), moment)
        comparable = {k: v for k, v in content.items() if k not in VOLATILE_KEYS}
        if self._last_parsed.get(key) == comparable:
            return None
        body = parsed_draft(content, raw, stale_after=moment + self.stale_after)
        sent = self._send(body)
        if sent is not None:
            self._last_parsed[key] = comparable
            self.stats.parsed_published += 1
        return sent

    def _publish_activity(self, key: PaneKey, pane: PaneInfo, usage: Usage) -> None:
        if self._last_activity.get(key) == usage.state:
            return
        self._last_activity[key] = usage.state
        self.publish_state(pane, usage.provider, usage.state, usage.state_reason or usage.screen)

    def _send(self, body: dict[str, t.Any]) -> dict[str, t.Any] | None:
        try:
            return self.publisher.send(body)
        except Exception:
            # A frame the contract refuses (or a closed socket) is counted, never fatal.
            self.stats.publish_failures += 1
            logger.exception("publish failed", extra={"kind": body.get("kind")})
            return None
