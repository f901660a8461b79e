"""Exact Codex limits from its session logs (``$CODEX_HOME/sessions/**/rollout-*.jsonl``).

Codex appends one JSON object per line. The figures we want are in ``event_msg`` lines whose
payload is a ``token_count``: ``rate_limits.primary`` / ``secondary`` carry the server's own
``used_percent``, ``window_minutes`` and a reset (``resets_in_seconds`` before 0.48,
``resets_at`` after). These are the numbers ``/status`` draws, read without a screen, so they
are ``official``. Every historical shape is read (see the fixtures README): the flat 0.40
object, ``rate_limits: null`` (API-key users), a ``limit_id`` naming another limit family (kept
under its own scope, never as the account's main limits), credits, and the enterprise
``individual_limit``.

Pure: lines in, :class:`~scraper.parsers.model.Usage` out; no file, no clock. The tailer
(:mod:`scraper.sources.rollout_tailer`) feeds a :class:`RolloutState` line by line.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import typing as t

from bus.clock import to_rfc3339
from bus.codec import loads
from scraper.parsers.model import Limit, Usage
from scraper.sources.values import flat, moment, number, percent, rfc3339, shifted, text

if t.TYPE_CHECKING:
    import datetime as dt

    from scraper.parsers.model import Window

logger = logging.getLogger(__name__)

PROVIDER = "codex"
SCREEN = "codex.rollout"
#: ``limit_id`` values of the account's main limits; anything else is another family.
MAIN_LIMIT_IDS = (None, "codex")
USAGE_LIMIT_EXCEEDED = "usage_limit_exceeded"
#: Longer lines are skipped unread (and counted). Token counts, session and turn lines are a
#: few KB; only tool outputs come near this, and those carry no figures.
MAX_LINE_BYTES = 4 << 20

#: (window, nominal minutes, tolerance). Servers send 299 / 10079 as well as 300 / 10080.
_WINDOWS: tuple[tuple[Window, int, int], ...] = (
    ("5h", 300, 5),
    ("daily", 1440, 5),
    ("weekly", 10080, 60),
    ("monthly", 43200, 2880),
)


def window_for_minutes(minutes: object) -> Window:
    """Name a window from its length in minutes, tolerant of off-by-one lengths."""
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
        return "other"
    for name, nominal, tolerance in _WINDOWS:
        if abs(minutes - nominal) <= tolerance:
            return name
    return "other"


def _scope_of(rate_limits: t.Mapping[str, t.Any]) -> str | None:
    """``None`` for the main family, else the family's name lower-cased without "limit"."""
    limit_id = rate_limits.get("limit_id")
    if limit_id in MAIN_LIMIT_IDS:
        return None
    name = text(rate_limits.get("limit_name")) or text(limit_id)
    if name is None:
        # Not a name we can read; a number is kept as its text, anything else as "other".
        return str(limit_id) if number(limit_id) is not None else "other"
    label = name.strip().lower()
    if label.endswith(" limit"):
        label = label[: -len(" limit")].rstrip()
    return label or name


def _window_limit(
    window: object, base: dt.datetime | None, scope: str | None
) -> Limit | None:
    """One ``primary``/``secondary`` object (0.41+) as a :class:`Limit`."""
    if not isinstance(window, t.Mapping):
        return None
    used = percent(window.get("used_percent"))
    if used is None:
        return None
    resets_at = moment(window.get("resets_at"))
    if resets_at is None:
        # An absurd offset or a base out of range: unknown rather than wrong.
        resets_at = shifted(base, window.get("resets_in_seconds"))
    return Limit(
        window=window_for_minutes(window.get("window_minutes")),
        used_pct=used,
        scope=scope,
        resets_at=resets_at,
    )


