"""Log lines printed by a real ``panebus`` process say which item and why (``extra=`` shown)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import typing as t
from pathlib import Path

import zmq

from bus.protocol import PUBLISH

if t.TYPE_CHECKING:
    from bus.endpoints import Endpoints

PANEBUS = Path(sys.executable).with_name("panebus")


def test_a_rejected_frame_log_line_names_the_frame_and_the_reason(endpoints: Endpoints) -> None:
    broker = subprocess.Popen(
        [str(PANEBUS), "bus", "--heartbeat", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    dealer = zmq.Context.instance().socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    try:
        dealer.connect(endpoints.snapshot)  # queued until the broker binds
        dealer.send_multipart([PUBLISH, b"r1", b"parsed.codex.status", b"{not json"])
        assert dealer.poll(30_000), "the broker answered"
        assert dealer.recv_multipart()[:2] == [b"ERR", b"r1"]
    finally:
        dealer.close()
        broker.send_signal(signal.SIGTERM)
        _, err = broker.communicate(timeout=30)
    [line] = [line for line in err.splitlines() if "rejected frame" in line]
    assert "topic=parsed.codex.status" in line
    assert 'reason="body is not JSON' in line
    assert "reader=broker" in line
    assert "Traceback" not in err
