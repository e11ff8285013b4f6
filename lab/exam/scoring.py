"""Scoring an exam as the CKA does: each task has points, its checks share them by weight
(partial credit), the score is the percentage of all points, the pass mark 66 %."""

from __future__ import annotations

from dataclasses import dataclass

from lab.exam.blueprint import PASS_MARK


@dataclass(frozen=True)
class TaskScore:
    number: int
    scenario: str
    domain: str
    points: int
    earned: float
    """points × (weight of the passed checks ÷ weight of all checks), to two decimals."""


@dataclass(frozen=True)
class ExamScore:
    tasks: list[TaskScore]

    @property
    def earned(self) -> float:
        return round(sum(t.earned for t in self.tasks), 2)

    @property
    def possible(self) -> int:
        return sum(t.points for t in self.tasks)

    @property
    def percent(self) -> float:
        """Rounded down to one decimal: 65.99 % is not a pass."""
        if not self.possible:
            return 0.0
        return int(1000 * self.earned / self.possible) / 10

    @property
    def passed(self) -> bool:
        return self.percent >= PASS_MARK

    def per_domain(self) -> dict[str, tuple[float, int]]:
        """(earned, possible) per domain."""
        found: dict[str, tuple[float, int]] = {}
        for t in self.tasks:
            earned, possible = found.get(t.domain, (0.0, 0))
            found[t.domain] = (round(earned + t.earned, 2), possible + t.points)
        return found


def task_earned(points: int, checks: list[tuple[int, bool]]) -> float:
    """Partial credit: the share of the task's points its passed checks carry by weight."""
    total = sum(weight for weight, _ in checks)
    if not total:
        return 0.0
    return round(points * sum(weight for weight, passed in checks if passed) / total, 2)
