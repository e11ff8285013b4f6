"""What a trainee sees of a step's checks while it runs, so the lab never gives the diagnosis
away: goals say what must become true, diagnostic checks stay locked until they pass or are
revealed (each reveal counted), hidden checks are graded but only counted until the step ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lab.checks.result import CheckResult
from lab.registry import CHECK_FIELDS

Status = Literal["pending", "passed", "failing", "locked"]


@dataclass(frozen=True)
class ShownCheck:
    """One row of the checks list as a front end prints it."""

    index: int
    """Position of the check in its step (what `cka-lab reveal` takes, from 1)."""
    status: Status
    text: str
    type: str | None = None
    """The check's type; None on a locked row."""


def goal_text(spec, result: CheckResult | None) -> str:
    """The row text of a check that may be shown: the instructor's `expect` sentence when
    given (with the check's state; a failing on-demand check adds its verdict), else the
    check's own message."""
    expect = getattr(spec, "expect", None)
    if expect and getattr(spec, "on_demand", False) and result is not None and not result.passed:
        # an on-demand check grades the trainee's own work (a script run through an outage):
        # its verdict is the feedback, never a diagnosis of the cluster
        return f"{expect} — {result.message}"
    if expect:
        return expect
    if result is None:
        return describe_pending(spec)
    return result.message or spec.type


def describe_pending(spec) -> str:
    """A check before its first result: its type and the parameters that identify it."""
    # the check's own parameters: every field but its type and those every check has
    params = spec.model_dump(exclude={"type", *CHECK_FIELDS}, exclude_defaults=True)
    detail = ", ".join(f"{key}={value}" for key, value in params.items())
    return f"{spec.type} ({detail})" if detail else spec.type


def present(
    specs: Sequence, results: Sequence[CheckResult] | None, revealed: set[int] | frozenset[int] = frozenset(),
    *, step_over: bool = False,
) -> tuple[list[ShownCheck], str]:
    """The rows to show for a step's checks, and a line on what is not shown ("" when nothing
    is held back). `revealed` holds indices (from 0) of diagnostic checks the trainee revealed;
    `step_over` shows everything (the step was solved, its solution viewed, or the scenario ended)."""
    rows: list[ShownCheck] = []
    hidden_total = hidden_failing = 0
    for index, spec in enumerate(specs):
        result = results[index] if results is not None else None
        show = getattr(spec, "show", "goal")
        status: Status = "pending" if result is None else ("passed" if result.passed else "failing")
        could_not_run = result is not None and result.detail is not None
        if could_not_run and show != "hidden":
            # "the API server is not answering" is what kubectl shows too, never a diagnosis
            rows.append(ShownCheck(index + 1, status, result.message, spec.type))
        elif step_over or show == "goal" or (show == "diagnostic" and (index in revealed or status == "passed")):
            text = result.message if (step_over and result is not None and show != "goal") else goal_text(spec, result)
            rows.append(ShownCheck(index + 1, status, text, spec.type))
        elif show == "diagnostic":
            rows.append(ShownCheck(index + 1, "locked", f"diagnostic check {index + 1}: not passing yet (reveal it to see what it looks at)"))
        else:
            hidden_total += 1
            hidden_failing += status == "failing"
    note = ""
    if hidden_total:
        plural = "s" * (hidden_total != 1)
        if results is None:
            note = f"{hidden_total} more check{plural}, shown when the step ends"
        elif hidden_failing:
            note = f"{hidden_total} more check{plural}, shown when the step ends: {hidden_failing} not passing yet"
        else:
            note = f"{hidden_total} more check{plural}, shown when the step ends: passing"
    return rows, note


def lockable(specs: Sequence) -> list[int]:
    """Indices (from 0) of the step's diagnostic checks: the ones a reveal can open."""
    return [i for i, spec in enumerate(specs) if getattr(spec, "show", "goal") == "diagnostic"]
