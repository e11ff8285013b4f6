from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from lab.registry import CHECKS


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    message: str


def run_check(ctx, spec: BaseModel) -> CheckResult:
    """Run one check; an exception inside it is a failed check carrying the exception's message."""
    entry = CHECKS.get(spec.type)  # type: ignore[attr-defined]
    try:
        result = entry.call(ctx, spec)
    except Exception as exc:  # a check must never crash the grader
        reason = getattr(exc, "reason", None) or str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return CheckResult(False, f"{type(exc).__name__}: {reason}".rstrip(": "))
    if not isinstance(result, CheckResult):
        return CheckResult(False, f"check {entry.name} returned {result!r}, not a CheckResult")
    return result