def _flat_limits(rate_limits: t.Mapping[str, t.Any], scope: str | None) -> list[Limit]:
    """The 0.40 shape: ``primary_used_percent`` & co., no reset information."""
    limits: list[Limit] = []
    for key in ("primary", "secondary"):
        used = percent(rate_limits.get(f"{key}_used_percent"))
        if used is None:
            continue
        window = window_for_minutes(rate_limits.get(f"{key}_window_minutes"))
        limits.append(Limit(window=window, used_pct=used, scope=scope))
    return limits


def _individual_limit(value: object) -> Limit | None:
    """Enterprise spend control: a credit budget with a remaining percentage.

    Codex draws it as "Monthly credit limit"; such rows are window ``monthly``, scope
    ``credits`` (docs/sources.md, docs/parsers.md).
    """
    if not isinstance(value, t.Mapping):
        return None
    remaining = percent(value.get("remaining_percent"))
    if remaining is None:
        return None
    return Limit(
        window="monthly",
        used_pct=100.0 - remaining,
        scope="credits",
        resets_at=moment(value.get("resets_at")),
        used=number(value.get("used")),
        limit=number(value.get("limit")),
    )


@dataclasses.dataclass
class RateLimitSnapshot:
    """What one ``token_count`` line says about one limit family."""

    scope: str | None
    limits: list[Limit]
    observed_at: dt.datetime | None
    credits: dict[str, t.Any] | None = None
    plan_type: str | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)
    raw: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    @property
    def is_main(self) -> bool:
        """The account's main limits (``limit_id`` null or ``codex``)."""
        return self.scope is None


def snapshot_from_rate_limits(
    rate_limits: object, base: dt.datetime | None
) -> RateLimitSnapshot | None:
    """Read a ``rate_limits`` object; ``None`` when it is absent or holds no limit at all."""
    if not isinstance(rate_limits, t.Mapping):
        return None
    scope = _scope_of(rate_limits)
    limits = [
        limit
        for limit in (
            _window_limit(rate_limits.get("primary"), base, scope),
            _window_limit(rate_limits.get("secondary"), base, scope),
        )
        if limit is not None
    ]
    limits += _flat_limits(rate_limits, scope)
    if scope is None:
        individual = _individual_limit(rate_limits.get("individual_limit"))
        if individual is not None:
            limits.append(individual)
    if not limits:
        return None
    plan_type = rate_limits.get("plan_type")
    warnings: list[str] = []
    if rate_limits.get("spend_control_reached") is True:
        warnings.append("spend control reached")
    reached = rate_limits.get("rate_limit_reached_type")
    if isinstance(reached, str) and reached:
        warnings.append(f"rate limit reached ({reached})")
    return RateLimitSnapshot(
        scope=scope,
        limits=limits,
        observed_at=base,
        credits=flat(rate_limits.get("credits")),
        plan_type=plan_type if isinstance(plan_type, str) else None,
        warnings=warnings,
        raw=dict(rate_limits),
    )


def _line_time(obj: t.Mapping[str, t.Any], fallback: dt.datetime | None) -> dt.datetime | None:
    """The line's own time; ``fallback`` when it has none, unknown when it is unreadable
    (a reset counted from a time the line does not state would be a guess)."""
    if "timestamp" not in obj:
        return fallback
    return rfc3339(obj["timestamp"])


def _payload(obj: t.Mapping[str, t.Any]) -> t.Mapping[str, t.Any] | None:
    payload = obj.get("payload", obj)
    return payload if isinstance(payload, t.Mapping) else None


def _token_count_payload(obj: t.Mapping[str, t.Any]) -> t.Mapping[str, t.Any] | None:
    payload = _payload(obj)
    if payload is None or payload.get("type") != "token_count":
        return None
    if "payload" in obj and obj.get("type") not in (None, "event_msg"):
        return None
    return payload


def _usage_limit_error(payload: t.Mapping[str, t.Any]) -> str | None:
    """The "usage limit exceeded" error of a ``task_complete`` or ``error`` event, if any."""
    for holder in (payload, payload.get("error")):
        if isinstance(holder, t.Mapping) and holder.get("codex_error_info") == USAGE_LIMIT_EXCEEDED:
            message = holder.get("message")
            return str(message) if isinstance(message, str) and message else "usage limit exceeded"
    return None


