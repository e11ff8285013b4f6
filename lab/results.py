"""The trainee's last result per scenario, shown in the browser.

A small JSON file in the engine's state directory; one entry per scenario, overwritten each time
a scenario ends (finished, or abandoned by a reset). The engine records it, whichever front end
(the TUI, `cka-lab check`, `cka-lab reset`) ended the scenario."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from lab.atomic import write_atomic
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

    def describe(self) -> str:
        if not self.finished:
            return f"stopped at step {self.steps_done + 1}/{self.steps}"
        extras = []
        if self.hints:
            extras.append(f"{self.hints} hint{'s' * (self.hints != 1)}")
        if self.solutions:
            extras.append(f"{self.solutions} solution{'s' * (self.solutions != 1)}")
        return "✔ " + " · ".join([duration(self.seconds), *extras])


class ResultsStore:
    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / "results.json"

    def load(self) -> dict[str, LastResult]:
        try:
            raw = json.loads(self.path.read_text())
            return {scenario_id: LastResult(**entry) for scenario_id, entry in raw.items()}
        except (OSError, ValueError, TypeError):
            # a missing or damaged file only costs the history column, never the session
            return {}

    def record(self, scenario_id: str, result: LastResult) -> None:
        results = self.load()
        results[scenario_id] = result
        write_atomic(self.path, json.dumps({k: asdict(v) for k, v in results.items()}, indent=1))


def result_from_state(state, step_count: int, now: float) -> LastResult:
    """Summarise a SessionState (finished or abandoned) for the results file."""
    steps_done = len(state.step_seconds) if not state.finished else step_count
    return LastResult(
        finished=bool(state.finished),
        steps_done=steps_done,
        steps=step_count,
        seconds=sum(state.step_seconds.values()) if state.finished else max(0.0, now - state.started_at),
        hints=sum(state.hints_shown.values()),
        solutions=len(state.solutions_shown),
        ended_at=now,
    )
