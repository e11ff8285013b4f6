"""The checks panel: what must become true in the current step, pending / failing / passed.
Diagnostic checks stay locked until they pass or are revealed; hidden ones are only counted
(see lab.checks.presentation)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from lab.checks.presentation import ShownCheck, present
from lab.checks.result import CheckResult


class ChecksPanel(Static):
    """Renders the check rows; the session screen feeds it specs and results."""

    def __init__(self, **kwargs):
        super().__init__("", **kwargs)
        self.rows: list[ShownCheck] = []
        self.held_back = ""
        self.results: list[CheckResult] = []
        self.note = ""

    def show_pending(self, specs: list, revealed: set[int] = frozenset(), step_over: bool = False) -> None:
        self.results = []
        self.rows, self.held_back = present(specs, None, revealed, step_over=step_over)
        self._render_rows()

    def show_results(
        self, specs: list, results: list[tuple[str, CheckResult]], revealed: set[int] = frozenset(), step_over: bool = False
    ) -> None:
        self.results = [r for _, r in results]
        self.rows, self.held_back = present(specs, self.results, revealed, step_over=step_over)
        self._render_rows()

    def set_note(self, note: str) -> None:
        self.note = note
        self._render_rows()

    @property
    def all_passed(self) -> bool:
        """Every check passed, the hidden ones included."""
        return bool(self.results) and all(r.passed for r in self.results)

    def _render_rows(self) -> None:
        text = Text()
        marks = {
            "pending": ("○ ", "dim"),
            "failing": ("✘ ", "bold #d97b66"),
            "passed": ("✔ ", "bold #8fbf7f"),
            "locked": ("? ", "bold #d9b866"),
        }
        for row in self.rows:
            mark, style = marks[row.status]
            text.append(mark, style=style)
            text.append(row.text + "\n", style="dim" if row.status in ("pending", "locked") else "")
        if self.held_back:
            text.append(self.held_back + "\n", style="dim")
        if self.note:
            text.append("\n" + self.note, style="dim italic")
        self.update(text)
