"""A host without an authorized key, as a process: it subscribes to the central broker and tries
to publish, until a file appears; then prints what it got as JSON (for test_netns)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import zmq

from bus.keys import generate_pair, load_public
from bus.protocol import PUBLISH, Stamper
from tests.bus.bodies import parsed

DEADLINE = 600.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", required=True, help="dir for the stranger's own pair")
    parser.add_argument("--server-key", required=True, help="the central's broker.key")
    parser.add_argument("--subscribe", required=True)
    parser.add_argument("--snapshot", required=True)
    parser.add_argument("--until", required=True, help="stop once this file exists")
    options = parser.parse_args(argv)
    pair = generate_pair(Path(options.keys), "stranger")
    server = load_public(Path(options.server_key))
    context = zmq.Context.instance()
    sockets = []
    for kind, address in ((zmq.SUB, options.subscribe), (zmq.DEALER, options.snapshot)):
        sock = context.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.curve_serverkey = server
        sock.curve_publickey = pair.public
        sock.curve_secretkey = pair.secret
        if kind == zmq.SUB:
            sock.setsockopt(zmq.SUBSCRIBE, b"")
        else:
            sock.setsockopt(zmq.IMMEDIATE, 1)  # a send succeeds only on an admitted link
        sock.connect(address)
        sockets.append(sock)
    sub, dealer = sockets
    stamper = Stamper("stranger")
    received = replies = attempts = 0
    deadline = time.monotonic() + DEADLINE
    until = Path(options.until)
    while not until.exists() and time.monotonic() < deadline:
        _body, parts = stamper.stamp(parsed(used_pct=99.0))
        try:
            dealer.send_multipart([PUBLISH, str(attempts).encode(), *parts], zmq.NOBLOCK)
            attempts += 1
        except zmq.Again:
            pass  # no connection: the handshake was refused
        for sock in (sub, dealer):
            while sock.poll(100, zmq.POLLIN):
                sock.recv_multipart()
                if sock is sub:
                    received += 1
                else:
                    replies += 1
    json.dump({"received": received, "replies": replies, "attempts": attempts}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
