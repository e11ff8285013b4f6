"""The trainee's results: an attempt is built from the session when a scenario ends (finished, or
abandoned by a reset) and appended to the training record (lab.record); the browser shows the
last one per scenario. The engine records it, whichever front end (the TUI, `cka-lab check`,
`cka-lab reset`) ended the scenario."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.record import Attempt, CheckOutcome, StepOutcome, TrainingRecord
from lab.timefmt import duration


@dataclass
class LastResult:
    finished: bool
    steps_done: int
    steps: int
    seconds: float
    hints: int
    solutions: int
    ended_at: float
    reveals: int = 0

    def describe(self) -> str:
        if not self.finished:
            return f"stopped at step {self.steps_done + 1}/{self.steps}"
        extras = []
        if self.hints:
            extras.append(f"{self.hints} hint{'s' * (self.hints != 1)}")
        if self.reveals:
            extras.append(f"{self.reveals} reveal{'s' * (self.reveals != 1)}")
        if self.solutions:
            extras.append(f"{self.solutions} solution{'s' * (self.solutions != 1)}")
        return "✔ " + " · ".join([duration(self.seconds), *extras])

    @classmethod
    def of(cls, attempt: Attempt) -> LastResult:
        return cls(attempt.finished, attempt.steps_done, attempt.steps, attempt.seconds, attempt.hints,
                   attempt.solutions, attempt.ended_at, attempt.reveals)


class ResultsStore:
    """The last result per scenario, read from the training record."""

    def __init__(self, state_dir: Path):
        self.record = TrainingRecord(state_dir)
        self._legacy = Path(state_dir) / "results.json"

    def load(self) -> dict[str, LastResult]:
        try:
            if self._legacy.exists():
                self.record.import_results_file(self._legacy)
            return {scenario: LastResult.of(a) for scenario, a in self.record.last_per_scenario().items()}
        except Exception:  # noqa: BLE001 - a damaged record only costs the history column, never the session
            return {}

    def add(self, attempt: Attempt) -> None:
        self.record.add(attempt)


def attempt_from_state(state, scenario, now: float) -> Attempt:
    """Summarise a SessionState (finished or abandoned) of `scenario` (with the played variant's
    steps) as an attempt for the record."""
    step_count = len(scenario.steps)
    steps_done = step_count if state.finished else len(state.step_seconds)
    outcomes = []
    for index, step in enumerate(scenario.steps):
        if index > state.step and not state.finished:
            break  # never reached
        seen = state.graded.get(index, [])
        solved = index in state.step_seconds
        checks = [
            CheckOutcome(
                number, spec.type, getattr(spec, "weight", 1),
                True if solved else (seen[number - 1].passed if number <= len(seen) else None),
                seen[number - 1].message if number <= len(seen) else None,
            )
            for number, spec in enumerate(step.checks, 1)
        ]
        outcomes.append(StepOutcome(
            step=index + 1, title=step.title, solved=solved, seconds=state.step_seconds.get(index),
            hints=state.hints_shown.get(index, 0), reveals=len(state.reveals.get(index, [])),
            solution_viewed=index in state.solutions_shown, checks=checks,
        ))
    return Attempt(
        scenario=state.scenario_id,
        title=scenario.title,
        domain=scenario.domain,
        variant=state.variant,
        seed=state.seed,
        started_at=state.started_at,
        ended_at=now,
        finished=bool(state.finished),
        steps=step_count,
        steps_done=steps_done,
        seconds=sum(state.step_seconds.values()) if state.finished else max(0.0, now - state.started_at),
        hints=sum(state.hints_shown.values()),
        reveals=sum(len(v) for v in state.reveals.values()),
        solutions=len(state.solutions_shown),
        step_outcomes=outcomes,
    )
