"""Discover agent panes, capture them on triggers, redact, parse and publish (docs/scraper.md)."""

from __future__ import annotations

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
