"""The scenario browser: the catalog with the trainee's last results, filters, and start."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Label, Select, Static

from lab.errors import LabError
from lab.scenario import loader
from lab.scenario.models import Scenario
from tui.modals import ConfirmModal, ProgressModal

ALL_DOMAINS = "all"

# The curriculum's domain names are long; the table shows the part a trainee recognises.
SHORT_DOMAIN = {
    "Cluster Architecture, Installation and Configuration": "Cluster Architecture",
    "Services and Networking": "Services & Networking",
    "Workloads and Scheduling": "Workloads & Scheduling",
}


@dataclass(frozen=True)
class CatalogEntry:
    path: Path
    scenario: Scenario

    def matches(self, text: str, domain: str) -> bool:
        if domain != ALL_DOMAINS and self.scenario.domain != domain:
            return False
        haystack = " ".join([self.scenario.id, self.scenario.title, self.scenario.summary, self.scenario.domain]).lower()
        return all(word in haystack for word in text.lower().split())


def load_catalog() -> tuple[list[CatalogEntry], list[str]]:
    """Every valid scenario of the catalog, plus the problems of the invalid ones."""
    entries, problems = [], []
    for path in loader.catalog().values():
        try:
            entries.append(CatalogEntry(path, loader.load_file(path)))
        except LabError as exc:
            problems.append(exc.message)
    return entries, problems


def steps_of(scenario: Scenario) -> str:
    """Step count; "1–3" when the variants differ."""
    counts = sorted({len(v.steps) for v in scenario.variants}) or [len(scenario.steps)]
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"


class ScenarioTable(DataTable):
    """The catalog table; its Enter binding is labelled for the footer."""

    BINDINGS = [Binding("enter", "select_cursor", "Start")]


class BrowserScreen(Screen):
    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("d", "next_domain", "Domain"),
        Binding("r", "resume", "Resume session"),
        Binding("t", "record", "Training record"),
        Binding("x", "exam", "Mock exam"),
        Binding("escape", "focus_table", "Back to list", show=False),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, catalog: list[CatalogEntry]):
        super().__init__()
        self.catalog = sorted(catalog, key=lambda e: (e.scenario.domain, e.scenario.id))
        self.shown_entries: list[CatalogEntry] = []
        domains = sorted({e.scenario.domain for e in self.catalog})
        self.domain_options = [ALL_DOMAINS, *domains]

    def compose(self) -> ComposeResult:
        yield Label("cka-lab · CKA troubleshooting practice", id="app-title")
        yield Static("", id="session-banner")
        with Horizontal(id="filters"):
            yield Input(placeholder="/ search scenarios", id="search")
            yield Select(
                [("All domains", ALL_DOMAINS), *[(SHORT_DOMAIN.get(d, d), d) for d in self.domain_options[1:]]],
                value=ALL_DOMAINS,
                allow_blank=False,
                id="domain",
            )
        table = ScenarioTable(id="scenarios", cursor_type="row")
        table.add_columns("Scenario", "Domain", "Level", "Steps", "Var", "Last result")
        yield table
        yield Static("", id="scenario-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_table()
        self.query_one("#scenarios", DataTable).focus()

    def on_screen_resume(self) -> None:
        # back from a session: its result and the running-session banner may have changed
        self.refresh_table()

    # --- table ---------------------------------------------------------------------------------

    def refresh_table(self) -> None:
        text = self.query_one("#search", Input).value
        domain = self.query_one("#domain", Select).value
        results = self.app.results.load()
        table = self.query_one("#scenarios", DataTable)
        table.clear()
        self.shown_entries = [e for e in self.catalog if e.matches(text, str(domain))]
        for entry in self.shown_entries:
            s = entry.scenario
            last = results.get(s.id)
            table.add_row(
                s.title,
                SHORT_DOMAIN.get(s.domain, s.domain),
                s.difficulty,
                steps_of(s),
                str(len(s.variants)) if s.variants else "—",
                last.describe() if last else "not tried",
                key=s.id,
            )
        self._show_detail()
        self._show_session_banner()

    def _show_session_banner(self) -> None:
        state = self.app.lab.state()
        banner = self.query_one("#session-banner", Static)
        if state is None:
            banner.update("")
            banner.display = False
            return
        banner.display = True
        if state.finished:
            banner.update(f"You finished {state.scenario_id}; its faults are still in place — r: summary and reset.")
        else:
            banner.update(f"A session of {state.scenario_id} is running (step {state.step + 1}) — r: resume it.")

    def _current(self) -> CatalogEntry | None:
        table = self.query_one("#scenarios", DataTable)
        if not self.shown_entries or table.cursor_row < 0 or table.cursor_row >= len(self.shown_entries):
            return None
        return self.shown_entries[table.cursor_row]

    def _show_detail(self) -> None:
        entry = self._current()
        detail = self.query_one("#scenario-detail", Static)
        if entry is None:
            detail.update("No scenario matches the filter." if self.catalog else "The catalog is empty.")
            return
        s = entry.scenario
        limit = f" · {s.time_limit_minutes} min limit" if s.time_limit_minutes else ""
        # variants are named by number: their titles name the fault
        variants = f" · {len(s.variants)} variants, picked at random" if s.variants else ""
        detail.update(f"[b]{s.id}[/b] · {s.domain}{limit}{variants}\n{s.summary}")

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_start()

    def on_input_changed(self, _: Input.Changed) -> None:
        self.refresh_table()

    def on_input_submitted(self, _: Input.Submitted) -> None:
        self.action_focus_table()

    def on_select_changed(self, _: Select.Changed) -> None:
        self.refresh_table()

    # --- actions -------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_table(self) -> None:
        self.query_one("#scenarios", DataTable).focus()

    def action_next_domain(self) -> None:
        select = self.query_one("#domain", Select)
        index = self.domain_options.index(str(select.value)) if select.value in self.domain_options else 0
        select.value = self.domain_options[(index + 1) % len(self.domain_options)]

    def action_resume(self) -> None:
        from tui.screens.session import SessionScreen

        if self.app.lab.state() is None:
            self.notify("No session is running; pick a scenario and press Enter.")
            return
        self.app.push_screen(SessionScreen())

    def action_exam(self) -> None:
        """Start a mock exam (or go back to the running one)."""
        from tui.screens.exam import ExamResultScreen, ExamScreen

        exam = self.app.exam
        if exam is None:
            return
        state = exam.state()
        if state is not None:
            self.app.push_screen(ExamResultScreen() if state.ended_at is not None else ExamScreen())
            return
        self.app.push_screen(
            ConfirmModal("Start a mock exam?", "Tasks across the CKA domains in one cluster, 120 minutes, graded once at "
                         "the end against the 66 % pass mark. A running practice session is undone first.", "Start"),
            lambda yes: self.begin_exam() if yes else None,
        )

    def begin_exam(self) -> None:
        modal = ProgressModal("Preparing the exam", note="Drawing the tasks, then putting every task's faults in.")
        self.app.busy = "preparing the exam"
        self.app.push_screen(modal)
        self._exam_worker(modal)

    @work(thread=True, exit_on_error=False, group="engine")
    def _exam_worker(self, modal: ProgressModal) -> None:
        exam = self.app.exam
        try:
            seed, drawn = exam.plan(16, None)
            exam.start(drawn, seed=seed, minutes=120, progress=lambda line: self.app.from_thread(modal.add_line, line))
        except BaseException as exc:
            self.app.from_thread(self._exam_failed, modal, exc)
            return
        self.app.from_thread(self._exam_ready, modal)

    def _exam_ready(self, modal: ProgressModal) -> None:
        from tui.screens.exam import ExamScreen

        self.app.busy = None
        modal.dismiss()
        self.app.push_screen(ExamScreen())

    def _exam_failed(self, modal: ProgressModal, exc: BaseException) -> None:
        self.app.busy = None
        modal.dismiss()
        self.app.show_error(exc)

    def action_record(self) -> None:
        from tui.screens.stats import StatsScreen

        self.app.push_screen(StatsScreen(self.app.results.record))

    def start_by_id(self, scenario_id: str) -> None:
        """Select a scenario in the table (clearing the filters) and start it."""
        self.query_one("#search", Input).value = ""
        self.query_one("#domain", Select).value = ALL_DOMAINS
        self.refresh_table()
        ids = [e.scenario.id for e in self.shown_entries]
        if scenario_id not in ids:
            self.notify(f"{scenario_id} is not in the catalog any more.", severity="warning")
            return
        self.query_one("#scenarios", DataTable).move_cursor(row=ids.index(scenario_id))
        self.action_start()

    def action_start(self) -> None:
        entry = self._current()
        if entry is None:
            return
        if not self._trusted(entry):
            return
        state = self.app.lab.state()
        if state is None or state.finished:
            self.begin_start(entry)
            return
        self.app.push_screen(
            ConfirmModal(
                "Replace the running session?",
                f"A session of {state.scenario_id} is at step {state.step + 1}. Starting "
                f"{entry.scenario.id} first undoes its faults.",
                confirm_label="Start",
            ),
            lambda yes: self.begin_start(entry) if yes else None,
        )

    def _trusted(self, entry: CatalogEntry) -> bool:
        """True when the entry's file may run; else ask (the answer starts it when trusted)."""
        from lab import trust

        try:
            data = entry.path.read_bytes()
        except OSError as exc:
            self.notify(f"cannot read {entry.path}: {exc.strerror}", severity="error")
            return False
        if trust.is_trusted(entry.path, data):
            return True
        powers = "\n".join(f"• {line}" for line in trust.what_it_may_do(entry.scenario))

        def answered(yes: bool | None) -> None:
            if yes:
                trust.trust(entry.path, data)
                self.action_start()

        self.app.push_screen(
            ConfirmModal(
                "Trust this scenario file?",
                f"{entry.path} is not part of cka-lab. A scenario file acts as root on the lab's nodes; "
                f"this one:\n{powers}\nTrust it only if you have read it. An edit needs trusting again.",
                confirm_label="Trust and start",
            ),
            answered,
        )
        return False

    # --- starting a scenario -------------------------------------------------------------------

    def begin_start(self, entry: CatalogEntry) -> None:
        cancel = threading.Event()

        def request_cancel() -> None:
            cancel.set()
            modal.set_note("Cancelling: stopping at the next safe point, then undoing what was injected…")

        modal = ProgressModal(
            f"Starting {entry.scenario.title}",
            on_cancel=request_cancel,
            note="Creating or reusing the lab cluster, then injecting step 1. This can take a few minutes.",
        )
        self.app.busy = "starting a scenario"
        self.app.on_quit_requested = cancel.set
        self.app.push_screen(modal)
        self._start_worker(entry, modal, cancel)

    @work(thread=True, exit_on_error=False, group="engine")
    def _start_worker(self, entry: CatalogEntry, modal: ProgressModal, cancel: threading.Event) -> None:
        from lab.session import StartCancelled

        lab, app = self.app.lab, self.app

        def show(line: str) -> None:
            app.from_thread(modal.add_line, line)

        try:
            # lab.start stops at its next safe point once `cancel` is set, undoing what it injected
            lab.start(entry.scenario, entry.path, show, cancel=cancel)
        except StartCancelled:
            pass
        except BaseException as exc:
            if not cancel.is_set():
                app.from_thread(self._start_failed, modal, exc)
                return
        if not cancel.is_set():
            app.from_thread(self._start_done, modal)
            return
        # Cancelled: whatever point start reached, leave the cluster at its baseline.
        show("cancelled: undoing everything this start injected")
        try:
            undone = lab.reset(show)
        except BaseException as exc:
            app.from_thread(self._start_failed, modal, exc, "Faults may still be in place: run `cka-lab reset`.")
            return
        app.from_thread(self._start_cancelled, modal, undone)

    def _operation_over(self, modal: ProgressModal) -> None:
        self.app.busy = None
        self.app.on_quit_requested = None
        modal.dismiss()

    def _start_done(self, modal: ProgressModal) -> None:
        from tui.screens.session import SessionScreen

        self._operation_over(modal)
        self.app.push_screen(SessionScreen())

    def _start_failed(self, modal: ProgressModal, exc: BaseException, hint: str | None = None) -> None:
        self._operation_over(modal)
        self.refresh_table()
        self.app.show_error(exc, hint=hint)

    def _start_cancelled(self, modal: ProgressModal, undone: int) -> None:
        self._operation_over(modal)
        self.refresh_table()
        self.notify(f"Start cancelled; {undone} change(s) undone, the cluster is at its baseline.", title="Cancelled")
