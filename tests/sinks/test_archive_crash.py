"""``kill -9`` the archive sink process in a loop while frames stream: nothing acked is lost."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import typing as t

import pytest

from bus.publisher import Publisher
from bus.subscribers import Subscriber
from sinks import archive_format as fmt
from sinks.archive_query import find
from tests.sinks.frames import raw
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.broker import Broker
    from bus.endpoints import Endpoints

PANEBUS = [sys.executable, "-m", "panebus"]
KILLS = 3


def start_sink(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*PANEBUS, "sink", "archive", "--root", str(root), "--fsync", "interval"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_kill_9_in_a_loop_loses_no_acknowledged_frame(
    broker: Broker, endpoints: Endpoints, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    acked: set[str] = set()
    sent: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        with Publisher(endpoints, name="scraper") as pub:
            pub.wait_ready(timeout=5.0)
            number = 0
            while not stop.is_set():
                body = pub.send(raw(f"screen {number}\n" + "x" * 2000, pane_id=f"%{number % 3}"))
                sent.append(body["id"])
                number += 1
                stop.wait(0.002)  # the stream's pace (the scenario), not a wait

    with Subscriber(endpoints, prefixes=["sys.sink.archive"], name="acks") as acks:

        healthy: set[int] = set()

        def acked_more(than: int) -> bool:
            item = acks.recv(timeout=0.1)
            if item is not None and "ack" in item[1]:
                acked.update(item[1]["ack"]["ids"])
            elif item is not None and item[1].get("status") == "running":
                healthy.add(int(item[1]["producer"].split(":")[1]))
            return len(acked) > than

        def running(pid: int) -> bool:
            acked_more(len(acked))
            return pid in healthy

        streamer = threading.Thread(target=stream, daemon=True)
        streamer.start()
        try:
            for _ in range(KILLS):
                process = start_sink(root)
                try:
                    for _ in range(2):  # two acks: the kill lands mid-stream, between fsyncs
                        wait_for(functools.partial(acked_more, len(acked)), timeout=20,
                                 message="an ack")
                finally:
                    os.kill(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
        finally:
            stop.set()
            streamer.join(timeout=10)
        final = start_sink(root)  # a restart repairs the tail of the last kill
        wait_for(lambda: running(final.pid) or final.poll() is not None, timeout=20,
                 message="the restarted sink reports health")
        final.send_signal(signal.SIGTERM)
        assert final.wait(timeout=10) == 0, final.stderr.read() if final.stderr else ""

    archived: dict[str, str] = {}
    for segment in fmt.segments(root):
        scan = fmt.read_segment(segment)
        assert not scan.torn, f"torn record left in {segment}"
        archived.update((body["id"], body["text"]) for body in scan.bodies)
    assert acked, "the sink acknowledged nothing"
    assert acked <= set(archived), f"lost acknowledged frames: {sorted(acked - set(archived))[:5]}"
    assert set(archived) <= set(sent)
    assert len(archived) == len({s.body["id"] for s in find(root)})
    shown = subprocess.run(
        [*PANEBUS, "archive", "show", "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for text in archived.values():
        assert text.splitlines()[0] + "\n" in shown
