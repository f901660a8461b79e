"""Frame bodies of wire contract version 1 (docs/wire.md "Messages"), and their validation.

A body is a plain ``dict`` so that it round-trips through orjson unchanged and third parties
need nothing from us to read it. :func:`validate` is the single gate every consumer passes a
body through: it raises :class:`FrameError` with a reason instead of letting a bad body in.
"""

from __future__ import annotations

import typing as t

from bus import WIRE_VERSION
from bus.clock import parse_rfc3339

KINDS = ("raw", "parsed", "state", "window", "forecast", "event", "sys")
PROVIDERS = ("codex", "claude", "claude-monitor", "ccusage", "unknown")
SOURCE_KINDS = ("screen", "log", "hook", "report", "manual", "api")
CONFIDENCES = ("official", "parsed", "estimate")
TRIGGERS = ("timer", "file", "output", "probe", "manual", "startup", "replay")
WINDOWS = ("5h", "weekly", "daily", "monthly", "other")
METRICS = ("quota", "tokens", "cost", "messages")
PANE_STATES = ("idle", "working", "waiting", "unknown")

Body = dict[str, t.Any]

ENVELOPE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "v": int,
    "kind": str,
    "id": str,
    "seq": int,
    "producer": str,
    "observed_at": str,
    "provider": str,
    "source": dict,
}
PANE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "server": str,
    "session": str,
    "window": str,
    "pane_id": str,
    "title": str,
    "command": str,
    "pid": (int, type(None)),
    "width": int,
    "height": int,
}
RAW_FIELDS: dict[str, type | tuple[type, ...]] = {
    "pane": dict,
    "trigger": str,
    "text": str,
    "sha256": str,
}
PARSED_FIELDS: dict[str, type | tuple[type, ...]] = {
    "screen": str,
    "raw_id": (str, type(None)),
    "stale_after": (str, type(None)),
    "limits": list,
    "warnings": list,
}
LIMIT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "window": str,
    "scope": (str, type(None)),
    "metric": str,
    "used_pct": (int, float, type(None)),
    "resets_at": (str, type(None)),
    "resets_text": (str, type(None)),
    "used": (int, float, type(None)),
    "limit": (int, float, type(None)),
    "estimate": bool,
}


#: Longest reason kept: reasons are logged and counted by text.
MAX_REASON_CHARS = 160


class FrameError(ValueError):
    """A body that does not satisfy the wire contract. ``reason`` says why, for counters."""

    def __init__(self, reason: str) -> None:
        if len(reason) > MAX_REASON_CHARS:  # reasons quote values; a value can be 10 MB
            reason = reason[:MAX_REASON_CHARS] + "…"
        super().__init__(reason)
        self.reason = reason


def _exact_types(fields: t.Mapping[str, type | tuple[type, ...]]) -> dict[str, frozenset[type]]:
    return {
        name: frozenset(kind if isinstance(kind, tuple) else (kind,))
        for name, kind in fields.items()
    }


# Exact types, not isinstance: orjson only ever yields the built-in types, an exact set lookup
# is what keeps validation cheap at 20,000 frames/s, and it refuses a boolean where a number
# belongs (bool is an int subclass) without a second check.
_ENVELOPE = _exact_types(ENVELOPE_FIELDS)
_PANE = _exact_types(PANE_FIELDS)
_RAW = _exact_types(RAW_FIELDS)
_PARSED = _exact_types(PARSED_FIELDS)
_LIMIT = _exact_types(LIMIT_FIELDS)


def _check_fields(
    body: t.Mapping[str, t.Any], fields: dict[str, frozenset[type]], where: str
) -> None:
    for name, allowed in fields.items():
        try:
            value = body[name]
        except KeyError:
            raise FrameError(f"{where}: missing field {name!r}") from None
        if type(value) not in allowed:
            if isinstance(value, bool):
                raise FrameError(f"{where}: field {name!r} must not be a boolean")
            raise FrameError(f"{where}: field {name!r} has type {type(value).__name__}")


def _check_first_seen(value: object, observed_at: str, index: int) -> None:
    """Optional per-limit ``first_seen_at``: an RFC 3339 time no later than ``observed_at``."""
    where = f"parsed.limits[{index}]"
    if type(value) is not str:
        raise FrameError(f"{where}: field 'first_seen_at' has type {type(value).__name__}")
    try:
        first = parse_rfc3339(value)
    except ValueError:
        raise FrameError(f"{where}: first_seen_at is not an RFC 3339 time") from None
    try:
        observed = parse_rfc3339(observed_at)
    except ValueError:
        return  # the envelope's own time is only checked for its type
    if first > observed:
        raise FrameError(f"{where}: first_seen_at is after observed_at")


