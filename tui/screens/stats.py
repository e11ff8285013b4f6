"""The training record screen: per CKA domain, attempts, success rate (as bars), median time and
trend, the time of recent attempts as a sparkline, and what to practise next (p starts it)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Sparkline, Static

from lab.record import TrainingRecord
from lab.timefmt import duration

BAR_WIDTH = 20


def success_bar(rate: float) -> Text:
    filled = round(rate * BAR_WIDTH)
    return Text.assemble(("█" * filled, "#8fbf7f"), ("░" * (BAR_WIDTH - filled), "dim"), f" {rate:.0%}")


class StatsScreen(Screen):
    BINDINGS = [
        Binding("p", "practise_weakest", "Practise the weakest"),
        Binding("escape,b", "app.pop_screen", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, record: TrainingRecord):
        super().__init__()
        self.record = record
        self.weakest: list[tuple[str, float, int]] = []

    def compose(self) -> ComposeResult:
        yield Label("Training record", id="app-title")
        table = DataTable(id="domains", cursor_type="row")
        table.add_columns("Domain", "Attempts", "Success", "Median time", "Trend")
        yield table
        yield Label("Time of your last attempts (oldest left)", classes="pane-title")
        yield Sparkline([], id="recent")
        yield Static("", id="weakest")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#domains", DataTable)
        stats = self.record.domain_stats()
        for s in stats:
            trend = "—" if s.trend is None else f"{s.trend:+.0%}"
            median = "—" if s.median_seconds is None else duration(s.median_seconds)
            table.add_row(s.domain, str(s.attempts), success_bar(s.success_rate), median, trend)
        recent = list(reversed(self.record.attempts(limit=30)))
        self.query_one("#recent", Sparkline).data = [a.seconds for a in recent]
        self.weakest = self.record.weakest()
        note = self.query_one("#weakest", Static)
        if not stats:
            note.update("No attempts yet: pick a scenario in the browser and press Enter.")
        else:
            picks = ", ".join(f"{name} ({rate:.0%} of {count})" for name, rate, count in self.weakest)
            note.update(f"Practise next: {picks}\n[dim]success = solved without viewing the solution · "
                        "p: start the first one[/dim]")

    def action_practise_weakest(self) -> None:
        if not self.weakest:
            self.notify("No attempts yet.")
            return
        name = self.weakest[0][0]
        self.app.pop_screen()
        browser = self.app.screen
        if hasattr(browser, "start_by_id"):
            browser.start_by_id(name)
