"""The end of a scenario: time per step, hints and solutions used."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from lab.timefmt import duration


class SummaryScreen(Screen):
    BINDINGS = [
        Binding("r", "reset", "Reset the cluster"),
        Binding("b,escape", "browser", "Scenarios"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, state, scenario):
        super().__init__()
        self.state = state
        self.scenario = scenario

    def compose(self) -> ComposeResult:
        total = sum(self.state.step_seconds.values())
        hints = sum(self.state.hints_shown.values())
        solutions = len(self.state.solutions_shown)
        limit = self.scenario.time_limit_minutes
        verdict = ""
        if limit:
            verdict = "  ·  within the time limit" if total <= limit * 60 else f"  ·  over the {limit} min limit"
        yield Label(f"{self.scenario.title} — complete", id="summary-title")
        yield Static(
            f"Solved {len(self.scenario.steps)} steps in {duration(total)}{verdict}  ·  "
            f"hints used {hints}  ·  solutions viewed {solutions}",
            id="summary-line",
        )
        table = DataTable(id="summary-table", cursor_type="none")
        table.add_columns("Step", "Title", "Time", "Hints", "Solution")
        for index, step in enumerate(self.scenario.steps):
            table.add_row(
                str(index + 1),
                step.title,
                duration(self.state.step_seconds.get(index, 0)),
                str(self.state.hints_shown.get(index, 0)),
                "viewed" if index in self.state.solutions_shown else "—",
            )
        yield table
        yield Static(
            "The faults of this scenario are still in place: press r to reset the cluster to its baseline.",
            id="summary-note",
        )
        yield Footer()

    def action_reset(self) -> None:
        self.app.confirm_reset(after=self.app.pop_screen)

    def action_browser(self) -> None:
        self.app.pop_screen()
