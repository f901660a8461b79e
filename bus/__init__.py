"""The wire: frame types, codec, topics, broker, clients and endpoints.

``bus`` imports neither ``scraper`` nor ``sinks``: both sides of the bus depend on it, never
the other way round.
"""

from __future__ import annotations

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())

WIRE_VERSION = 1
