"""Discover agent panes, capture them on triggers, redact, parse and publish (DESIGN §6)."""

from __future__ import annotations

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
