"""Run as a separate process: publish COUNT frames as producer NAME, then exit.

``python -m tests.bus.publish_many NAME COUNT`` (PANEBUS_HOME selects the bus). No explicit
``wait_ready``: the first ``send`` must cover the slow joiner by itself.
"""

from __future__ import annotations

import sys

from bus.endpoints import Endpoints
from bus.publisher import Publisher
from tests.bus.bodies import parsed, raw


def main(name: str, count: int) -> int:
    with Publisher(Endpoints.default(), name=name) as pub:
        for index in range(count):
            cached = index % 10 == 0
            pub.send(parsed(used_pct=float(index % 100)) if cached else raw(f"{name} {index}"))
        return 0 if pub.dropped == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
