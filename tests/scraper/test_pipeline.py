"""Capture → dedup → redact → raw → parse → parsed, through a real broker."""

from __future__ import annotations

import datetime as dt
import typing as t

from bus.clock import parse_rfc3339
from bus.publisher import Publisher
from scraper.discovery import PaneInfo
from scraper.parsers.model import Limit, Usage
from scraper.pipeline import Pipeline, sha256_text
from scraper.redact import Redactor
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from tests.scraper.conftest import Collector

PANE = PaneInfo(
    server="test", pane_id="%7", pid=1, command="codex", dead=False, width=120, height=40,
    session="s", window_index="1", window_name="w", pane_index="0", alternate_on=True,
    title="t", start_command="",
)
KEY = "sk-proj-" + "Q" * 40


def figure_parser(text: str, observed_at: dt.datetime, zone: dt.tzinfo, provider: str) -> Usage:
    """A tiny real parser: the first number after '5h:' is the 5h figure."""
    used = None
    for line in text.splitlines():
        if line.startswith("5h:"):
            used = float(line.split(":")[1].strip().rstrip("%"))
    limits = [Limit(window="5h", used_pct=used)] if used is not None else []
    state: t.Literal["working", "idle"] = "working" if "esc to interrupt" in text else "idle"
    return Usage(provider="codex", screen="codex.status", state=state, limits=limits)


def test_raw_only_on_change_parsed_only_on_new_content(
    endpoints: t.Any, collector: Collector
) -> None:
    with Publisher(endpoints, name="scraper") as publisher:
        assert publisher.wait_ready(timeout=5)
        pipeline = Pipeline(publisher, Redactor(), stale_after=60, parse_screen=figure_parser)
        first = pipeline.process(PANE, "codex", "5h: 23%\nhello", "timer")
        assert first.raw is not None and first.parsed is not None
        assert pipeline.process(PANE, "codex", "5h: 23%\nhello", "timer").raw is None
        # New text, same reading: a raw frame, no parsed frame.
        second = pipeline.process(PANE, "codex", "5h: 23%\nhello again", "output")
        assert second.raw is not None and second.parsed is None
        # New reading: both.
        third = pipeline.process(PANE, "codex", "5h: 30%\nhello again", "file")
        assert third.raw is not None and third.parsed is not None
        # The reading includes the pane state: working is new content.
        working = pipeline.process(PANE, "codex", "5h: 30%\nesc to interrupt", "output")
        assert working.parsed is not None
    wait_for(lambda: len(collector.bodies("raw", "%7")) == 4, message="4 raw frames")
    wait_for(lambda: len(collector.bodies("parsed", "%7")) == 3, message="3 parsed frames")
    wait_for(lambda: len(collector.bodies("state", "%7")) == 2, message="idle then working")
    raws = collector.bodies("raw", "%7")
    assert [r["trigger"] for r in raws] == ["timer", "output", "file", "output"]
    assert all(r["sha256"] == sha256_text(r["text"]) for r in raws)
    parsed = collector.bodies("parsed", "%7")
    assert [p["limits"][0]["used_pct"] for p in parsed] == [23.0, 30.0, 30.0]
    assert [p["state"] for p in parsed] == ["idle", "idle", "working"]
    assert parsed[0]["raw_id"] == raws[0]["id"]
    assert parsed[1]["raw_id"] == raws[2]["id"]
    assert parsed[0]["source"] == {"kind": "screen", "confidence": "parsed"}
    assert parsed[0]["pane"]["pane_id"] == "%7"
    stale = parse_rfc3339(parsed[0]["stale_after"]) - parse_rfc3339(parsed[0]["observed_at"])
    assert stale == dt.timedelta(seconds=60)
    states = [s["state"] for s in collector.bodies("state", "%7")]
    assert states == ["idle", "working"]


def test_secret_never_reaches_the_bus_nor_the_parser(
    endpoints: t.Any, collector: Collector
) -> None:
    seen_by_parser: list[str] = []

    def parser(text: str, observed_at: dt.datetime, zone: dt.tzinfo, provider: str) -> Usage:
        seen_by_parser.append(text)
        return Usage(provider="codex", screen="codex.status", model=text.splitlines()[0])

    with Publisher(endpoints, name="scraper") as publisher:
        assert publisher.wait_ready(timeout=5)
        pipeline = Pipeline(publisher, Redactor(), parse_screen=parser)
        outcome = pipeline.process(PANE, "codex", f"export OPENAI_API_KEY={KEY}\nok", "manual")
    assert outcome.raw is not None
    wait_for(lambda: collector.bodies("parsed", "%7"), message="parsed frame")
    assert pipeline.stats.secrets_masked == 1
    assert KEY not in seen_by_parser[0]
    for _, body in collector.frames:
        assert KEY not in str(body)
    assert "[REDACTED:openai-project-key]" in collector.bodies("raw", "%7")[0]["text"]


def test_parser_exception_is_counted_not_fatal(endpoints: t.Any, collector: Collector) -> None:
    def broken(text: str, observed_at: dt.datetime, zone: dt.tzinfo, provider: str) -> Usage:
        raise ValueError("parser bug")

    with Publisher(endpoints, name="scraper") as publisher:
        assert publisher.wait_ready(timeout=5)
        pipeline = Pipeline(publisher, Redactor(), parse_screen=broken)
        assert pipeline.process(PANE, "codex", "a", "timer").raw is not None
        assert pipeline.process(PANE, "codex", "b", "timer").raw is not None
    assert pipeline.stats.parse_failures == 2
    wait_for(lambda: len(collector.bodies("raw", "%7")) == 2, message="raw frames still flow")
