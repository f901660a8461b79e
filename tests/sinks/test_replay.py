"""``panebus replay`` re-publishes archived frames marked as replays; sinks do not recount."""

from __future__ import annotations

import subprocess
import sys
import typing as t

from bus.subscribers import Subscriber
from sinks.archive import ArchiveWriter
from sinks.config import ArchiveConfig
from tests.sinks.frames import raw, stamp
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.endpoints import Endpoints
    from sinks.config import SinksConfig
    from tests.sinks.conftest import RunSink


def test_replay_marks_frames_and_sinks_skip_them(
    endpoints: Endpoints, run_sink: RunSink, sinks_config: SinksConfig
) -> None:
    root = sinks_config.archive.root
    writer = ArchiveWriter(ArchiveConfig(root=root)).open()
    originals = [stamp(raw(f"probe card {n}", trigger="probe", pane_id=f"%{n}")) for n in range(3)]
    for body in originals:
        writer.write(body)
    writer.close()
    archive, featurelog = run_sink("archive"), run_sink("featurelog")
    with Subscriber(endpoints, prefixes=["raw."], name="watch") as watch:
        result = subprocess.run(
            [sys.executable, "-m", "panebus", "replay", "--root", str(root), "--pane", "%1"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "replayed 1 frames"
        item = wait_for(lambda: watch.recv(timeout=0.1), message="the replayed frame")
    assert item is not None
    topic, body = item
    assert topic == "raw.codex.1" and body["trigger"] == "replay" and body["replay"] is True
    assert body["replay_of"] == originals[1]["id"] and body["id"] != originals[1]["id"]
    assert body["observed_at"] == originals[1]["observed_at"]
    wait_for(lambda: archive.handled >= 1 and featurelog.handled >= 1, message="sinks saw it")
    assert archive.sink.health()["written"] == 0
    assert not sinks_config.feature_log.exists()


def test_replay_parse_reparses_archived_screens_with_todays_parsers(
    endpoints: Endpoints, broker: t.Any, sinks_config: SinksConfig
) -> None:
    from tests import FIXTURES

    screen = FIXTURES / "screens/codex/codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn.txt"
    root = sinks_config.archive.root
    writer = ArchiveWriter(ArchiveConfig(root=root)).open()
    original = stamp(raw(screen.read_text(encoding="utf-8"), trigger="probe"))
    writer.write(original)
    writer.close()
    with Subscriber(endpoints, prefixes=["parsed.codex"], name="watch") as watch:
        result = subprocess.run(
            [sys.executable, "-m", "panebus", "replay", "--root", str(root), "--parse"],
            capture_output=True, text=True, timeout=60, check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "replayed 1 frames, 1 parsed"
        item = wait_for(lambda: watch.recv(timeout=0.1), message="the re-parsed frame")
    assert item is not None
    _, body = item
    assert body["replay"] is True and body["raw_id"] == original["id"]
    five_hour = next(limit for limit in body["limits"] if limit["window"] == "5h")
    assert five_hour["used_pct"] == 23.0  # the card says 77% left
