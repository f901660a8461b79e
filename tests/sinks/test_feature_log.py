"""The feature-log table on a real file: created, appended, human lines kept, no duplicates."""

from __future__ import annotations

import typing as t

from sinks.feature_log import HEADER, FeatureLogSink, insert_rows, render_row, row_ids
from tests.sinks.frames import T0, limit, parsed, raw, stamp

if t.TYPE_CHECKING:
    from pathlib import Path


def emit(body: dict[str, t.Any], topic: str | None = None) -> None:
    raise AssertionError("the feature log publishes nothing")


def window_frame(event: str, used: float) -> dict[str, t.Any]:
    return stamp(
        {
            "kind": "window",
            "provider": "codex",
            "source": {"kind": "screen", "confidence": "parsed"},
            "observed_at": "2026-11-25T08:00:00.000Z",
            "window": "5h",
            "event": event,
            "event_id": f"codex/5h/main/x/{event}/f1",
            "scope": None,
            "used_pct": used,
            "peak_pct": used,
            "resets_at": "2026-11-25T10:00:00.000Z",
        }
    )


def test_insert_keeps_every_human_line_and_appends_to_the_table() -> None:
    text = "# My notes\n\nkeep me\n\n" + HEADER + "\n|---|\n| a | b |\n\nafter the table\n"
    out = insert_rows(text, ["| new |"])
    assert out.splitlines() == [
        "# My notes", "", "keep me", "", HEADER, "|---|", "| a | b |", "| new |", "",
        "after the table",
    ]
    created = insert_rows("", ["| r |"])
    assert created.startswith("# Tracker feature log\n\n" + HEADER)
    assert row_ids(render_row("abc/1", ["x", "y|z"])) == {"abc/1"}
    assert "y\\|z" in render_row("abc/1", ["x", "y|z"])


def test_rows_once_per_event_across_restarts_with_tests_and_archive(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "Tasks" / "tracker_feature_log.md"
    state = tmp_path / "state.json"
    sink = FeatureLogSink(path, tmp_path / "archive", state)
    sink.handle("sys.tests", stamp({"kind": "sys", "provider": "unknown",
                                     "source": {"kind": "report", "confidence": "official"},
                                     "observed_at": "2026-11-25T07:00:00.000Z",
                                     "what": "tests", "passed": 12, "failed": 0}), emit)
    opened = window_frame("opened", 10)
    sink.handle("window.codex.5h", opened, emit)
    path.write_text(path.read_text() + "\nA line a person wrote.\n")
    sink.handle("window.codex.5h", dict(opened, id="another-copy"), emit)  # same event id
    restarted = FeatureLogSink(path, tmp_path / "archive", state)
    assert restarted.tests == "12 passed, 0 failed"
    restarted.handle("window.codex.5h", window_frame("updated", 20), emit)
    probe = stamp(raw("card", trigger="probe", at=T0))
    restarted.handle("raw.codex.3", probe, emit)
    restarted.handle("parsed.codex.status",
                     stamp(parsed([limit("5h", 23), limit("weekly", 42)], raw_id=probe["id"])),
                     emit)
    restarted.close()
    text = path.read_text()
    rows = [line for line in text.splitlines() if "<!-- pb:" in line]
    assert len(rows) == 3
    assert "| opened |" in rows[0] and "12 passed, 0 failed" in rows[0]
    assert "probe" in rows[2] and "5h 23% · weekly 42%" in rows[2]
    assert "2026-11-25/codex-default-p3.rec" in rows[2]
    assert "A line a person wrote." in text
    again = FeatureLogSink(path, tmp_path / "archive", state)
    again.handle("raw.codex.3", probe, emit)
    again.close()
    assert path.read_text() == text
