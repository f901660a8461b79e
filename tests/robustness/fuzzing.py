"""Mutations of the real fixture files and one checker per reader, shared by the fuzz tests
(bounded) and ``tests/bench/bench_fuzz.py`` (larger runs with per-reader counts).

A checker feeds one input to the real reader and says what happened:

- ``ok``: read, and every figure passes the "wrong value" check;
- ``rejected``: refused with the reader's own error (``FrameError``, ``ConfigError``, …);
- ``crash``: any other exception;
- ``wrong``: read, but a figure is not one the input holds (a percentage outside 0..100 or not
  written in the input, a count or cost not in the input, a time outside the calendar) or the
  result cannot be published (a body the bus refuses or orjson cannot write).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
import re
import tempfile
import typing as t
from pathlib import Path

import orjson

from bus import codec
from bus.clock import UTC
from bus.frames import FrameError, validate
from scraper.sources.values import EARLIEST, LATEST
from tests import FIXTURES

if t.TYPE_CHECKING:
    from scraper.parsers.model import Usage

Outcome = t.Literal["ok", "rejected", "crash", "wrong"]
OBSERVED = dt.datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TEN_MB = 10 << 20

ROLLOUTS = sorted((FIXTURES / "codex" / "rollout").rglob("*.jsonl"))
REPORTS = sorted((FIXTURES / "reports").glob("*.json"))
SCREENS = sorted(
    path for path in (FIXTURES / "screens").rglob("*.txt") if "identification" not in path.name
)
STATUSLINE = {
    "hook_event_name": "Status",
    "session_id": "5b3a9c1e-0d2f-4e8a-9c71-2f6b8d0e4a13",
    "cwd": "/home/u/src/app",
    "model": {"id": "claude-opus-4-5-20251101", "display_name": "Opus 4.5"},
    "workspace": {"current_dir": "/home/u/src/app/api", "project_dir": "/home/u/src/app"},
    "version": "2.1.197",
    "cost": {"total_cost_usd": 1.2345, "total_duration_ms": 45000},
    "context_window": {"context_window_size": 200000, "remaining_percentage": 62.5},
    "rate_limits": {
        "five_hour": {"used_percentage": 23.0, "resets_at": 1795701600},
        "seven_day": {"used_percentage": 41.5, "resets_at": 1796040000},
        "seven_day_opus": {"used_percentage": 12, "resets_at": "2026-11-30T12:00:00Z"},
    },
}
CONFIG = """\
[[servers]]
socket_name = "work"
[[targets]]
pane = "%3"
provider = "codex"
[scraper]
history_lines = 50
escapes = true
sweep_interval = 5.0
stale_after = 120.0
[scraper.interval]
codex = 10.0
claude-monitor = 5.5
[scraper.output]
debounce = 0.2
max_wait = 1.5
min_interval = 0.5
[scraper.file]
debounce = 0.5
paths = [{ provider = "claude", path = "/srv/claude-logs" }]
[[redact]]
kind = "internal-token"
pattern = "itk_[A-Za-z0-9]{20}"
[sinks]
health_interval = 5.0
[sinks.archive]
fsync = "interval"
fsync_interval = 1.0
max_age_days = 90
[sinks.alias]
dir = "/tmp/alias"
"""

# -- mutations -------------------------------------------------------------------------------

#: Values that have broken readers before, or could: edges of types, numbers and the calendar.
ODD_VALUES: tuple[t.Any, ...] = (
    None, True, False, 0, -1, 101, 100.0000001, 1e308, -1e308, 2**63, 2**64 + 1, 10**30,
    "", "nan", "inf", "-inf", "1e999", "NaN", "x" * 300, "\u0000", "\ud7ff\ue000",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0000-00-00", "2026-02-30",
    253402300799, -62135596800, 1e20, -1e20, [], {}, [1, 2], {"a": None},
)
EDGE_DATES = (
    b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-01:00", b"0001-01-01", b"9999-12-31",
    b"2026-02-30T25:61:61Z", b"1970-01-01T00:00:00Z",
)
HUGE_NUMBERS = (
    b"1e999", b"-1e999", b"99999999999999999999999999999999", b"1e308", b"-0",
    b"1.7976931348623157e308", b"4.9e-324", b"18446744073709551616", b"-9223372036854775809",
    b"1" * 5000,
)
_LIMIT_HIT = re.compile(r"hit your .*limit|limit reached|usage limit", re.IGNORECASE)
_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_DATE = re.compile(rb"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?)?")


def deep(levels: int) -> t.Any:
    """A value nested ``levels`` lists deep."""
    value: t.Any = 1
    for _ in range(levels):
        value = [value]
    return value


def _replace_match(
    data: bytes, pattern: re.Pattern[bytes], new: bytes, rng: random.Random
) -> bytes:
    matches = list(pattern.finditer(data))
    if not matches:
        return data + new
    match = rng.choice(matches)
    return data[: match.start()] + new + data[match.end() :]


def mutate_bytes(data: bytes, rng: random.Random, *, huge_lines: bool = False) -> tuple[str, bytes]:
    """One byte-level mutation of ``data``: (its name, the result)."""
    choices = ["truncate", "bit_flip", "bit_flips", "delete_span", "duplicate_span",
               "insert_newline", "huge_number", "edge_date", "insert_bytes"]
    if huge_lines:
        choices.append("ten_mb_line")
    name = rng.choice(choices)
    size = max(1, len(data))
    if name == "truncate":
        return name, data[: rng.randrange(size)]
    if name in ("bit_flip", "bit_flips"):
        out = bytearray(data or b"\0")
        for _ in range(1 if name == "bit_flip" else rng.randint(2, 32)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return name, bytes(out)
    start = rng.randrange(size)
    end = min(size, start + rng.randint(1, 64))
    if name == "delete_span":
        return name, data[:start] + data[end:]
    if name == "duplicate_span":
        return name, data[:end] + data[start:end] + data[end:]
    if name == "insert_newline":
        return name, data[:start] + b"\n" + data[start:]
    if name == "huge_number":
        return name, _replace_match(data, _NUMBER, rng.choice(HUGE_NUMBERS), rng)
    if name == "edge_date":
        return name, _replace_match(data, _DATE, rng.choice(EDGE_DATES), rng)
    if name == "insert_bytes":
        return name, data[:start] + rng.randbytes(rng.randint(1, 16)) + data[start:]
    return name, data[:start] + b"x" * TEN_MB + data[start:]


def _paths(value: t.Any, prefix: tuple[t.Any, ...] = ()) -> list[tuple[t.Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def mutate_value(value: t.Any, rng: random.Random) -> tuple[str, t.Any]:
    """One structural mutation of a decoded JSON value (a copy): wrong type, odd value,
    deleted key, deep nesting."""
    copy = orjson.loads(orjson.dumps(value))
    paths = [path for path in _paths(copy) if path]
    if not paths:
        return "replace_root", rng.choice(ODD_VALUES)
    path = rng.choice(paths)
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    name = rng.choice(["odd_value", "odd_value", "wrong_type", "delete", "deep_nesting"])
    if name == "delete":
        del parent[last]
    elif name == "deep_nesting":
        parent[last] = deep(rng.choice((40, 300, 1000, 5000)))
    elif name == "wrong_type":
        current = parent[last]
        parent[last] = [current] if not isinstance(current, list) else {"v": current}
    else:
        parent[last] = rng.choice(ODD_VALUES)
    return name, copy


def dumps_loose(value: t.Any) -> bytes:
    """JSON text of ``value``, deep nesting included (orjson refuses to write past 254)."""
    import json
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20_000))
    try:
        return json.dumps(value).encode()
    finally:
        sys.setrecursionlimit(limit)


# -- the "wrong value" check -------------------------------------------------------------------


def numbers_in(data: bytes | str) -> set[float]:
    """Every number written in ``data`` (rounded), the ones a figure may come from."""
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    found: set[float] = set()
    for match in _NUMBER.finditer(raw):
        try:
            value = float(match.group().replace(b",", b""))
        except (ValueError, OverflowError):
            continue
        if math.isfinite(value):
            found.add(round(value, 6))
    return found


def wrong_limits(usage: Usage, numbers: set[float], most: float = 100.0) -> str | None:
    """Why a limit of ``usage`` is not a figure of the input, or None.

    Sources hold percentages to 0..100; a screen may show more (claude-monitor draws 107 %
    when the tokens of a window passed its limit), so screens pass ``most=inf``.
    """
    for limit in usage.limits:
        used = limit.used_pct
        if used is not None:
            if not (isinstance(used, float) and 0.0 <= used <= most):
                return f"used_pct {used!r} outside 0..{most}"
            left = round(100.0 - used, 6)
            ratio_ok = (
                limit.used is not None and limit.limit
                and abs(limit.used / limit.limit * 100 - used) < 0.01
            )
            if round(used, 6) not in numbers and left not in numbers and not ratio_ok:
                return f"used_pct {used!r} is not in the input"
        if limit.resets_at is not None and not EARLIEST <= limit.resets_at <= LATEST:
            return f"resets_at {limit.resets_at!r} outside the calendar"
    return None


def unpublishable(body: dict[str, t.Any]) -> str | None:
    """Why a source's frame body would not reach the bus, or None."""
    stamped = dict(body, v=1, id="f" * 32, seq=0, producer="fuzz:1:x")
    stamped.setdefault("observed_at", "2026-11-26T10:00:00.000Z")
    try:
        validate(stamped)
        orjson.dumps(stamped)
    except (FrameError, TypeError) as exc:
        return f"body not publishable: {exc}"
    return None