class RolloutState:
    """The figures of one rollout file so far; feed it lines in file order.

    Keeps the last main-limit snapshot and, separately, the last snapshot of each other limit
    family, so a line carrying only ``codex_bengalfox`` figures neither becomes the main limits
    nor hides the earlier main ones.
    """

    def __init__(self) -> None:
        self.main: RateLimitSnapshot | None = None
        self.families: dict[str, RateLimitSnapshot] = {}
        self.model: str | None = None
        self.version: str | None = None
        self.session_id: str | None = None
        self.cwd: str | None = None
        self.tokens: dict[str, t.Any] | None = None
        self.context_window: float | None = None
        self.error: str | None = None
        self.token_counts = 0
        self.last_token_count_at: dt.datetime | None = None
        self.bad_lines = 0
        self.skip_reasons: collections.Counter[str] = collections.Counter()

    def read_line(
        self,
        line: str | bytes,
        observed_at: dt.datetime | None = None,
        *,
        path: str = "-",
        line_number: int | None = None,
    ) -> bool:
        """Feed one line; a line that cannot be read is skipped, counted and logged.

        Whether the line was read. This is the guard every reader of rollout lines goes
        through: whatever one line holds, the lines after it are still read.
        """
        if len(line) > MAX_LINE_BYTES:
            self.skip("line too long", f"{len(line)} bytes", path=path, line_number=line_number)
            return False
        try:
            self.feed_line(line, observed_at)
        except Exception as exc:  # one bad line must not cost the others
            self.skip(type(exc).__name__, str(exc)[:200], path=path, line_number=line_number)
            return False
        return True

    def skip(self, reason: str, detail: str, *, path: str, line_number: int | None) -> None:
        """Count one skipped line; the first of each reason is a warning, the rest debug."""
        self.bad_lines += 1
        self.skip_reasons[reason] += 1
        level = logging.WARNING if self.skip_reasons[reason] == 1 else logging.DEBUG
        logger.log(
            level,
            "skipping rollout line: %s",
            detail,
            extra={"path": path, "line": line_number, "reason": reason},
        )

    def feed_line(self, line: str | bytes, observed_at: dt.datetime | None = None) -> None:
        """Feed one JSONL line; raises ``ValueError`` when it is not a JSON object."""
        obj = loads(line)
        if not isinstance(obj, dict):
            msg = f"rollout line is {type(obj).__name__}, not an object"
            raise ValueError(msg)
        self.feed(obj, observed_at)

    def feed(self, obj: t.Mapping[str, t.Any], observed_at: dt.datetime | None = None) -> None:
        """Feed one decoded line (unknown line types are ignored)."""
        kind = obj.get("type")
        payload = _payload(obj)
        if payload is None:
            return
        if kind == "session_meta":
            self._read_meta(payload)
            return
        if kind == "turn_context":
            model = payload.get("model")
            if isinstance(model, str) and model:
                self.model = model
            return
        if _token_count_payload(obj) is not None:
            self._read_token_count(obj, payload, _line_time(obj, observed_at))
            return
        error = _usage_limit_error(payload)
        if error is not None:
            self.error = error

    def _read_meta(self, payload: t.Mapping[str, t.Any]) -> None:
        version = payload.get("cli_version")
        if isinstance(version, str) and version:
            self.version = version
        session_id = payload.get("id")
        if isinstance(session_id, str):
            self.session_id = session_id
        cwd = payload.get("cwd")
        if isinstance(cwd, str):
            self.cwd = cwd

    def _read_token_count(
        self, obj: t.Mapping[str, t.Any], payload: t.Mapping[str, t.Any], at: dt.datetime | None
    ) -> None:
        self.token_counts += 1
        self.last_token_count_at = at
        info = payload.get("info")
        if isinstance(info, t.Mapping):
            total = info.get("total_token_usage")
            if isinstance(total, t.Mapping):
                self.tokens = flat(total)
            self.context_window = number(info.get("model_context_window"))
        snapshot = snapshot_from_rate_limits(payload.get("rate_limits"), at)
        if snapshot is None:
            return
        previous = self.main if snapshot.is_main else self.families.get(str(snapshot.scope))
        if previous is not None and previous.raw == snapshot.raw:
            # Codex re-logs its stored snapshot on every token_count: same figures, and a
            # relative reset counts from when the snapshot first appeared, not from now.
            previous.observed_at = at
            return
        if snapshot.is_main:
            self.main = snapshot
            self.error = None  # a newer figure supersedes an earlier limit-hit error
        else:
            self.families[str(snapshot.scope)] = snapshot

    def usage(self) -> Usage | None:
        """The current figures, or ``None`` before the first ``token_count`` or session line."""
        if self.token_counts == 0 and self.version is None and self.session_id is None:
            return None
        limits: list[Limit] = []
        warnings: list[str] = []
        extra: dict[str, t.Any] = {}
        if self.main is not None:
            limits += self.main.limits
            warnings += self.main.warnings
            extra["credits"] = self.main.credits
            extra["plan_type"] = self.main.plan_type
        for scope in sorted(self.families):
            limits += self.families[scope].limits
        if self.error is not None:
            warnings.append(self.error)
        observed = self.main.observed_at if self.main is not None else self.last_token_count_at
        if observed is not None:
            extra["observed_at"] = to_rfc3339(observed)
        extra["session_id"] = self.session_id
        extra["cwd"] = self.cwd
        extra["tokens"] = self.tokens
        extra["context_window"] = self.context_window
        return Usage(
            provider=PROVIDER,
            screen=SCREEN,
            version=self.version,
            model=self.model,
            limits=limits,
            warnings=warnings,
            extra=extra,
        )


