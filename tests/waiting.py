"""Wait for a condition instead of sleeping: the one synchronisation helper of the tests."""

from __future__ import annotations

import time
import typing as t

T = t.TypeVar("T")


class WaitTimeout(AssertionError):
    """The condition did not hold before the timeout."""


def wait_for(
    predicate: t.Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.02,
    message: str = "condition",
) -> T:
    """Call ``predicate`` until it returns a truthy value and return that value."""
    deadline = time.monotonic() + timeout
    last: T = predicate()
    while not last:
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
        last = predicate()
    return last
