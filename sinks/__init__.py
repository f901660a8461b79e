"""Independent subscribers of the bus: archive, alias cache, window log, feature log."""

from __future__ import annotations

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