def usage_from_token_count(
    obj: t.Mapping[str, t.Any], observed_at: dt.datetime | None = None
) -> Usage | None:
    """The figures of ONE ``token_count`` line (the whole line or just its payload).

    ``resets_in_seconds`` counts from the line's own ``timestamp``; ``observed_at`` stands in
    when the line has none. ``None`` when ``obj`` is not a ``token_count`` event.
    """
    if _token_count_payload(obj) is None:
        return None
    state = RolloutState()
    state.feed(obj if "payload" in obj else {"type": "event_msg", "payload": obj}, observed_at)
    return state.usage()


def usage_from_rollout_lines(
    lines: t.Iterable[str | bytes], observed_at: dt.datetime | None = None, *, path: str = "-"
) -> Usage | None:
    """The figures of a whole rollout file: the last ``token_count`` with main limits wins.

    Blank lines are skipped; broken ones are skipped, counted and logged (with ``path``, the
    line number and why). ``None`` when nothing was recognised.
    """
    return read_rollout_lines(lines, observed_at, path=path).usage()


def read_rollout_lines(
    lines: t.Iterable[str | bytes], observed_at: dt.datetime | None = None, *, path: str = "-"
) -> RolloutState:
    """Feed every line of a rollout file to a new :class:`RolloutState` (its counts included)."""
    state = RolloutState()
    for line_number, line in enumerate(lines, start=1):
        if line.strip():
            state.read_line(line, observed_at, path=path, line_number=line_number)
    return state


def figures_key(usage: Usage) -> tuple[t.Any, ...]:
    """What counts as "the figures changed" for publishing: limits, warnings, model, credits.

    Token totals and the observation time move on every turn and are left out, so a turn that
    does not move a limit publishes nothing.
    """
    return (
        tuple(tuple(sorted(limit.to_dict().items())) for limit in usage.limits),
        tuple(usage.warnings),
        usage.model,
        usage.version,
        repr(usage.extra.get("credits")),
        usage.extra.get("plan_type"),
    )
