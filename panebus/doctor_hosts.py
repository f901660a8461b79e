"""``panebus doctor`` for several hosts: is this host's link to its upstream working, and who
did a central broker refuse? (docs/guide.md "Several machines")

On a host with an upstream (``[bus] upstream`` or a running ``panebus up --upstream``) the
check connects the way the forwarder does and names what is wrong: a missing key file, the
upstream unreachable, this host's key refused (not in the central's ``keys/authorized``), a
pinned ``upstream.key`` that is not the central broker's, or a clock that disagrees with the
upstream's heartbeat. On a central host it lists the authorized hosts and the keys it refused.
"""

from __future__ import annotations

import os
import typing as t

from bus.auth import authorized_dir, read_authorized
from bus.endpoints import EndpointError
from bus.federation_config import FederationConfig, federation_keys_problem
from bus.federation_probe import probe_upstream
from bus.keys import this_host
from panebus.doctor import Check

if t.TYPE_CHECKING:
    from bus.paths import Paths

SKEW_WARN_S = 5.0
PROBE_TIMEOUT = 3.0
CLOCK_WAIT = 6.0  # the broker's heartbeat comes every 5 s


def _parts(paths: Paths) -> dict[str, dict[str, t.Any]]:
    from panebus.supervisor import HEALTH_FILE, read_health  # noqa: PLC0415 - doctor only

    health = read_health(paths.runtime_dir / HEALTH_FILE) or {}
    return {str(part.get("name")): part for part in health.get("parts", [])}


def check_upstream(paths: Paths) -> Check | None:
    """This host's link to its upstream; None when it has none."""
    try:
        config = FederationConfig.load(paths, os.environ)
    except EndpointError as exc:
        return Check("upstream", "fail", str(exc), "fix the [bus] table of the config file")
    running = _parts(paths).get("upstream", {}).get("detail") or {}
    upstream = config.upstream or running.get("upstream")
    if not upstream:
        return None
    host = str(running.get("host") or config.host or this_host())
    config = FederationConfig(host=host, upstream=upstream)
    problem = federation_keys_problem(config, paths)
    if problem:
        return Check("upstream", "fail", problem, "make and copy the keys (docs/guide.md)")
    skew = running.get("skew_s")
    probe = probe_upstream(upstream, host, paths.keys_dir, PROBE_TIMEOUT,
                           clock_wait=0.0 if isinstance(skew, (int, float)) else CLOCK_WAIT)
    if probe.outcome == "unreachable":
        return Check("upstream", "fail", f"{upstream} unreachable: {probe.detail}",
                     "is `panebus up --listen` running there, and the address and port "
                     "(PORT+1, PORT+2) open between the hosts?")
    if probe.outcome == "refused":
        return Check("upstream", "fail", f"wrong key: {probe.detail}",
                     f"copy {paths.keys_dir / (host + '.key')} to the central host and run "
                     "`panebus keys --authorize FILE` there")
    if probe.outcome in ("handshake", "no-keys"):
        return Check("upstream", "fail", f"wrong upstream key? {probe.detail}",
                     "copy the central host's keys/broker.key here: "
                     "`panebus keys --upstream-key FILE --force`")
    skew = skew if isinstance(skew, (int, float)) else probe.skew_s
    pending = int(running.get("pending_bytes") or 0)
    detail = (f"{upstream} admits host {host}; forwarded {running.get('forwarded', 0)}, "
              f"{pending} bytes waiting, clock skew {skew if skew is not None else '?'} s")
    if skew is not None and abs(skew) > SKEW_WARN_S:
        return Check("upstream", "warn", f"clock skew {skew:+.1f} s against {upstream}: "
                     "forecasts and staleness are off by that much",
                     "synchronise the clocks (NTP: `timedatectl set-ntp true`)")
    if running and not running.get("connected"):
        return Check("upstream", "warn", detail + "; the running forwarder is not connected "
                     f"({running.get('handshake_failure') or 'reconnecting'})",
                     "`panebus status` shows the link; frames wait in the spool meanwhile")
    return Check("upstream", "ok", detail)


def check_listen(paths: Paths) -> Check | None:
    """A central host: the hosts it admits and the keys it refused; None when not central."""
    try:
        config = FederationConfig.load(paths, os.environ)
    except EndpointError:
        return None
    broker = _parts(paths).get("broker", {}).get("detail") or {}
    listen = config.listen or broker.get("listen")
    if not listen:
        return None
    hosts = sorted(read_authorized(authorized_dir(paths.keys_dir)).values())
    denied = broker.get("denied_keys") or []
    detail = (f"listening at {listen}; {len(hosts)} host(s) authorized: "
              f"{', '.join(hosts) or 'none'}")
    if denied:
        return Check("hosts", "warn", f"{detail}; refused {broker.get('denied')} handshake(s), "
                     f"latest key(s): {', '.join(denied)}",
                     "if that is one of your hosts, copy its NAME.key here and run "
                     "`panebus keys --authorize FILE`")
    if not hosts:
        return Check("hosts", "warn", detail, "authorize a host: `panebus keys --authorize "
                     "FILE` with the host's NAME.key")
    return Check("hosts", "ok", detail)
