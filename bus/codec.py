"""The one frame codec: ``[topic, body]`` as two ZeroMQ frames, body in orjson UTF-8."""

from __future__ import annotations

import typing as t

import orjson

from bus.frames import Body, FrameError, validate
from bus.topics import kind_of

MAX_TOPIC_BYTES = 512


def encode(topic: str, body: Body) -> list[bytes]:
    """Validate and encode one message into its two frames."""
    validate(body)
    if kind_of(topic) != body["kind"]:
        raise FrameError(f"topic {topic!r} does not match kind {body['kind']!r}")
    return [topic.encode("utf-8"), orjson.dumps(body)]


def decode(parts: t.Sequence[bytes | memoryview]) -> tuple[str, Body]:
    """Decode and validate one message; raise :class:`FrameError` with the reason."""
    if len(parts) != 2:
        raise FrameError(f"expected 2 frames, got {len(parts)}")
    return decode_message(bytes(parts[0]), parts[1])


def decode_message(raw_topic: bytes, raw_body: bytes | memoryview) -> tuple[str, Body]:
    """:func:`decode` for a message already known to have two frames (the hot path)."""
    if len(raw_topic) > MAX_TOPIC_BYTES:
        raise FrameError("topic too long")
    try:
        topic = raw_topic.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FrameError(f"topic is not UTF-8: {exc.reason}") from None
    try:
        body = orjson.loads(raw_body)
    except orjson.JSONDecodeError as exc:
        raise FrameError(f"body is not JSON: {exc}") from None
    validate(body)
    if kind_of(topic) != body["kind"]:
        raise FrameError(f"topic {topic!r} does not match kind {body['kind']!r}")
    return topic, body


def dumps(body: t.Any) -> bytes:
    """orjson-encode anything JSON-able (the one encoder for files as well as the wire)."""
    return orjson.dumps(body)


def loads(data: bytes | memoryview | str) -> t.Any:
    """orjson-decode; raises ``orjson.JSONDecodeError`` (a ``ValueError``)."""
    return orjson.loads(data)
