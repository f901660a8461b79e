"""Every reader survives every input: fuzzed with hypothesis and with mutations of the real
fixture files (truncation, bit flips, huge numbers, calendar edges, wrong types, deep nesting,
10 MB lines). 0 crashes and 0 wrong values; bounded here, larger in tests/bench/bench_fuzz.py.
"""

from __future__ import annotations

import typing as t

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness import fuzzing

if t.TYPE_CHECKING:
    from pathlib import Path

FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
READERS = ("rollout", "statusline", "ccusage", "config", "frames", "screens")

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30), st.sampled_from([v for v in fuzzing.ODD_VALUES if not isinstance(
        v, (list, dict))]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def assert_clean(outcome: tuple[str, str]) -> None:
    assert outcome[0] in ("ok", "rejected"), outcome[1]


@pytest.mark.parametrize("reader", READERS)
def test_mutations_of_the_fixtures_neither_crash_nor_invent(reader: str) -> None:
    tally = fuzzing.run_reader(reader, 150, seed=1)
    assert tally.tried == 150
    assert (tally.crashes, tally.wrong) == (0, 0), tally.examples
    assert tally.ok > 0  # the mutations leave enough intact to read figures


@FUZZ
@given(
    used=json_values, minutes=json_values, resets_at=json_values, resets_in=json_values,
    stamp=json_values, limit_id=json_values, credits=json_values,
)
def test_rollout_token_count_fields(  # noqa: PLR0917 - one argument per fuzzed field
    used: object, minutes: object, resets_at: object, resets_in: object, stamp: object,
    limit_id: object, credits: object,
) -> None:
    line = {
        "timestamp": stamp,
        "type": "event_msg",
        "payload": {
            "type": "token_count",
            "rate_limits": {
                "limit_id": limit_id,
                "primary": {"used_percent": used, "window_minutes": minutes,
                            "resets_at": resets_at, "resets_in_seconds": resets_in},
                "credits": credits,
            },
        },
    }
    good = b'{"type":"event_msg","payload":{"type":"token_count","rate_limits":{"secondary":' \
        b'{"used_percent":33,"window_minutes":10080}}}}'
    assert_clean(fuzzing.check_rollout(good + b"\n" + fuzzing.dumps_loose(line) + b"\n"))


@FUZZ
@given(data=st.binary(max_size=400))
def test_rollout_any_bytes(data: bytes) -> None:
    assert_clean(fuzzing.check_rollout(data))


@FUZZ
@given(five=json_values, seven=json_values, scoped=json_values, context=json_values,
       model=json_values)
def test_statusline_fields(
    five: object, seven: object, scoped: object, context: object, model: object
) -> None:
    obj = dict(fuzzing.STATUSLINE, model=model, context_window={"remaining_percentage": context})
    obj["rate_limits"] = {"five_hour": {"used_percentage": five, "resets_at": seven},
                          "seven_day_x": scoped, "seven_day": seven}
    assert_clean(fuzzing.check_statusline(fuzzing.dumps_loose(obj)))


@FUZZ
@given(data=st.binary(max_size=400))
def test_statusline_any_bytes(data: bytes) -> None:
    assert_clean(fuzzing.check_statusline(data))


@FUZZ
@given(rows=st.lists(st.dictionaries(
    st.sampled_from(["date", "week", "month", "period", "sessionId", "id", "inputTokens",
                     "outputTokens", "cachedInputTokens", "cacheReadTokens", "totalTokens",
                     "totalCost", "costUSD", "modelsUsed", "models", "metadata", "agent",
                     "startTime", "endTime", "lastActivity", "projection", "tokenCounts"]),
    json_values, max_size=8), max_size=4),
    report=st.sampled_from(["daily", "weekly", "monthly", "sessions", "blocks"]))
def test_ccusage_rows(rows: list[dict[str, object]], report: str) -> None:
    obj = {report: rows, "totals": rows[0] if rows else None}
    assert_clean(fuzzing.check_ccusage(fuzzing.dumps_loose(obj)))


@FUZZ
@given(text=st.text(max_size=300))
def test_config_any_text(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("cfg")
    assert_clean(fuzzing.check_config(text.encode("utf-8", "surrogatepass"), home))


@FUZZ
@given(table=st.sampled_from(["scraper", "scraper.interval", "scraper.output", "scraper.file",
                              "sinks", "sinks.archive", "bus"]),
       key=st.sampled_from(["sweep_interval", "codex", "debounce", "min_interval", "max_bytes",
                            "health_interval", "fsync_frames", "publish", "history_lines",
                            "stale_after", "max_wait", "paths", "root", "typo"]),
       value=st.sampled_from(fuzzing._TOML_VALUES))
def test_config_odd_values(
    table: str, key: str, value: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("cfg")
    assert_clean(fuzzing.check_config(f"[{table}]\n{key} = {value}\n".encode(), home))


FRAME_SEEDS = fuzzing.frame_seeds()


@FUZZ
@given(index=st.integers(0, len(FRAME_SEEDS) - 1), field=st.text(max_size=12),
       value=json_values, pick=st.integers(0, 100), replace=st.booleans())
def test_frame_fields(index: int, field: str, value: object, pick: int, replace: bool) -> None:
    topic, data = FRAME_SEEDS[index]
    body = orjson.loads(data)
    name = sorted(body)[pick % len(body)] if replace else field
    body[name] = value
    assert_clean(fuzzing.check_frame(topic, fuzzing.dumps_loose(body)))


@FUZZ
@given(topic=st.binary(max_size=40), data=st.binary(max_size=400))
def test_frame_any_bytes(topic: bytes, data: bytes) -> None:
    assert_clean(fuzzing.check_frame(topic, data))


@FUZZ
@given(text=st.text(max_size=2000))
def test_screens_any_text(text: str) -> None:
    assert_clean(fuzzing.check_screen(text))


@FUZZ
@given(index=st.integers(0, len(fuzzing.SCREENS) - 1), cut=st.integers(0, 10_000),
       insert=st.text(max_size=40))
def test_screens_edited(index: int, cut: int, insert: str) -> None:
    text = fuzzing.SCREENS[index].read_text(encoding="utf-8", errors="replace")
    assert_clean(fuzzing.check_screen(text[:cut] + insert + text[cut:]))


def test_ten_mb_config_and_frame_are_refused_cleanly(tmp_path: Path) -> None:
    line = b"x" * fuzzing.TEN_MB
    assert fuzzing.check_config(b"[scraper]\nk = \"" + line + b"\"\n", tmp_path)[0] == "rejected"
    topic, data = FRAME_SEEDS[0]
    assert fuzzing.check_frame(topic, data[:-1] + b',"pad":"' + line + b'"}')[0] == "ok"
    assert fuzzing.check_frame(topic, line)[0] == "rejected"
