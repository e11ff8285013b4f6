"""The one polling helper, on a fake clock."""

from __future__ import annotations

import pytest

from lab.errors import TimedOut
from lab.wait import Pending, wait_until


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_first_value_that_is_not_pending() -> None:
    t = FakeTime()
    answers = iter([Pending("a"), None, False, "done"])
    assert wait_until(lambda: next(answers), timeout=10, what="x", clock=t.clock, sleep=t.sleep) == "done"
    assert t.sleeps == [1.0, 1.0, 1.0]


def test_times_out_with_what_and_the_last_reason_and_reports_each_new_reason_once() -> None:
    t = FakeTime()
    heard: list[str] = []
    with pytest.raises(TimedOut) as info:
        wait_until(lambda: Pending("still 0/1 ready"), timeout=5, what="the deployment", interval=2,
                   progress=heard.append, clock=t.clock, sleep=t.sleep)
    assert info.value.message == "the deployment did not happen within 5s (last: still 0/1 ready)"
    assert heard == ["waiting for the deployment: still 0/1 ready"]
    assert t.now == 5.0  # the last sleep is cut to the deadline


def test_listed_exceptions_count_as_not_yet_others_propagate() -> None:
    t = FakeTime()
    calls = iter([ConnectionError("refused"), "ok"])

    def probe() -> object:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert wait_until(probe, timeout=5, what="x", retry_on=(ConnectionError,), clock=t.clock, sleep=t.sleep) == "ok"
    with pytest.raises(KeyError):
        wait_until(lambda: {}["missing"], timeout=5, what="x", retry_on=(ConnectionError,), clock=t.clock, sleep=t.sleep)
