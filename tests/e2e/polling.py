"""The e2e tests' one polling helper: poll a predicate until it returns something truthy, or fail
the test with the message and the last value seen."""

from __future__ import annotations

import time


def wait_until(predicate, timeout: float, message: str, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} (not within {timeout:.0f}s; last: {last!r})")
