"""``python -m panebus``."""

from __future__ import annotations

import sys

from panebus.cli import main

sys.exit(main())
