"""Keys, a central broker that listens for hosts, and a host's raw CURVE sockets."""

from __future__ import annotations

import itertools
import shutil
import typing as t
from pathlib import Path

import zmq

from bus import codec
from bus.auth import RemoteAccess, authorized_dir
from bus.keys import KeyPair, generate_keys, generate_pair, key_files
from bus.protocol import OK, PUBLISH, Stamper
from tests.bus.test_acked_curve_async import free_port_block

if t.TYPE_CHECKING:
    from bus.frames import Body


def central_access(keys_dir: Path, address: str = "127.0.0.1") -> tuple[RemoteAccess, str]:
    """The broker pairs in ``keys_dir`` and a listen address on free ports; the ``listen``."""
    generate_keys(keys_dir)
    listen = f"tcp://{address}:{free_port_block()}"
    return RemoteAccess.listen(listen, keys_dir), listen


def host_pair(host_keys: Path, name: str) -> KeyPair:
    """A host's own pair, made where that host keeps its keys."""
    return generate_pair(host_keys, name)


def authorize(central_keys: Path, host_keys: Path, name: str) -> Path:
    """Copy the host's public key into the central's authorized dir (what a user does)."""
    target = authorized_dir(central_keys)
    target.mkdir(mode=0o700, exist_ok=True)
    return Path(shutil.copyfile(key_files(host_keys, name)[0], target / f"{name}.key"))


class HostSockets:
    """A remote host talking to the central broker with its own key, by hand."""

    def __init__(self, access: RemoteAccess, pair: KeyPair, name: str) -> None:
        self.access = access
        self.pair = pair
        self.stamper = Stamper("test")
        self.stamper.producer = f"{name}:1:test"
        self._requests = itertools.count()
        self.dealer = self._socket(zmq.DEALER)
        self.dealer.connect(access.snapshot)
        self.sub = self._socket(zmq.SUB)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"parsed.")
        self.sub.connect(access.subscribe)

    def _socket(self, kind: int) -> zmq.Socket[t.Any]:
        sock = zmq.Context.instance().socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RECONNECT_IVL, 50)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, 200)
        sock.curve_serverkey = self.access.server.public
        sock.curve_publickey = self.pair.public
        sock.curve_secretkey = self.pair.secret
        return sock

    def stamp(self, body: Body, producer: str | None = None) -> list[bytes]:
        stamped, parts = self.stamper.stamp(body)
        if producer is not None:
            stamped["producer"] = producer
            parts = codec.encode(parts[0].decode(), stamped)
        return parts

    def publish(self, parts: list[bytes], timeout: float = 2.0) -> list[bytes] | None:
        """Acked publish; the reply, or None when none came within ``timeout``."""
        request = str(next(self._requests)).encode()
        if not self.dealer.poll(int(timeout * 1000), zmq.POLLOUT):
            return None
        self.dealer.send_multipart([PUBLISH, request, *parts])
        while self.dealer.poll(int(timeout * 1000), zmq.POLLIN):
            reply = self.dealer.recv_multipart()
            if reply[1] == request:
                return reply
        return None

    def published(self, parts: list[bytes], timeout: float = 2.0) -> bool:
        reply = self.publish(parts, timeout)
        return reply is not None and reply[0] == OK

    def received(self) -> list[Body]:
        """Bodies queued on the subscriber now."""
        bodies = []
        while self.sub.poll(0, zmq.POLLIN):
            _topic, body = codec.decode(self.sub.recv_multipart())
            bodies.append(body)
        return bodies

    def close(self) -> None:
        self.dealer.close(linger=0)
        self.sub.close(linger=0)
