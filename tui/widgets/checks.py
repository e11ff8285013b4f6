"""The checks panel: one row per check of the current step, pending / failing / passed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from lab.checks.result import CheckResult

PENDING, FAILING, PASSED = "pending", "failing", "passed"


def describe_check(spec) -> str:
    """A pending check, before any result: its type and the parameters that identify it."""
    params = spec.model_dump(exclude={"type"}, exclude_defaults=True)
    detail = ", ".join(f"{key}={value}" for key, value in params.items())
    return f"{spec.type} ({detail})" if detail else spec.type


class ChecksPanel(Static):
    """Renders the check rows; the session screen feeds it specs and results."""

    def __init__(self, **kwargs):
        super().__init__("", **kwargs)
        self.rows: list[tuple[str, str]] = []  # (status, text)
        self.note = ""

    def show_pending(self, specs: list) -> None:
        self.rows = [(PENDING, describe_check(spec)) for spec in specs]
        self._render_rows()

    def show_results(self, results: list[tuple[str, CheckResult]]) -> None:
        self.rows = [(PASSED if r.passed else FAILING, r.message or check_type) for check_type, r in results]
        self._render_rows()

    def set_note(self, note: str) -> None:
        self.note = note
        self._render_rows()

    @property
    def all_passed(self) -> bool:
        return bool(self.rows) and all(status == PASSED for status, _ in self.rows)

    def _render_rows(self) -> None:
        text = Text()
        marks = {PENDING: ("○ ", "dim"), FAILING: ("✘ ", "bold #d97b66"), PASSED: ("✔ ", "bold #8fbf7f")}
        for status, message in self.rows:
            mark, style = marks[status]
            text.append(mark, style=style)
            text.append(message + "\n", style="dim" if status == PENDING else "")
        if self.note:
            text.append("\n" + self.note, style="dim italic")
        self.update(text)
