"""The alias cache: latest figures per provider in ``state.json`` plus the ``occ``/``acm``/``os``
files the shell functions and the tmux status line read.

``state.json`` keeps, per provider and per limit (window, scope, metric), the latest figure of
each slot (``official``, exact ``parsed``, ``estimate``) with its source, screen, observation
time, first-observation time (``first_seen_at``) and ``stale_after``; the figure shown is chosen
by :func:`sinks.current.choose` (docs/sinks.md "Which figure is shown"). Every
update is a read-modify-write under a lock (the sink and ``panebus alias --ingest`` both write),
and each file is replaced atomically, so a reader never sees a half-written line.

Several hosts: on a central host (``[bus] listen``, docs/guide.md "Several machines") frames of
other hosts (their ``producer`` starts with another host's name) are kept apart, under
``state["hosts"][HOST]["providers"]``, and the alias files then show one set of lines per host,
each starting with the host's name. Everywhere else, and while only this host has figures,
nothing changes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import typing as t
from pathlib import Path

from bus.clock import now_rfc3339, utcnow
from bus.codec import dumps, loads
from sinks import alias_render, current
from sinks.base import Emit, is_replay
from sinks.files import atomic_write, fsync_dir, locked

if t.TYPE_CHECKING:
    import datetime as dt

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


def host_of(body: Body, local_host: str | None) -> str | None:
    """The other host a frame came from (None: this host's, or no host split)."""
    if local_host is None:
        return None
    producer = str(body.get("producer", ""))
    if producer.count(":") < 2:  # not host:pid:name (``alias --ingest``): this host's
        return None
    host = producer.split(":", 1)[0]
    return None if host == local_host else host


def host_state(state: dict[str, t.Any], host: str | None) -> dict[str, t.Any]:
    """The part of ``state`` holding ``host``'s providers (this host's: ``state`` itself)."""
    if host is None:
        return state
    hosted: dict[str, t.Any] = state.setdefault("hosts", {}).setdefault(host, {"providers": {}})
    return hosted


def apply_hosted(state: dict[str, t.Any], body: Body, local_host: str | None) -> bool:
    """:func:`apply_frame` into the frame's host's part of ``state``."""
    return apply_frame(host_state(state, host_of(body, local_host)), body)


def select(state: dict[str, t.Any], now: dt.datetime) -> None:
    """Recompute the shown figure of every limit (``figures``) from the candidates."""
    for hosted in state.get("hosts", {}).values():
        select(hosted, now)
    for entry in state["providers"].values():
        figures = {}
        for key, slots in entry.get("candidates", {}).items():
            chosen = current.choose(slots.values(), now)
            if chosen is not None:
                figures[key] = chosen
        entry["figures"] = figures


def write_files(alias_dir: Path, state: dict[str, t.Any], now: dt.datetime) -> int:
    """The alias files, then ``state.json``, each replaced atomically; returns how many.

    The alias files go first: they are what a shell reads, and each replacement costs an
    fsync of the file and of the dir (milliseconds on a loaded disk), so ``occ`` shows a new
    figure before ``state.json`` and the other files are synced. A file whose bytes would not
    change is not rewritten: the periodic re-render of a quiet cache writes nothing, and a
    Codex figure leaves ``acm`` alone. ``updated_at`` is when the state last changed. A crash
    between an alias file and ``state.json`` leaves an alias line ahead of the state; the
    frame was not yet handled (the sink remembers a frame once ``update`` returns), so it is
    folded in again when the bus hands it back.
    """
    written = 0
    for alias, lines in all_host_lines(state, now).items():
        text = "".join(line.encode() + "\n" for line in lines)
        written += _replace_changed(alias_dir / alias, text.encode("utf-8"))
    if _read(alias_dir / STATE_FILE) != dumps(state):
        state["updated_at"] = now_rfc3339()
        atomic_write(alias_dir / STATE_FILE, dumps(state))
        written += 1
    return written


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _replace_changed(path: Path, data: bytes) -> bool:
    """Replace the alias file ``path`` with ``data`` unless it holds exactly that already."""
    if _read(path) == data:
        return False
    replace_then_sync(path, data)
    return True


def replace_then_sync(path: Path, data: bytes) -> None:
    """Replace ``path`` by a rename first, fsync after: the new line shows at once.

    :func:`sinks.files.atomic_write` fsyncs before the rename, and on a busy disk that fsync is
    most of the time between a parsed frame and ``occ`` showing it. A reader still sees the old
    file or the new one, never half of one (the rename), and once this returns the file is as
    durable as ``atomic_write`` makes it. Only a power loss between the rename and the fsync can
    leave an alias file empty, and alias files are derived: the sink renders them from
    ``state.json`` (written with ``atomic_write``) when it starts, rewriting any that differ.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with open(fd, "wb") as handle:  # noqa: PTH123 - the fd mkstemp made (mode 0600)
        try:
            handle.write(data)
            handle.flush()
            Path(tmp_name).replace(path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                Path(tmp_name).unlink()
            raise
        os.fsync(handle.fileno())
    fsync_dir(path.parent)


def all_host_lines(
    state: dict[str, t.Any], now: dt.datetime, only: str | None = None
) -> dict[str, list[alias_render.Line]]:
    """The alias lines: this host's alone, or each host's labelled with its name when
    there are several (``only``: that host's, unlabelled; ``local`` names this host)."""
    hosts: dict[str, t.Any] = state.get("hosts") or {}
    if only is not None:
        providers = hosts.get(only, state)["providers"]
        return alias_render.alias_lines(providers, now)
    local = alias_render.alias_lines(state["providers"], now)
    if not hosts:
        return local
    local_name = str(state.get("host") or "local")
    out: dict[str, list[alias_render.Line]] = {}
    sections = [(local_name, local)] if state["providers"] else []
    sections += [(name, alias_render.alias_lines(hosts[name]["providers"], now))
                 for name in sorted(hosts)]
    for name, lines in sections:
        for alias, alias_lines in lines.items():
            # With several hosts, "no data yet" of a provider a host does not run is noise:
            # a host's lines are its figures, or one "no data yet".
            known = [line for line in alias_lines if line.observed] or [
                alias_render.Line(0, 0, "no data yet")]
            out.setdefault(alias, []).extend(alias_render.labelled(line, name) for line in known)
    return out


def update(
    alias_dir: Path,
    bodies: t.Iterable[Body] = (),
    force: bool = False,
    local_host: str | None = None,
) -> bool:
    """Fold ``bodies`` into the cache on disk under the lock; rewrite files when anything moved.

    ``local_host``: this host's name on a central host, where other hosts' frames are kept
    apart (None: no split).
    """
    alias_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with locked(alias_dir / LOCK_FILE):
        state = load_state(alias_dir)
        changed = force
        if local_host is not None and state.get("host") != local_host:
            state["host"] = local_host
        for body in bodies:
            changed = apply_hosted(state, body, local_host) or changed
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


def central_host(paths: Paths) -> str | None:
    """This host's name when it is a central host (``[bus] listen``), else None."""
    from bus.endpoints import EndpointError  # noqa: PLC0415
    from bus.federation_config import FederationConfig  # noqa: PLC0415
    from bus.keys import this_host  # noqa: PLC0415

    try:
        config = FederationConfig.load(paths, os.environ)
    except EndpointError:
        return None
    return this_host() if config.listen else None


class AliasSink:
    """Parsed frames in, ``state.json`` and the alias files out."""

    name = "alias"
    prefixes: tuple[str, ...] = ("parsed.", "forecast.")

    def __init__(self, alias_dir: Path, local_host: str | None = None) -> None:
        self.alias_dir = alias_dir
        self.local_host = local_host  # set on a central host: other hosts kept apart
        self.updates = 0
        self._next_render = time.monotonic()

    @classmethod
    def build(cls, paths: Paths, config: SinksConfig) -> AliasSink:
        """Factory for the sink registry."""
        return cls(config.alias_dir, central_host(paths))

    def handle(self, topic: str, body: Body, emit: Emit) -> None:
        """Fold one parsed or forecast frame in (replays are history: skipped)."""
        del topic, emit
        if body.get("kind") not in ("parsed", "forecast") or is_replay(body):
            return
        if update(self.alias_dir, [body], local_host=self.local_host):
            self.updates += 1

    def tick(self, emit: Emit) -> None:
        """Re-select every :data:`RERENDER_INTERVAL` s: a figure may have turned stale."""
        del emit
        if time.monotonic() >= self._next_render:
            self._next_render = time.monotonic() + RERENDER_INTERVAL
            update(self.alias_dir, force=(self.alias_dir / STATE_FILE).exists(),
                   local_host=self.local_host)

    def health(self) -> dict[str, t.Any]:
        """Where the files are and how many updates this run made."""
        return {"dir": str(self.alias_dir), "updates": self.updates}

    def drain(self, emit: Emit) -> None:
        """Nothing pending: every frame is on disk when ``handle`` returns."""
        del emit

    def close(self) -> None:
        """Nothing buffered: every update is on disk when ``handle`` returns."""
