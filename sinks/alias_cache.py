"""The alias cache: latest figures per provider in ``state.json`` plus the ``occ``/``acm``/``os``
files the shell functions and the tmux status line read.

``state.json`` keeps, per provider and per limit (window, scope, metric), the latest figure of
each slot (``official``, exact ``parsed``, ``estimate``) with its source, screen, observation
time, first-observation time (``first_seen_at``) and ``stale_after``; the figure shown is chosen
by :func:`sinks.current.choose` (DESIGN §5 "Which figure is current"). Every
update is a read-modify-write under a lock (the sink and ``panebus alias --ingest`` both write),
and each file is replaced atomically, so a reader never sees a half-written line.
"""

from __future__ import annotations

import logging
import time
import typing as t

from bus.clock import now_rfc3339, utcnow
from bus.codec import dumps, loads
from sinks import alias_render, current
from sinks.base import Emit, is_replay
from sinks.files import atomic_write, locked

if t.TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from bus.frames import Body
    from bus.paths import Paths
    from sinks.config import SinksConfig

logger = logging.getLogger(__name__)

STATE_FILE = "state.json"
LOCK_FILE = ".lock"
RERENDER_INTERVAL = 30.0  # seconds: a figure turning stale can change which one is shown
PERIODS_KEPT = 14  # ccusage periods kept per report in state.json (days, weeks, …)
ENVELOPE = ("v", "kind", "seq", "producer", "provider", "limits", "text", "pane")


def empty_state() -> dict[str, t.Any]:
    """A cache with nothing in it."""
    return {"v": 1, "updated_at": None, "providers": {}}


def load_state(alias_dir: Path) -> dict[str, t.Any]:
    """``state.json``, or an empty state when missing or unreadable (logged)."""
    path = alias_dir / STATE_FILE
    if not path.exists():
        return empty_state()
    try:
        state = loads(path.read_bytes())
    except (OSError, ValueError):
        logger.warning("unreadable alias state; starting empty", extra={"path": str(path)})
        return empty_state()
    if not isinstance(state, dict) or not isinstance(state.get("providers"), dict):
        return empty_state()
    return state


def apply_forecast(state: dict[str, t.Any], body: Body) -> bool:
    """Keep the latest forecast of a limit (``runs out ~HH:MM`` in its alias line)."""
    entry = state["providers"].setdefault(str(body.get("provider")),
                                          {"candidates": {}, "screens": {}})
    key = alias_render.figure_key({"window": body.get("window"), "scope": body.get("scope")})
    kept = entry.setdefault("forecasts", {}).get(key)
    fields = {k: body.get(k) for k in ("status", "runs_out_at", "resets_at", "window_id",
                                        "observed_at", "used_pct", "rate_pct_per_hour")}
    if kept == fields or (kept and str(kept.get("observed_at")) > str(fields["observed_at"])):
        return False
    entry["forecasts"][key] = fields
    return True


def apply_frame(state: dict[str, t.Any], body: Body) -> bool:
    """Fold one parsed frame into ``state``; ``False`` when it is older than what is kept."""
    if body.get("kind") == "forecast":
        return apply_forecast(state, body)
    provider = str(body.get("provider"))
    observed = str(body.get("observed_at", ""))
    entry = state["providers"].setdefault(provider, {"candidates": {}, "screens": {}})
    changed = False
    for limit in body.get("limits") or []:
        if not isinstance(limit, dict):
            continue
        slots = entry["candidates"].setdefault(alias_render.figure_key(limit), {})
        changed = current.offer(slots, current.figure_of(limit, body)) or changed
    screen = str(body.get("screen", "?"))
    kept_screen = entry["screens"].get(screen)
    if kept_screen is None or str(kept_screen.get("observed_at", "")) < observed:
        kept_fields = {k: v for k, v in body.items() if k not in ENVELOPE}
        if isinstance(kept_fields.get("periods"), list):  # ccusage: the recent periods only
            kept_fields["periods"] = kept_fields["periods"][-PERIODS_KEPT:]
        entry["screens"][screen] = kept_fields
        changed = True
        if body.get("model"):
            entry["model"] = body["model"]
    return changed


def select(state: dict[str, t.Any], now: dt.datetime) -> None:
    """Recompute the shown figure of every limit (``figures``) from the candidates."""
    for entry in state["providers"].values():
        figures = {}
        for key, slots in entry.get("candidates", {}).items():
            chosen = current.choose(slots.values(), now)
            if chosen is not None:
                figures[key] = chosen
        entry["figures"] = figures


def write_files(alias_dir: Path, state: dict[str, t.Any], now: dt.datetime) -> None:
    """``state.json`` and one file per alias, each replaced atomically."""
    state["updated_at"] = now_rfc3339()
    atomic_write(alias_dir / STATE_FILE, dumps(state))
    for alias, lines in alias_render.alias_lines(state["providers"], now).items():
        text = "".join(line.encode() + "\n" for line in lines)
        atomic_write(alias_dir / alias, text.encode("utf-8"))


def update(alias_dir: Path, bodies: t.Iterable[Body] = (), force: bool = False) -> bool:
    """Fold ``bodies`` into the cache on disk under the lock; rewrite files when anything moved."""
    alias_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with locked(alias_dir / LOCK_FILE):
        state = load_state(alias_dir)
        changed = force
        for body in bodies:
            changed = apply_frame(state, body) or changed
        if not changed:
            return False
        now = utcnow()
        select(state, now)
        write_files(alias_dir, state, now)
        return True


def read_alias(alias_dir: Path, name: str, now_epoch: int | None = None) -> list[str] | None:
    """What the shell function prints for ``name`` (``None`` when the file is missing)."""
    path = alias_dir / name
    if not path.exists():
        return None
    epoch = int(time.time()) if now_epoch is None else now_epoch
    text = path.read_text(encoding="utf-8")
    return [alias_render.render_at(line, epoch) for line in text.splitlines() if line]


class AliasSink:
    """Parsed frames in, ``state.json`` and the alias files out."""

    name = "alias"
    prefixes: tuple[str, ...] = ("parsed.", "forecast.")

    def __init__(self, alias_dir: Path) -> None:
        self.alias_dir = alias_dir
        self.updates = 0
        self._next_render = time.monotonic()

    @classmethod
    def build(cls, paths: Paths, config: SinksConfig) -> AliasSink:
        """Factory for the sink registry."""
        del paths
        return cls(config.alias_dir)

    def handle(self, topic: str, body: Body, emit: Emit) -> None:
        """Fold one parsed or forecast frame in (replays are history: skipped)."""
        del topic, emit
        if body.get("kind") not in ("parsed", "forecast") or is_replay(body):
            return
        if update(self.alias_dir, [body]):
            self.updates += 1

    def tick(self, emit: Emit) -> None:
        """Re-select every :data:`RERENDER_INTERVAL` s: a figure may have turned stale."""
        del emit
        if time.monotonic() >= self._next_render:
            self._next_render = time.monotonic() + RERENDER_INTERVAL
            update(self.alias_dir, force=(self.alias_dir / STATE_FILE).exists())

    def health(self) -> dict[str, t.Any]:
        """Where the files are and how many updates this run made."""
        return {"dir": str(self.alias_dir), "updates": self.updates}

    def drain(self, emit: Emit) -> None:
        """Nothing pending: every frame is on disk when ``handle`` returns."""
        del emit

    def close(self) -> None:
        """Nothing buffered: every update is on disk when ``handle`` returns."""
