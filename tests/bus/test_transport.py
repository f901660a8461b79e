"""The hot-path send/receive helpers keep ZeroMQ's message boundaries exactly."""

from __future__ import annotations

import typing as t

import pytest
import zmq

from bus.transport import recv_copied, recv_frames, send_parts

if t.TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def pair(tmp_path: Path) -> t.Iterator[tuple[zmq.Socket[t.Any], zmq.Socket[t.Any]]]:
    context = zmq.Context()
    sender, receiver = context.socket(zmq.PAIR), context.socket(zmq.PAIR)
    sender.bind(f"ipc://{tmp_path}/pair.sock")
    receiver.connect(f"ipc://{tmp_path}/pair.sock")
    yield sender, receiver
    sender.close(linger=0)
    receiver.close(linger=0)
    context.term()


def test_messages_of_one_two_and_three_parts_arrive_whole_and_apart(
    pair: tuple[zmq.Socket[t.Any], zmq.Socket[t.Any]],
) -> None:
    sender, receiver = pair
    messages = [[b"only"], [b"raw.codex.1", b"{}" * 3000], [b"a", b"", b"c"]]
    for message in messages:
        send_parts(sender, message)
    frames: list[list[bytes]] = []
    for _ in messages:
        assert receiver.poll(5000)
        frames.append([frame.bytes for frame in recv_frames(receiver)])
    assert frames == messages
    with pytest.raises(zmq.Again):
        recv_frames(receiver)


def test_received_frames_can_be_forwarded_unchanged(
    pair: tuple[zmq.Socket[t.Any], zmq.Socket[t.Any]],
) -> None:
    sender, receiver = pair
    send_parts(sender, [b"topic", b"body"])
    assert receiver.poll(5000)
    send_parts(receiver, recv_frames(receiver))  # back the other way, as the broker forwards
    assert sender.poll(5000)
    assert recv_copied(sender) == [b"topic", b"body"]
