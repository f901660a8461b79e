"""panebus test suite."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Real renders of the real programs, copied from the project's shared fixtures with their
# READMEs: the suite carries its own data. PANEBUS_FIXTURES points at another copy (e.g. a
# newer shared/fixtures) when set.
FIXTURES = Path(os.environ.get("PANEBUS_FIXTURES") or REPO / "tests" / "fixtures")
# A user's own bus endpoints or config file must never reach a test or a scenario.
USER_SETTING_PREFIXES = ("PANEBUS_BUS_", "PANEBUS_CONFIG")
