"""Topic names (docs/wire.md "Messages"). SUB sockets match by prefix, so the order of parts
matters."""

from __future__ import annotations

from bus.frames import Body, FrameError

CACHED_PREFIXES = ("parsed.", "state.", "window.", "forecast.")


def raw(provider: str, pane_id: str) -> str:
    """``raw.<provider>.<pane>``; the pane id loses its ``%``."""
    return f"raw.{provider}.{pane_id.lstrip('%')}"


def parsed(provider: str, screen: str) -> str:
    """``parsed.<provider>.<screen>``; ``codex.status`` becomes ``parsed.codex.status``."""
    prefix = f"{provider}."
    name = screen[len(prefix) :] if screen.startswith(prefix) else screen
    return f"parsed.{provider}.{name}"


def state(provider: str, pane_id: str) -> str:
    """``state.<provider>.<pane>``."""
    return f"state.{provider}.{pane_id.lstrip('%')}"


def window(provider: str, usage_window: str) -> str:
    """``window.<provider>.<window>``: frames about one usage window (``5h``, ``weekly`` …)."""
    return f"window.{provider}.{usage_window}"


def forecast(provider: str, usage_window: str, scope: str | None = None) -> str:
    """``forecast.<provider>.<window>``, with ``.<scope>`` (spaces as ``-``) for a scoped limit."""
    base = f"forecast.{provider}.{usage_window}"
    return base if not scope else f"{base}.{scope.replace(' ', '-').replace('.', '_')}"


def event(name: str, provider: str) -> str:
    """``event.<kind>.<provider>``: something a person should be told once."""
    return f"event.{name}.{provider}"


def sys(what: str) -> str:
    """``sys.<what>``."""
    return f"sys.{what}"


def for_body(body: Body) -> str:
    """Derive the canonical topic of a validated body."""
    kind = body["kind"]
    provider = body["provider"]
    if kind == "raw":
        return raw(provider, body["pane"]["pane_id"])
    if kind == "parsed":
        return parsed(provider, body["screen"])
    if kind == "state":
        return state(provider, str(body.get("pane", {}).get("pane_id", "?")))
    if kind == "window":
        return window(provider, str(body.get("window", "other")))
    if kind == "forecast":
        scope = body.get("scope")
        named = scope if isinstance(scope, str) else None
        return forecast(provider, str(body.get("window")), named)
    if kind == "event":
        return event(str(body.get("event")), provider)
    if kind == "sys":
        return sys(str(body.get("what", "event")))
    raise FrameError(f"no topic for kind {kind!r}")


def is_cached(topic: str) -> bool:
    """Whether the broker keeps the last value of this topic."""
    return topic.startswith(CACHED_PREFIXES)


def kind_of(topic: str) -> str:
    """The first part of a topic: ``raw``, ``parsed``, ``state``, ``window``, ``forecast``,
    ``event`` or ``sys``."""
    return topic.split(".", 1)[0]
