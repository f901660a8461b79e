"""panebus test suite."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# CI clones the repo with shared/ beside it; PANEBUS_FIXTURES points elsewhere when it is not.
FIXTURES = Path(os.environ.get("PANEBUS_FIXTURES") or REPO.parent / "shared" / "fixtures")
# A user's own bus endpoints or config file must never reach a test or a scenario.
USER_SETTING_PREFIXES = ("PANEBUS_BUS_", "PANEBUS_CONFIG")