# -- checkers, one per reader --------------------------------------------------------------------


def check_rollout(data: bytes) -> tuple[Outcome, str]:
    """A whole rollout file, read line by line as ``panebus parse`` does, then chunk by chunk
    as the tailer does: the two must agree (no chunk boundary loses a line)."""
    from scraper.sources.publish import parsed_body
    from scraper.sources.rollout import figures_key, read_rollout_lines
    from scraper.sources.rollout_tailer import RolloutTailer, _Tracked

    try:
        state = read_rollout_lines(data.split(b"\n"))
        usage = state.usage()
        tailer = RolloutTailer(lambda *_: None, roots=[])
        tracked = _Tracked(ident=(0, 0))
        step = max(1, len(data) // 3 + 1)
        for start in range(0, len(data), step):
            tailer._feed_chunk(Path("fuzz.jsonl"), tracked, data[start : start + step])
        tracked_usage = tracked.state.usage() if data.endswith(b"\n") else None
        body = parsed_body(usage, "log", "official") if usage is not None else None
    except Exception as exc:  # the point: anything but a clean result is a crash
        return "crash", f"{type(exc).__name__}: {exc}"[:300]
    if tracked_usage is not None and usage is not None and (
        figures_key(tracked_usage) != figures_key(usage)
    ):
        return "wrong", "tailer and whole-file reads disagree"
    if usage is None:
        return "rejected", "nothing recognised"
    why = wrong_limits(usage, numbers_in(data)) or (unpublishable(body) if body else None)
    return ("wrong", why) if why else ("ok", "")


def check_statusline(data: bytes) -> tuple[Outcome, str]:
    """The hook's own path: stdin bytes → status line and frame body."""
    from panebus.cli.hook import _read_statusline
    from scraper.sources.statusline import usage_from_statusline

    try:
        line, body = _read_statusline(data)
        try:
            obj = orjson.loads(data)
        except orjson.JSONDecodeError:
            obj = None
        usage = usage_from_statusline(obj, OBSERVED) if isinstance(obj, dict) else None
    except Exception as exc:
        return "crash", f"{type(exc).__name__}: {exc}"[:300]
    if not isinstance(line, str) or "\n" in line:
        return "wrong", f"status line {line!r}"
    if body is None and usage is None:
        return "rejected", "not a statusLine object"
    numbers = numbers_in(data)
    why = (wrong_limits(usage, numbers) if usage is not None else None) or (
        unpublishable(body) if body is not None else None
    )
    return ("wrong", why) if why else ("ok", "")


def check_ccusage(data: bytes) -> tuple[Outcome, str]:
    """A ccusage JSON report, as ``panebus ingest ccusage`` reads it."""
    from scraper.sources.ccusage import ReportError, usages_from_report
    from scraper.sources.publish import parsed_body

    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return "rejected", "not JSON"
    try:
        usages = usages_from_report(obj)
        bodies = [parsed_body(usage, "report", "estimate") for usage in usages]
    except ReportError:
        return "rejected", "not a report"
    except Exception as exc:
        return "crash", f"{type(exc).__name__}: {exc}"[:300]
    numbers = numbers_in(data)
    for usage, body in zip(usages, bodies, strict=True):
        for period in usage.extra["periods"]:
            for key, value in period.items():
                if (key.endswith("_tokens") or key == "cost_usd") and value is not None:
                    original = value
                    if key == "input_tokens" and period.get("cache_read_tokens") is not None:
                        original = None  # may be input minus cached input (documented split)
                    if original is not None and round(float(original), 6) not in numbers:
                        return "wrong", f"{key} {value!r} is not in the input"
        why = unpublishable(body)
        if why:
            return "wrong", why
    return "ok", ""


def check_config(data: bytes, home: Path) -> tuple[Outcome, str]:
    """A config file read by the scraper and the sinks (what ``up`` does first)."""
    from bus.paths import Paths
    from scraper.config import ConfigError, load_config_file
    from sinks.config import SinkConfigError, SinksConfig

    path = home / "config.toml"
    path.write_bytes(data)
    paths = Paths.from_env({"PANEBUS_HOME": str(home)})
    try:
        config = load_config_file(path)
        sinks = SinksConfig.load(paths, path)
    except (ConfigError, SinkConfigError) as exc:
        if "\n" in str(exc):
            return "wrong", f"error is not one line: {exc!r}"[:300]
        return "rejected", str(exc)[:200]
    except Exception as exc:
        return "crash", f"{type(exc).__name__}: {exc}"[:300]
    numbers = [
        *config.intervals.values(), config.sweep_interval, config.output_debounce,
        config.output_max_wait, config.file_debounce, config.stale_after, config.capture_timeout,
        sinks.health_interval,
    ]
    if not all(math.isfinite(value) and value > 0 for value in numbers):
        return "wrong", f"a setting that must be positive is not: {numbers}"
    if not all(
        math.isfinite(value) and value >= 0
        for value in (config.output_min_interval, sinks.archive.fsync_interval)
    ):
        return "wrong", "a setting that must be >= 0 is not"
    return "ok", ""


def check_frame(topic: bytes, data: bytes) -> tuple[Outcome, str]:
    """One message on the bus, as the broker and every subscriber decode it."""
    try:
        _topic, body = codec.decode_message(topic, data)
    except FrameError:
        return "rejected", "refused"
    except Exception as exc:
        return "crash", f"{type(exc).__name__}: {exc}"[:300]
    try:
        if body != orjson.loads(data):
            return "wrong", "decoded body differs from the JSON sent"
        orjson.dumps(body)  # every sink writes it again
    except Exception as exc:
        return "wrong", f"accepted but cannot be written again: {exc}"[:300]
    return "ok", ""


def check_screen(text: str) -> tuple[Outcome, str]:
    """One pane screen through the parser registry (as the scraper parses every capture)."""
    from scraper.parsers.registry import parse_screen

    try:
        usage = parse_screen(text, OBSERVED, UTC)
    except Exception as exc:
        return "crash", f"{type(exc).__name__}: {exc}"[:300]
    if usage is None:
        return "rejected", "no agent screen"
    numbers = numbers_in(text)
    if _LIMIT_HIT.search(text):
        numbers.add(100.0)  # "You've hit your session limit": the banner means 100 % used
    why = wrong_limits(usage, numbers, most=math.inf)
    return ("wrong", why) if why else ("ok", "")


# -- seeds ---------------------------------------------------------------------------------------


def frame_seeds() -> list[tuple[bytes, bytes]]:
    """Real frames: each fixture screen as a raw frame and, when it parses, a parsed frame."""
    import hashlib

    from bus import topics
    from bus.frames import draft, source
    from scraper.parsers.registry import parse_screen
    from scraper.sources.publish import parsed_body

    pane = {"server": "fuzz", "session": "s", "window": "1", "pane_id": "%3", "title": "t",
            "command": "codex", "pid": 1, "width": 120, "height": 40}
    seeds = []
    for path in SCREENS[:6]:
        text = path.read_text(encoding="utf-8", errors="replace")
        raw = draft("raw", "codex", source("screen", "parsed"), pane=pane, trigger="timer",
                    text=text, sha256=hashlib.sha256(text.encode()).hexdigest())
        usage = parse_screen(text, OBSERVED, UTC)
        bodies = [raw] + ([parsed_body(usage, "screen", "parsed")] if usage else [])
        for body in bodies:
            stamped = dict(body, v=1, id="a" * 32, seq=7, producer="fuzz:1:x",
                           observed_at="2026-11-26T10:00:00.000Z")
            seeds.append((topics.for_body(stamped).encode(), orjson.dumps(stamped)))
    return seeds


@dataclasses.dataclass
class Tally:
    """Counts of one reader's run."""

    reader: str
    tried: int = 0
    ok: int = 0
    rejected: int = 0
    crashes: int = 0
    wrong: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)

    def add(self, outcome: Outcome, why: str, what: str) -> None:
        self.tried += 1
        if outcome == "ok":
            self.ok += 1
        elif outcome == "rejected":
            self.rejected += 1
        else:
            if outcome == "crash":
                self.crashes += 1
            else:
                self.wrong += 1
            if len(self.examples) < 5:
                self.examples.append(f"{outcome} after {what}: {why}")


