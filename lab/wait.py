"""The one polling helper: every "wait until the cluster shows X" in cka-lab goes through here,
so each wait has a bound, reports what it is still waiting for, and fails with that reason."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.errors import TimedOut

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Pending:
    """What a probe returns while the condition does not hold yet, with the reason."""

    reason: str = "not yet"


def wait_until(
    probe: Callable[[], Any],
    *,
    timeout: float,
    what: str,
    interval: float = 1.0,
    progress: Progress | None = None,
    retry_on: tuple[type[BaseException], ...] = (),
    hint: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Any:
    """Call `probe` every `interval` seconds until it returns something other than a Pending,
    False or None, and return that. Exceptions of the types in `retry_on` count as "not yet"
    (e.g. the API server restarting). After `timeout` seconds raise TimedOut naming `what`
    and the last reason; `progress` hears each new reason once."""
    deadline = clock() + timeout
    last_reason = ""
    while True:
        try:
            outcome = probe()
        except retry_on as exc:
            text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            outcome = Pending(f"{type(exc).__name__}: {text}".rstrip(": "))
        if not (outcome is None or outcome is False or isinstance(outcome, Pending)):
            return outcome
        reason = outcome.reason if isinstance(outcome, Pending) else "not yet"
        if progress is not None and reason != last_reason:
            progress(f"waiting for {what}: {reason}")
        last_reason = reason
        if clock() >= deadline:
            raise TimedOut(f"{what} did not happen within {timeout:.0f}s (last: {reason})", hint=hint)
        sleep(min(interval, max(0.0, deadline - clock())) or interval)
