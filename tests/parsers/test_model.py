"""The model refuses a limit without a figure: ``used_pct`` is a number or there is no entry."""

from __future__ import annotations

import math

import pytest

from scraper.parsers.model import Limit, Usage


@pytest.mark.parametrize("value", [None, math.nan, math.inf, -1.0, "42", True])
def test_limit_refuses_a_missing_or_odd_figure(value: object) -> None:
    with pytest.raises(ValueError, match="used_pct"):
        Limit(window="5h", used_pct=value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "stored"), [(0, 0.0), (37, 37.0), (100.0, 100.0),
                                               (107.0, 107.0)])
def test_limit_keeps_a_figure_as_float(value: float, stored: float) -> None:
    limit = Limit(window="weekly", used_pct=value)
    assert limit.used_pct == stored
    assert isinstance(limit.to_dict()["used_pct"], float)


def test_usage_json_drops_a_figure_cleared_after_construction() -> None:
    kept = Limit(window="weekly", used_pct=58.0)
    cleared = Limit(window="5h", used_pct=23.0)
    cleared.used_pct = None  # type: ignore[assignment]
    out = Usage(provider="codex", screen="codex.status", limits=[cleared, kept]).to_dict()
    assert [entry["window"] for entry in out["limits"]] == ["weekly"]
    assert all(entry["used_pct"] is not None for entry in out["limits"])
