"""Can this host reach its upstream? One connection attempt, the way the forwarder makes it.

``panebus doctor`` asks :func:`probe_upstream` and prints the :class:`Probe`: admitted, refused
(the upstream does not know this host's key), no handshake (``upstream.key`` is not the
upstream broker's key) or unreachable, and, when asked, the clock skew against the upstream's
heartbeat.
"""

from __future__ import annotations

import dataclasses
import time
import typing as t

import zmq
from zmq.utils.monitor import recv_monitor_message

from bus import codec
from bus.clock import parse_rfc3339, utcnow
from bus.endpoints import EndpointError
from bus.federation import HANDSHAKE_FAILED
from bus.federation_config import upstream_addresses
from bus.keys import UPSTREAM_KEY, MissingKeysError, key_files, load_pair, load_public

if t.TYPE_CHECKING:
    from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Probe:
    """What one attempt to reach the upstream showed (``panebus doctor``)."""

    outcome: t.Literal["ok", "unreachable", "refused", "handshake", "no-keys"]
    detail: str
    skew_s: float | None = None


def probe_upstream(
    upstream: str, host: str, keys_dir: Path, timeout: float = 3.0, clock_wait: float = 0.0
) -> Probe:
    """Connect to the upstream with this host's key the way the forwarder does, and say what
    happened: admitted, refused (the key), no handshake (the pinned key), or unreachable.

    With ``clock_wait``, also wait that long for the upstream's heartbeat to measure the
    clock skew (its ``observed_at`` against this clock).
    """
    try:
        pair = load_pair(keys_dir, host)
        server = load_public(key_files(keys_dir, UPSTREAM_KEY)[0])
        subscribe, snapshot = upstream_addresses(upstream)
    except (MissingKeysError, EndpointError) as exc:
        return Probe("no-keys", str(exc))
    context = zmq.Context.instance()
    dealer = context.socket(zmq.DEALER)
    clock = context.socket(zmq.SUB)
    for sock in (dealer, clock):
        sock.setsockopt(zmq.LINGER, 0)
        sock.curve_serverkey = server
        sock.curve_publickey = pair.public
        sock.curve_secretkey = pair.secret
    monitor = dealer.get_monitor_socket()
    connected = False
    outcome: Probe | None = None
    try:
        dealer.connect(snapshot)
        deadline = time.monotonic() + timeout
        while outcome is None and (left := deadline - time.monotonic()) > 0:
            if not monitor.poll(int(left * 1000), zmq.POLLIN):
                break
            kind = recv_monitor_message(monitor)["event"]
            if kind == zmq.EVENT_CONNECTED:
                connected = True
            elif kind == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                outcome = Probe("ok", f"admitted by {snapshot} as host {host}")
            elif kind == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
                outcome = Probe("refused", f"{snapshot} refused the key of host {host}")
            elif kind in HANDSHAKE_FAILED:
                outcome = Probe("handshake", f"the CURVE handshake with {snapshot} failed")
        if outcome is None:
            outcome = (Probe("handshake", f"tcp reached {snapshot}, no CURVE handshake within "
                             f"{timeout:g}s") if connected else
                       Probe("unreachable", f"no tcp connection to {snapshot} within "
                             f"{timeout:g}s"))
        if outcome.outcome == "ok" and clock_wait > 0:
            clock.setsockopt(zmq.SUBSCRIBE, b"sys.heartbeat")
            clock.connect(subscribe)
            if clock.poll(int(clock_wait * 1000), zmq.POLLIN):
                try:
                    _topic, body = codec.decode(clock.recv_multipart())
                    skew = (utcnow() - parse_rfc3339(body["observed_at"])).total_seconds()
                    outcome = dataclasses.replace(outcome, skew_s=round(skew, 3))
                except (ValueError, KeyError):
                    pass
        return outcome
    finally:
        dealer.disable_monitor()
        for sock in (monitor, dealer, clock):
            sock.close(linger=0)
