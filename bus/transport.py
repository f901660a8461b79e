"""Sending and receiving one multipart message on the hot path, cheaper than pyzmq's helpers.

``recv_multipart`` asks the socket ``RCVMORE`` (a ``getsockopt``) after every part and
``send_multipart`` builds flag enums per part; at 20,000 frames/s of two parts that is a few
microseconds a message in every process on the path. Here a received :class:`zmq.Frame` says
itself whether more parts follow, and flags are plain ints. ZeroMQ delivers a multipart message
whole or not at all, so once the first part is taken (or accepted for sending) the rest are
there (or accepted) too.
"""

from __future__ import annotations

import typing as t

import zmq

NOBLOCK = int(zmq.NOBLOCK)
SNDMORE = int(zmq.SNDMORE)


def recv_frames(sock: zmq.Socket[t.Any], flags: int = NOBLOCK) -> list[zmq.Frame]:
    """Receive one message as frames, without copying; raises :class:`zmq.Again` if none."""
    frame = sock.recv(flags, copy=False)
    frames = [frame]
    while frame.more:
        frame = sock.recv(flags, copy=False)
        frames.append(frame)
    return frames


def recv_copied(sock: zmq.Socket[t.Any], flags: int = NOBLOCK) -> list[bytes]:
    """Receive one message as bytes (for the low-rate sockets, whose handlers want bytes)."""
    return sock.recv_multipart(flags)


def send_parts(
    sock: zmq.Socket[t.Any], parts: t.Sequence[bytes | zmq.Frame], flags: int = 0
) -> None:
    """Send one message; raises :class:`zmq.Again` (nothing sent) like ``send_multipart``."""
    last = len(parts) - 1
    for index, part in enumerate(parts):
        sock.send(part, flags | SNDMORE if index < last else flags)
