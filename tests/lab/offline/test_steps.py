"""The offline build's step runner: stamps, `after` ordering, two at once, failures."""

from __future__ import annotations

import io
import threading
import time

import pytest
from rich.console import Console

from lab.errors import LabError
from lab.offline.steps import Step, StepFailed, check_order, run_steps


def console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=False, width=200), buffer


def test_a_step_runs_once_and_is_cached_by_its_inputs(tmp_path) -> None:
    calls = []
    steps = [Step("a", lambda: calls.append("a"), {"v": 1})]
    out, buffer = console()
    run_steps(steps, tmp_path, out)
    timings = run_steps(steps, tmp_path, out)
    assert calls == ["a"] and timings == {"a": 0.0}
    assert buffer.getvalue().splitlines() == ["[1/1] a: done in 0s", "[1/1] a: cached"]
    run_steps([Step("a", lambda: calls.append("a"), {"v": 2})], tmp_path, out)
    assert calls == ["a", "a"]  # another input rebuilds


def test_a_step_whose_output_is_gone_runs_again(tmp_path) -> None:
    calls = []
    out, _ = console()
    run_steps([Step("a", lambda: calls.append(1))], tmp_path, out)
    run_steps([Step("a", lambda: calls.append(1), is_present=lambda: False)], tmp_path, out)
    assert len(calls) == 2


def test_independent_steps_run_at_once_and_after_waits(tmp_path) -> None:
    both_running = threading.Barrier(2, timeout=5)
    order: list[str] = []

    def long(name: str):
        def action() -> None:
            both_running.wait()  # deadlocks (BrokenBarrierError) unless a and b overlap
            order.append(name)
        return action

    steps = [
        Step("a", long("a")),
        Step("b", long("b")),
        Step("c", lambda: order.append("c"), after=("a", "b")),
    ]
    out, buffer = console()
    run_steps(steps, tmp_path, out, parallel=2)
    assert sorted(order[:2]) == ["a", "b"] and order[2] == "c"
    lines = buffer.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines][-1] == "[3/3] c"  # one line per finished step


def test_with_one_at_a_time_the_plan_order_holds(tmp_path) -> None:
    order: list[str] = []
    steps = [Step(n, lambda n=n: order.append(n)) for n in "abcd"]
    run_steps(steps, tmp_path, console()[0], parallel=1)
    assert order == list("abcd")


def test_callable_inputs_are_read_after_the_steps_before_have_run(tmp_path) -> None:
    made: dict[str, int] = {}
    seen = []
    steps = [
        Step("make", lambda: made.update(x=1)),
        Step("use", lambda: None, inputs=lambda: seen.append(dict(made)) or {"x": made.get("x")}, after=("make",)),
    ]
    run_steps(steps, tmp_path, console()[0])
    assert seen == [{"x": 1}]


def test_a_failure_stops_new_steps_lets_running_ones_finish_and_keeps_its_hint(tmp_path) -> None:
    finished = []

    def fail() -> None:
        raise LabError("no network", hint="try again")

    def slow() -> None:
        time.sleep(0.2)
        finished.append("slow")

    steps = [
        Step("slow", slow),
        Step("broken", fail),
        Step("later", lambda: finished.append("later"), after=("broken",)),
        Step("independent", lambda: finished.append("independent")),
    ]
    out, buffer = console()
    with pytest.raises(StepFailed) as raised:
        run_steps(steps, tmp_path, out, parallel=2)
    assert raised.value.message == "step 'broken' failed: no network"
    assert raised.value.hint == "try again"
    assert finished == ["slow"]
    assert "broken: failed" in buffer.getvalue()
    assert not (tmp_path / "broken.stamp").exists() and (tmp_path / "slow.stamp").exists()


def test_an_os_error_becomes_a_lab_error(tmp_path) -> None:
    def action() -> None:
        raise FileNotFoundError("dpkg-deb")

    with pytest.raises(StepFailed, match="dpkg-deb"):
        run_steps([Step("x", action)], tmp_path, console()[0])


def test_always_steps_run_every_time_and_leave_no_stamp(tmp_path) -> None:
    calls = []
    for _ in range(2):
        run_steps([Step("engine", lambda: calls.append(1), always=True)], tmp_path, console()[0])
    assert len(calls) == 2 and not (tmp_path / "engine.stamp").exists()


@pytest.mark.parametrize(
    "steps",
    [
        [Step("a", lambda: None, after=("b",)), Step("b", lambda: None)],  # runs after a later step
        [Step("a", lambda: None, after=("nowhere",))],
        [Step("a", lambda: None), Step("a", lambda: None)],
    ],
)
def test_a_plan_that_could_deadlock_is_refused(steps) -> None:
    with pytest.raises(ValueError):
        check_order(steps)