def run_reader(reader: str, count: int, seed: int = 0, *, huge_lines: bool = True) -> Tally:
    """``count`` mutated inputs for one reader (``rollout``, ``statusline``, ``ccusage``,
    ``config``, ``frames``, ``screens``): half byte-level, half structural where the input
    is JSON."""
    rng = random.Random(f"{reader}:{seed}")
    tally = Tally(reader)
    with tempfile.TemporaryDirectory(prefix="panebus-fuzz-") as tmp:
        home = Path(tmp)
        frames = frame_seeds() if reader == "frames" else []
        for index in range(count):
            huge = huge_lines and index % 50 == 49  # 10 MB lines: a few per run, not most
            what, outcome = _one(reader, rng, home, frames, huge)
            tally.add(outcome[0], outcome[1], what)
    return tally


def _one(
    reader: str, rng: random.Random, home: Path, frames: list[tuple[bytes, bytes]], huge: bool
) -> tuple[str, tuple[Outcome, str]]:
    structural = rng.random() < 0.5
    if reader == "rollout":
        lines = rng.choice(ROLLOUTS).read_bytes().split(b"\n")
        if structural:
            index = rng.randrange(len(lines))
            try:
                name, value = mutate_value(orjson.loads(lines[index]), rng)
                lines[index] = dumps_loose(value)
            except orjson.JSONDecodeError:
                name = "none"
            return name, check_rollout(b"\n".join(lines))
        name, data = mutate_bytes(b"\n".join(lines), rng, huge_lines=huge)
        return name, check_rollout(data)
    if reader == "statusline":
        if structural:
            name, value = mutate_value(STATUSLINE, rng)
            return name, check_statusline(dumps_loose(value))
        name, data = mutate_bytes(orjson.dumps(STATUSLINE), rng, huge_lines=huge)
        return name, check_statusline(data)
    if reader == "ccusage":
        original = rng.choice(REPORTS).read_bytes()
        if structural:
            name, value = mutate_value(orjson.loads(original), rng)
            return name, check_ccusage(dumps_loose(value))
        name, data = mutate_bytes(original, rng, huge_lines=huge)
        return name, check_ccusage(data)
    if reader == "config":
        name, data = mutate_bytes(CONFIG.encode(), rng)
        if structural:
            data = _odd_config_value(rng)
            name = "odd_value"
        return name, check_config(data, home)
    if reader == "frames":
        topic, body = rng.choice(frames)
        if structural:
            name, value = mutate_value(orjson.loads(body), rng)
            return name, check_frame(topic, dumps_loose(value))
        name, data = mutate_bytes(body, rng, huge_lines=huge)
        if rng.random() < 0.1:
            name, topic = "topic", mutate_bytes(topic, rng)[1]
        return name, check_frame(topic, data)
    # No 10 MB lines here: a long line takes the screen parsers minutes (see bench_fuzz.py,
    # which times them apart); a captured screen is width x height characters.
    text = rng.choice(SCREENS).read_bytes()
    name, data = mutate_bytes(text, rng, huge_lines=False)
    return name, check_screen(data.decode("utf-8", "replace"))


