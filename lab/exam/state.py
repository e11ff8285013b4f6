"""What a running exam keeps on disk (`exam.json` in the state directory): the tasks drawn, their
scenario snapshots, flags and time, and, once ended, every check's outcome. It survives quitting
the TUI (`cka-lab exam --resume`); `cka-lab reset` undoes the exam like any session."""

from __future__ import annotations

import time

from pydantic import BaseModel, Field

from lab.ledger import ClusterIdentity


class ExamTaskState(BaseModel):
    number: int
    """1-based, as the task list shows it."""
    scenario_id: str
    variant: str | None = None
    snapshot: str
    """The copy of the scenario file the task was started from."""
    domain: str
    points: int
    namespace: str
    flagged: bool = False
    seconds: float = 0.0
    """Time the candidate spent on the task (the TUI counts it while the task is shown)."""

    @property
    def context(self) -> str:
        """The kubeconfig context of the task (its namespace is set)."""
        return f"cka-lab-t{self.number}"


class CheckOutcomeState(BaseModel):
    type: str
    weight: int
    passed: bool
    message: str
    """What the check saw."""
    expect: str | None = None
    """What it wanted, in the trainee's words (None: the check's own message says it)."""


class TaskOutcomeState(BaseModel):
    number: int
    earned: float
    checks: list[CheckOutcomeState]


class ExamState(BaseModel):
    exam_id: str
    seed: int
    minutes: int
    started_at: float = Field(default_factory=time.time)
    tasks: list[ExamTaskState]
    ended_at: float | None = None
    outcomes: list[TaskOutcomeState] = Field(default_factory=list)
    cluster: ClusterIdentity | None = None

    @property
    def ends_at(self) -> float:
        return self.started_at + self.minutes * 60

    def left(self, now: float) -> float:
        return self.ends_at - now
