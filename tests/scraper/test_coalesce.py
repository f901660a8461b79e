"""A working agent's spinner costs few frames; a figure change during it still arrives, whole.

Real tmux on a private socket, the real stack (broker, scraper, alias and archive sinks) as
``panebus up`` runs it, and a pane whose program is named ``codex`` (bash under that name)
redrawing a real Codex card with a working spinner as fast as it can, counting its redraws.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import typing as t

import pytest

from bus.paths import Paths
from panebus.app import Stack, StackOptions
from scraper.config import ScraperConfig, ServerSpec
from sinks.archive_query import find
from sinks.config import SinksConfig
from tests import FIXTURES
from tests.scraper.conftest import Collector, new_pane, wait_drawn
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    import libtmux

pytestmark = pytest.mark.slow

SPINNER = FIXTURES / "screens/codex/codex-0.169.0-working-spinner-chatgpt.txt"
# $1 card template, $2 redraw counter file. Redraws every 50 ms with the next spinner glyph
# and timer; a line on stdin is the new 5h "% left", drawn at once.
REDRAW = r"""stty -echo 2>/dev/null; IFS= read -rd '' tpl < "$1"; count="$2"; left=77; i=0
glyphs=("·" "✢" "✳" "✶" "✻" "✽"); draw() { t=${tpl//@LEFT@/$left}; t=${t//@SPIN@/${glyphs[i % 6]}}
printf '\033[H\033[2J%s' "${t//@SECS@/$((11 + i / 20))}"; i=$((i + 1))
printf '%s' "$i" > "$count"; }; draw
while :; do if IFS= read -r -t 0.05 n; then [ -n "$buf$n" ] && left=$buf$n; buf=
else buf=$buf$n; fi; draw; done"""  # a line split by the 50 ms timeout is joined, not cut


def redrawing_pane(session: libtmux.Session, tmp_path: Path) -> tuple[str, Path]:
    text = SPINNER.read_text(encoding="utf-8").replace("77% left", "@LEFT@% left", 1)
    text = text.replace("◦ Reconnecting... waiting for network (11s",
                        "@SPIN@ Reconnecting... waiting for network (@SECS@s", 1)
    template = tmp_path / "card.tpl"
    template.write_text(text, encoding="utf-8")
    codex = tmp_path / "agents" / "codex"
    codex.parent.mkdir()
    codex.symlink_to("/usr/bin/bash")
    counter = tmp_path / "redraws"
    command = f"exec {codex} -c {shlex.quote(REDRAW)} codex {template} {counter}"
    return new_pane(session, command), counter


def redraws(counter: Path) -> int:
    try:
        return int(counter.read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


@pytest.fixture
def stack(session: libtmux.Session, panebus_home: Path) -> t.Iterator[Stack]:
    config = ScraperConfig(
        servers=(ServerSpec(socket_name=session.server.socket_name),),
        intervals={"codex": 3600.0, "claude": 3600.0, "claude-monitor": 3600.0},
        sweep_interval=3600.0,
    )
    running = Stack(Paths.from_env(), config,
                    StackOptions(rollout=False, sinks=("alias", "archive")))
    yield running
    running.stop()


def test_spinner_coalesced_figure_change_reaches_alias_and_archive(
    session: libtmux.Session, tmp_path: Path, stack: Stack, endpoints: t.Any
) -> None:
    server = session.server
    pane, counter = redrawing_pane(session, tmp_path)
    wait_drawn(server, pane, "5h limit")
    collector = Collector(endpoints, ["raw.", "parsed."])
    stack.start(report=lambda line: None)
    scraper = stack.scraper
    assert scraper is not None
    def first_frame() -> list[dict[str, t.Any]]:
        """The startup frame; if it went out before the collector's subscription reached the
        broker (both start together), a manual capture, which is always published."""
        frames = collector.bodies("raw", pane)
        if not frames:
            scraper.request_capture(str(server.socket_name), pane, "manual")
        return frames

    wait_for(first_frame, timeout=60, interval=1.0, message="a first frame of the pane")
    wait_for(lambda: scraper.wait_connected(0.1), timeout=60, message="control client up")
    start = redraws(counter)
    wait_for(lambda: redraws(counter) >= start + 300, timeout=60, message="300 redraws")
    frames = len(collector.bodies("raw", pane))
    # Far fewer frames than redraws: captures found only spinner ticks and published nothing.
    assert frames * 20 <= redraws(counter) - start + 20
    assert scraper.stats.spinner_skipped >= 1
    assert scraper.captures_by_trigger.get("output", 0) >= 1

    # A new figure while the spinner keeps going reaches the alias cache.
    server.cmd("send-keys", "-t", pane, "41", "Enter")
    occ = Paths.from_env().alias_dir / "occ"
    wait_for(lambda: occ.exists() and "5h 59%" in occ.read_text(encoding="utf-8"),
             timeout=60, message="occ shows the new 5h figure")
    changed = wait_for(
        lambda: [b for b in collector.bodies("raw", pane) if "41% left" in b["text"]],
        timeout=60, message="the figure frame",
    )
    # The skipped spinner ticks ride, counted, on the frames published after them.
    assert sum(b.get("coalesced", 0) for b in collector.bodies("raw", pane)) >= 1

    # A keyframe: a raw frame while only the spinner moves, once the interval has passed.
    scraper.pipeline.keyframe_interval = 0.5
    wait_for(
        lambda: [b for b in collector.bodies("raw", pane)
                 if "41% left" in b["text"] and b["id"] != changed[0]["id"]],
        timeout=60, message="a keyframe",
    )
    root = SinksConfig.load(Paths.from_env()).archive.root
    scraper.pipeline.keyframe_interval = 3600.0
    published = [body["id"] for body in collector.bodies("raw", pane)]
    # Every frame published is kept whole, in order: the startup frame, the figure frame,
    # the keyframes; the spinner ticks between them only as the ``coalesced`` count.
    archived = wait_for(
        lambda: (kept := [s.body for s in find(root)])
        and set(published) <= {body["id"] for body in kept} and kept,
        timeout=60, message="the archive holds every published frame",
    )
    assert any("41% left" in body["text"] for body in archived)
    assert all(body["text"] and body["sha256"] for body in archived)


def test_archived_frames_replay(
    session: libtmux.Session, tmp_path: Path, stack: Stack, endpoints: t.Any
) -> None:
    server = session.server
    pane, _ = redrawing_pane(session, tmp_path)
    wait_drawn(server, pane, "5h limit")
    stack.start(report=lambda line: None)
    root = SinksConfig.load(Paths.from_env()).archive.root
    scraper = stack.scraper
    assert scraper is not None
    wait_for(lambda: scraper.wait_connected(0.1), timeout=60, message="control client up")
    wait_for(lambda: list(find(root)), timeout=60, message="the startup frame archived")
    server.cmd("send-keys", "-t", pane, "33", "Enter")
    wait_for(lambda: any("33% left" in s.body["text"] for s in find(root)),
             timeout=60, message="the figure frame archived")
    kept = list(find(root))
    collector = Collector(endpoints, ["raw."])
    result = subprocess.run(
        [sys.executable, "-m", "panebus", "replay", "--root", str(root)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[1]) >= len(kept)  # "replayed N frames"
    replays = wait_for(
        lambda: [b for b in collector.bodies("raw") if b.get("replay")
                 and b.get("replay_of") in {s.body["id"] for s in kept}] or None,
        timeout=60, message="the replayed frames",
    )
    assert any("33% left" in body["text"] for body in replays)