#: Containers inside a body, at most. Real frames use 3; orjson reads 1,024 levels but writes
#: only 254, so a deeper body would be acknowledged and then fail in every sink that stores it.
MAX_NESTING = 32


def _nesting_within(values: t.Iterable[t.Any], budget: int) -> bool:
    """Whether no container among ``values`` nests more than ``budget`` levels (~1 µs/frame)."""
    for value in values:
        kind = type(value)
        if kind is dict:
            if budget == 0 or not _nesting_within(value.values(), budget - 1):
                return False
        elif kind is list and (budget == 0 or not _nesting_within(value, budget - 1)):
            return False
    return True


def validate(body: t.Any) -> Body:
    """Return ``body`` if it is a valid v1 frame body, else raise :class:`FrameError`."""
    if not isinstance(body, dict):
        raise FrameError(f"body is {type(body).__name__}, not an object")
    if not _nesting_within(body.values(), MAX_NESTING):  # first: reasons below quote values
        raise FrameError(f"nested deeper than {MAX_NESTING} levels")
    _check_fields(body, _ENVELOPE, "envelope")
    if body["v"] != WIRE_VERSION:
        raise FrameError(f"unsupported wire version {body['v']!r}")
    kind = body["kind"]
    if kind not in KINDS:
        raise FrameError(f"unknown kind {kind!r}")
    if body["provider"] not in PROVIDERS:
        raise FrameError(f"unknown provider {body['provider']!r}")
    if body["seq"] < 0:
        raise FrameError("negative seq")
    source = body["source"]
    if source.get("kind") not in SOURCE_KINDS:
        raise FrameError(f"unknown source kind {source.get('kind')!r}")
    if source.get("confidence") not in CONFIDENCES:
        raise FrameError(f"unknown source confidence {source.get('confidence')!r}")
    if kind == "raw":
        _check_fields(body, _RAW, "raw")
        _check_fields(body["pane"], _PANE, "raw.pane")
        if body["trigger"] not in TRIGGERS:
            raise FrameError(f"unknown trigger {body['trigger']!r}")
    elif kind == "parsed":
        _check_fields(body, _PARSED, "parsed")
        for index, limit in enumerate(body["limits"]):
            if not isinstance(limit, dict):
                raise FrameError(f"parsed.limits[{index}] is not an object")
            _check_fields(limit, _LIMIT, f"parsed.limits[{index}]")
            if limit["window"] not in WINDOWS:
                raise FrameError(f"parsed.limits[{index}]: unknown window {limit['window']!r}")
            if limit["metric"] not in METRICS:
                raise FrameError(f"parsed.limits[{index}]: unknown metric {limit['metric']!r}")
            if limit.get("first_seen_at") is not None:
                _check_first_seen(limit["first_seen_at"], body["observed_at"], index)
    elif kind == "state":
        if not isinstance(body.get("state"), str):
            raise FrameError("state: missing field 'state'")
    elif kind == "window" and not isinstance(body.get("event"), str):
        raise FrameError("window: missing field 'event'")
    elif kind == "forecast":
        for name in ("window", "status"):
            if not isinstance(body.get(name), str):
                raise FrameError(f"forecast: missing field {name!r}")
    elif kind == "event" and not isinstance(body.get("event"), str):
        raise FrameError("event: missing field 'event'")
    return body


def source(kind: str, confidence: str) -> dict[str, str]:
    """Build the ``source`` object, refusing values outside the contract."""
    if kind not in SOURCE_KINDS or confidence not in CONFIDENCES:
        msg = f"bad source {kind!r}/{confidence!r}"
        raise ValueError(msg)
    return {"kind": kind, "confidence": confidence}


def draft(kind: str, provider: str, src: t.Mapping[str, str], **fields: t.Any) -> Body:
    """Build a frame body without the producer-stamped fields.

    The :class:`bus.publisher.Publisher` stamps ``v``, ``id``, ``seq``, ``producer`` and (when
    absent) ``observed_at`` at send time, so every producer numbers its frames gaplessly.
    """
    if kind not in KINDS:
        msg = f"unknown kind {kind!r}"
        raise ValueError(msg)
    body: Body = {"kind": kind, "provider": provider, "source": dict(src)}
    body.update(fields)
    return body
