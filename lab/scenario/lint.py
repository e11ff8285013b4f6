"""Warnings `cka-lab validate` gives on valid scenario files: things that do not break the file
but spoil the training, such as a check shown while the step runs that names what its own step
broke (the trainee would read the diagnosis instead of making it)."""

from __future__ import annotations

from collections.abc import Iterator

from lab.registry import CHECK_FIELDS
from lab.scenario.models import Scenario, Step

REVEALING_PARAMS = ("manifest", "service", "path")
"""Fault parameters that name the broken thing itself (a component, a unit, a file)."""


def broken_things(step: Step) -> set[str]:
    """What the step's faults break, as names a check might mention."""
    names: set[str] = set()
    for fault in step.faults:
        if fault.type == "record-path":
            continue  # records a path for undo, breaks nothing
        for key in REVEALING_PARAMS:
            value = getattr(fault, key, None)
            if isinstance(value, str) and len(value) > 3:
                names.add(value)
        if getattr(fault, "namespace", None) == "kube-system" and isinstance(getattr(fault, "name", None), str):
            names.add(fault.name)
    return names


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def spoilers(scenario: Scenario) -> list[str]:
    """One warning per goal check that names what its own step's faults break."""
    warnings = []
    variants = [(v.id, v.steps) for v in scenario.variants] or [(None, scenario.steps)]
    for variant, steps in variants:
        for index, step in enumerate(steps):
            broken = broken_things(step)
            for number, check in enumerate(step.checks, 1):
                if getattr(check, "show", "goal") != "goal":
                    continue
                # with `expect`, only that sentence is shown
                texts = [check.expect] if check.expect else list(
                    _strings(check.model_dump(exclude={"type", *CHECK_FIELDS}))
                )
                named = sorted({thing for thing in broken for text in texts if thing in text})
                if named:
                    where = f"variant {variant}, " if variant else ""
                    warnings.append(
                        f"{where}step {index + 1}, check {number} ({check.type}) is shown while the step runs and names "
                        f"what the step breaks ({', '.join(named)}): say what must become true (`expect`), or make it "
                        "`show: diagnostic` or `show: hidden`"
                    )
    return warnings