_CONFIG_KEYS = (
    ("scraper", "sweep_interval"), ("scraper", "stale_after"), ("scraper", "history_lines"),
    ("scraper", "escapes"), ("scraper.interval", "codex"), ("scraper.output", "debounce"),
    ("scraper.output", "min_interval"), ("sinks", "health_interval"),
    ("sinks.archive", "max_bytes"), ("sinks.archive", "fsync_frames"), ("sinks.archive", "fsync"),
    ("scraper", "sweep_intervall"), ("sinks.archve", "root"), ("bus", "publsh"),
)
_TOML_VALUES = (
    "nan", "inf", "-inf", "0", "-1", "1e999", "99999999999999999999999999999", "true", '"5"',
    "[1, 2]", "{ a = 1 }", "1979-05-27T07:32:00Z", '"((("', "0.0", "-0.0", "1_000", "0x10",
)


def _odd_config_value(rng: random.Random) -> bytes:
    table, key = rng.choice(_CONFIG_KEYS)
    value = rng.choice(_TOML_VALUES)
    if rng.random() < 0.2:
        pattern = orjson.dumps(rng.choice(ODD_REGEXES)).decode()
        return f'[[redact]]\nkind = "k"\npattern = {pattern}\n'.encode()
    return f"[{table}]\n{key} = {value}\n".encode()


ODD_REGEXES = ("(", "[a-", "a{99999999999}", "(?P<x>a)(?P<x>b)", "\\", "*", "a" * 2000, "(?<!a+)b")
