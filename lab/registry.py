"""Faults and checks are plain typed functions registered by name.

The first parameter is the LabContext; the rest are the parameters a scenario file gives. At load
time each entry of a scenario is validated against a pydantic model made from the function's
signature, so a typo in a parameter name or a wrong type is reported with the file and line,
before anything touches the cluster."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from lab.params import Text


@dataclass(frozen=True)
class Entry:
    name: str
    func: Callable[..., Any]
    params: type[BaseModel]
    """Model of the parameters, with `type: Literal[name]` (the discriminator in scenario files)."""
    solution_only: bool = False
    """An action for reference solutions only (e.g. it cannot be undone): not allowed as a fault."""
    common: tuple[str, ...] = ()
    """Fields of the model that are not the function's parameters (see Registry.common)."""

    @property
    def summary(self) -> str:
        return (inspect.getdoc(self.func) or "").split("\n\n")[0]

    def call(self, ctx: Any, params: BaseModel) -> Any:
        skip = ("type", *self.common)
        return self.func(ctx, **{k: getattr(params, k) for k in type(params).model_fields if k not in skip})


class Registry:
    def __init__(self, kind: str, common: dict[str, Any] | None = None):
        self.kind = kind
        self.entries: dict[str, Entry] = {}
        self.common = common or {}
        """Fields every entry's scenario model has besides the function's own parameters
        (how a check is shown and weighed); the function never receives them."""

    def register(self, name: str, *, solution_only: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            if name in self.entries:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            self.entries[name] = Entry(
                name, func, params_model(name, func, self.common), solution_only, tuple(self.common)
            )
            return func

        return decorate

    def names(self, *, include_solution_only: bool = True) -> list[str]:
        """The registered names; with include_solution_only false, without the solution-only ones."""
        return sorted(n for n, e in self.entries.items() if include_solution_only or not e.solution_only)

    def get(self, name: str) -> Entry:
        return self.entries[name]


def params_model(name: str, func: Callable[..., Any], common: dict[str, Any] | None = None) -> type[BaseModel]:
    signature = inspect.signature(func, eval_str=True)
    fields: dict[str, Any] = {"type": (Literal[name], ...)}  # type: ignore[valid-type]
    for index, param in enumerate(signature.parameters.values()):
        if index == 0:
            continue  # the LabContext
        if param.name in (common or {}):
            raise TypeError(f"{func.__name__}: parameter '{param.name}' clashes with a field every entry has")
        if param.annotation is inspect.Parameter.empty:
            raise TypeError(f"{func.__name__}: parameter '{param.name}' needs a type annotation")
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (param.annotation, default)
    fields.update(common or {})
    model_name = "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
    doc = inspect.getdoc(func) or ""
    return create_model(  # type: ignore[call-overload]
        model_name,
        __config__=ConfigDict(extra="forbid", title=model_name, json_schema_extra={"description": doc}),
        **fields,
    )


Visibility = Literal["goal", "diagnostic", "hidden"]

CHECK_FIELDS: dict[str, Any] = {
    "show": (
        Visibility,
        Field(
            default="goal",
            description=(
                "goal: shown while the step runs (say what must become true, never the cause); "
                "diagnostic: shown once it passes, or when the trainee reveals it (each reveal is "
                "counted); hidden: graded, shown only when the step ends."
            ),
        ),
    ),
    "expect": (
        Text | None,
        Field(
            default=None,
            max_length=200,
            description=(
                "What must become true, in the trainee's words (e.g. 'Deployment app has 2 ready "
                "pods'); shown with the check's state instead of its own message, which may name a cause."
            ),
        ),
    ),
    "weight": (int, Field(default=1, ge=1, le=10, description="Points of this check in a task's score (partial credit).")),
    "guard": (
        bool,
        Field(
            default=False,
            description=(
                "The check also holds on the broken cluster (e.g. 'nothing more than asked was granted'): "
                "selftest warns instead of failing when it never sees it fail."
            ),
        ),
    ),
    "on_demand": (
        bool,
        Field(
            default=False,
            description=(
                "The check is slow or disruptive (it runs the trainee's work through an outage it "
                "stages): it runs only when the trainee asks for a grade (`c` in the TUI, `cka-lab "
                "check`), never in the TUI's periodic re-check. Not allowed in exam or game-day tasks."
            ),
        ),
    ),
}
"""How a check is shown, weighed and proven: fields of every check in a scenario file."""

FAULTS = Registry("fault")
CHECKS = Registry("check", common=CHECK_FIELDS)
