"""panebus against the real agents under ../shared/live-agents (see conftest.py)."""
