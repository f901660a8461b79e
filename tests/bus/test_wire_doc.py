"""docs/wire.md is part of the contract: its example bodies validate and its consumer runs."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import typing as t
from pathlib import Path

import orjson
import pytest

from bus import topics
from bus.frames import validate
from bus.publisher import Publisher
from tests.bus.bodies import parsed
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from bus.broker import Broker
    from bus.endpoints import Endpoints

WIRE_MD = Path(__file__).resolve().parents[2] / "docs" / "wire.md"
KIND_SECTION = re.compile(
    r"^### (raw|parsed|state|window|forecast|sys)\n(.*?)(?=^##)", re.M | re.S
)


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def _example_bodies() -> dict[str, dict[str, t.Any]]:
    text = WIRE_MD.read_text(encoding="utf-8")
    return {kind: orjson.loads(_blocks(section, "json")[0])
            for kind, section in KIND_SECTION.findall(text)}


def test_one_valid_example_body_of_each_kind() -> None:
    bodies = _example_bodies()
    assert sorted(bodies) == ["forecast", "parsed", "raw", "state", "sys", "window"]
    for kind, body in bodies.items():
        assert validate(body)["kind"] == kind
        assert topics.kind_of(topics.for_body(body)) == kind


def _consumer_code() -> str:
    text = WIRE_MD.read_text(encoding="utf-8")
    section = text.split("### Example consumer", 1)[1]
    return _blocks(section, "python")[0]


@pytest.mark.slow
def test_example_consumer_prints_each_providers_5h_figure(
    endpoints: Endpoints, broker: Broker
) -> None:
    lines: list[str] = []
    consumer = subprocess.Popen([sys.executable, "-c", _consumer_code()],
                                stdout=subprocess.PIPE, text=True)
    reader = threading.Thread(target=lambda: lines.extend(consumer.stdout or ()), daemon=True)
    reader.start()
    try:
        with Publisher(endpoints, name="doc-test") as publisher:
            # Cached values reach the consumer whenever it subscribes: no race with its start.
            assert publisher.send_acked(parsed("codex", "codex.status", 23.0))
            assert publisher.send_acked(parsed("claude", "claude.usage", 41.5))
        wait_for(lambda: len(lines) >= 2, timeout=20, message="two lines from the example")
    finally:
        consumer.terminate()
        consumer.wait(timeout=10)
        reader.join(timeout=5)
    assert sorted(lines) == ["claude: 5h 41.5% used, resets None\n",
                             "codex: 5h 23% used, resets None\n"]
