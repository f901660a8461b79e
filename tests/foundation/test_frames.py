"""The wire contract's gate: valid bodies pass, each kind of bad body is refused with a reason."""

from __future__ import annotations

import typing as t

import pytest

from bus import codec, topics
from bus.frames import Body, FrameError, draft, source, validate


def envelope(kind: str = "parsed", provider: str = "codex", **fields: t.Any) -> Body:
    body = draft(kind, provider, source("screen", "parsed"), **fields)
    body.update(
        v=1, id="f1", seq=0, producer="host:1:test", observed_at="2026-11-25T06:30:19.000Z"
    )
    return body


def parsed_body(**overrides: t.Any) -> Body:
    limit = {
        "window": "5h", "scope": None, "metric": "quota", "used_pct": 23.0,
        "resets_at": "2026-11-25T08:44:00+00:00", "resets_text": "08:44",
        "used": None, "limit": None, "estimate": False,
    }
    body = envelope(screen="codex.status", raw_id=None, stale_after=None,
                    limits=[limit], warnings=[])
    body.update(overrides)
    return body


def raw_body(**overrides: t.Any) -> Body:
    pane = {"server": "default", "session": "s", "window": "@1", "pane_id": "%3",
            "title": "t", "command": "codex", "pid": 42, "width": 120, "height": 40}
    body = envelope("raw", pane=pane, trigger="timer", text="hello", sha256="00")
    body.update(overrides)
    return body


def test_valid_bodies_pass_and_round_trip() -> None:
    for body in (parsed_body(), raw_body()):
        topic = topics.for_body(body)
        assert codec.decode(codec.encode(topic, body)) == (topic, body)


class BadCase(t.NamedTuple):
    test_id: str
    body: t.Any
    reason: str


BAD_CASES = [
    BadCase("not-an-object", [1, 2], "not an object"),
    BadCase("wrong-version", parsed_body(v=2), "unsupported wire version"),
    BadCase("unknown-kind", parsed_body(kind="blob"), "unknown kind"),
    BadCase("unknown-provider", parsed_body(provider="gemini"), "unknown provider"),
    BadCase("missing-seq", {k: v for k, v in parsed_body().items() if k != "seq"}, "'seq'"),
    BadCase("bool-seq", parsed_body(seq=True), "boolean"),
    BadCase("bad-source", parsed_body(source={"kind": "dream", "confidence": "parsed"}),
            "source kind"),
    BadCase("limit-window", parsed_body(limits=[{**parsed_body()["limits"][0], "window": "1h"}]),
            "unknown window"),
    BadCase("limit-pct-type", parsed_body(limits=[{**parsed_body()["limits"][0],
                                                   "used_pct": "23"}]), "used_pct"),
    BadCase("raw-no-text", {k: v for k, v in raw_body().items() if k != "text"}, "'text'"),
    BadCase("raw-trigger", raw_body(trigger="magic"), "unknown trigger"),
]


@pytest.mark.parametrize("case", BAD_CASES, ids=[c.test_id for c in BAD_CASES])
def test_bad_bodies_are_refused_with_a_reason(case: BadCase) -> None:
    with pytest.raises(FrameError, match=case.reason):
        validate(case.body)


def test_decode_refuses_non_utf8_topic_broken_json_and_kind_mismatch() -> None:
    good = codec.encode("parsed.codex.status", parsed_body())
    with pytest.raises(FrameError, match="UTF-8"):
        codec.decode([b"\xff\xfe", good[1]])
    with pytest.raises(FrameError, match="not JSON"):
        codec.decode([good[0], b"{not json"])
    with pytest.raises(FrameError, match="does not match"):
        codec.decode([b"raw.codex.3", good[1]])
    with pytest.raises(FrameError, match="2 frames"):
        codec.decode([good[0]])


def test_topics_follow_the_contract() -> None:
    assert topics.raw("codex", "%3") == "raw.codex.3"
    assert topics.parsed("codex", "codex.status") == "parsed.codex.status"
    assert topics.parsed("claude-monitor", "claude-monitor.realtime") == (
        "parsed.claude-monitor.realtime"
    )
    assert topics.is_cached("window.codex.5h")
    assert not topics.is_cached("raw.codex.3")
