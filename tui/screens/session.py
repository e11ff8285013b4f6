"""The practice session: task, timer, hints, and checks that re-run in the background.

Check runs and step changes go through thread workers; only one engine operation touches the
cluster at a time (a check run is skipped while another one, or a step change, is under way)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Markdown, Static

from tui.modals import ConfirmModal, ProgressModal, TextModal
from lab.timefmt import duration
from tui.widgets.checks import ChecksPanel


class SessionScreen(Screen):
    BINDINGS = [
        Binding("c", "check", "Check now"),
        Binding("h", "hint", "Hint"),
        Binding("v", "reveal", "Reveal a check"),
        Binding("s", "solution", "Solution"),
        Binding("k", "shell", "kubectl shell"),
        Binding("n", "node_shell", "Node shell"),
        Binding("r", "reset", "Reset"),
        Binding("b", "browser", "Scenarios"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self):
        super().__init__()
        self.state = None
        self.scenario = None
        self.checks_running = False
        self.shown_step = -1
        self.auto_advance_paused = False
        """Set when moving to the next step failed: retrying every few seconds would pile up
        error dialogs, so only an explicit check (c) tries again."""

    def compose(self) -> ComposeResult:
        with Horizontal(id="session-bar"):
            yield Static("", id="session-title")
            yield Static("", id="session-timer")
        with Horizontal(id="session-body"):
            with VerticalScroll(id="task-pane"):
                yield Markdown("", id="task")
                yield Markdown("", id="help-notes")
            with Vertical(id="checks-pane"):
                yield Label("Checks", classes="pane-title")
                yield ChecksPanel(id="checks")
        yield Footer()

    def on_mount(self) -> None:
        if not self.reload_state():
            return
        if self.state.finished:
            self.show_summary()
            return
        self.show_step()
        self.set_interval(1, self.update_timer)
        self.set_interval(self.app.check_interval, self.check_in_background)
        # the first grade at once, but not of on-demand checks: those run only when asked
        self.call_after_refresh(lambda: self.run_checks(manual=True, periodic=True))

    @property
    def lab(self):
        return self.app.lab

    def reload_state(self) -> bool:
        """Re-read the session (a small JSON file); leave the screen if there is none."""
        self.state = self.lab.state()
        if self.state is None:
            self.notify("No session is running.", severity="warning")
            self.app.pop_screen()
            return False
        self.scenario = self.lab.scenario()
        return True

    # --- display -------------------------------------------------------------------------------

    def show_step(self) -> None:
        step = self.scenario.steps[self.state.step]
        self.shown_step = self.state.step
        self.query_one("#task", Markdown).update(f"## {step.title}\n\n{step.task}")
        self.query_one("#checks", ChecksPanel).show_pending(step.checks, self.revealed(), self.step_over())
        self.show_help_notes()
        self.update_timer()

    def revealed(self) -> set[int]:
        return set(self.state.reveals.get(self.state.step, [])) if hasattr(self.state, "reveals") else set()

    def step_over(self) -> bool:
        """Once its solution was viewed, a step has nothing left to hide."""
        return self.state.step in self.state.solutions_shown

    def show_help_notes(self) -> None:
        step = self.scenario.steps[self.state.step]
        parts = []
        hints = self.lab.shown_hints()
        if hints:
            parts.append("### Hints\n\n" + "\n".join(f"{n}. {text}" for n, text in enumerate(hints, 1)))
        if self.state.step in self.state.solutions_shown:
            parts.append("### Solution\n\n" + step.solution)
        self.query_one("#help-notes", Markdown).update("\n\n".join(parts))

    def update_timer(self) -> None:
        if self.state is None:
            return
        step = self.scenario.steps[self.state.step]
        now = self.app.clock()
        hints_used = self.state.hints_shown.get(self.state.step, 0)
        self.query_one("#session-title", Static).update(
            f"[b]{self.scenario.title}[/b] · step {self.state.step + 1} of {len(self.scenario.steps)}"
            f" · hints {hints_used}/{len(step.hints)}"
            + (" · solution viewed" if self.state.step in self.state.solutions_shown else "")
        )
        elapsed = now - self.state.started_at
        timer = f"elapsed {duration(elapsed)}"
        if self.scenario.time_limit_minutes:
            left = self.scenario.time_limit_minutes * 60 - elapsed
            timer += f"  ·  left {duration(left)}" if left >= 0 else f"  ·  [b]over by {duration(-left)}[/b]"
        self.query_one("#session-timer", Static).update(timer)
        self.query_one("#session-timer").set_class(
            bool(self.scenario.time_limit_minutes) and elapsed > self.scenario.time_limit_minutes * 60, "overtime"
        )

    # --- checks --------------------------------------------------------------------------------

    def check_in_background(self) -> None:
        self.run_checks(manual=False)

    def action_check(self) -> None:
        self.run_checks(manual=True)

    def run_checks(self, manual: bool, periodic: bool | None = None) -> None:
        """Grade in a worker. `manual`: the trainee asked (errors open a modal); `periodic`
        (default: not manual) leaves the on-demand checks unrun."""
        if self.checks_running or self.app.busy or self.state is None or self.state.finished:
            return
        if not self.is_current:
            return  # a modal or another screen is on top: it decides when grading makes sense
        self.checks_running = True
        self.query_one("#checks", ChecksPanel).set_note("checking…")
        self._checks_worker(self.state.step, manual, not manual if periodic is None else periodic)

    @work(thread=True, exit_on_error=False, group="checks")
    def _checks_worker(self, step: int, manual: bool, periodic: bool) -> None:
        try:
            current = self.lab.state()
            if current is None or current.step != step or current.finished:
                # another cka-lab process (a `cka-lab check` in another terminal) moved the session
                self.app.from_thread(self._session_moved)
                return
            results = self.lab.run_checks(periodic=periodic)
        except BaseException as exc:
            self.app.from_thread(self._checks_failed, exc, manual)
            return
        self.app.from_thread(self._checks_done, step, results, manual)

    def _session_moved(self) -> None:
        self.checks_running = False
        if self.app.busy or not self.reload_state():
            return
        if self.state.finished:
            self.show_summary()
            return
        self.notify("The session moved on in another terminal.", title="Step changed")
        self.show_step()

    def _checks_done(self, step: int, results, manual: bool) -> None:
        self.checks_running = False
        if step != self.shown_step or self.app.busy:
            return  # the step changed while the checks ran; these results are stale
        panel = self.query_one("#checks", ChecksPanel)
        panel.show_results(self.scenario.steps[step].checks, results, self.revealed(), self.step_over())
        panel.set_note(f"re-checked every {self.app.check_interval:g} s · c: check now")
        if results and panel.all_passed and (manual or not self.auto_advance_paused):
            self.auto_advance_paused = False
            self.begin_advance(manual)

    def _checks_failed(self, exc: BaseException, manual: bool) -> None:
        self.checks_running = False
        from tui.app import describe_error

        title, message, _ = describe_error(exc)
        self.query_one("#checks", ChecksPanel).set_note(f"could not run the checks: {title}")
        if manual:
            self.app.show_error(exc)

    # --- next step -----------------------------------------------------------------------------

    def begin_advance(self, manual: bool = True) -> None:
        number = self.state.step + 1
        last = number >= len(self.scenario.steps)
        modal = ProgressModal(
            f"Step {number} solved — " + ("finishing" if last else f"preparing step {number + 1}"),
            note="" if last else "Injecting the next step's faults; this can take a minute.",
        )
        self.app.busy = "finishing the scenario" if last else "injecting the next step's faults"
        self.app.push_screen(modal)
        self._advance_worker(modal, manual)

    @work(thread=True, exit_on_error=False, group="engine")
    def _advance_worker(self, modal: ProgressModal, manual: bool) -> None:
        from lab.errors import LabBusy

        try:
            # the automatic re-check never queues behind another cka-lab process: it skips
            # this round and says so; an explicit check waits a little for its turn
            passed = self.lab.advance(lambda line: self.app.from_thread(modal.add_line, line), wait=30 if manual else 0)
        except LabBusy as exc:
            self.app.from_thread(self._advance_skipped, modal, exc)
            return
        except BaseException as exc:
            self.app.from_thread(self._advance_failed, modal, exc)
            return
        self.app.from_thread(self._advance_done, modal, passed)

    def _advance_skipped(self, modal: ProgressModal, exc) -> None:
        self.app.busy = None
        modal.dismiss()
        self.query_one("#checks", ChecksPanel).set_note(f"{exc.message}; checking again shortly")

    def _advance_done(self, modal: ProgressModal, passed: bool) -> None:
        self.app.busy = None
        modal.dismiss()
        solved = self.state.step + 1
        if not self.reload_state():
            return
        if self.state.finished:
            self.show_summary()
            return
        if passed:
            self.notify(f"Step {solved} solved.", title="Well done")
            self.show_step()
        # the first grade at once, but not of on-demand checks: those run only when asked
        self.call_after_refresh(lambda: self.run_checks(manual=True, periodic=True))

    def _advance_failed(self, modal: ProgressModal, exc: BaseException) -> None:
        self.app.busy = None
        self.auto_advance_paused = True
        modal.dismiss()
        self.reload_state()
        self.app.show_error(exc, hint="The next step may be half-injected: press r to reset, or run `cka-lab reset`.")

    def show_summary(self) -> None:
        from tui.screens.summary import SummaryScreen

        self.app.switch_screen(SummaryScreen(self.state, self.scenario))

    # --- help ----------------------------------------------------------------------------------

    def action_hint(self) -> None:
        if self.state is None or self.state.finished:
            return
        revealed = self.lab.reveal_hint()
        total = len(self.scenario.steps[self.state.step].hints)
        if revealed is None:
            self.notify("No more hints for this step." if total else "This step has no hints.")
            return
        self.reload_state()
        self.show_help_notes()
        self.update_timer()
        self.notify(f"Hint {revealed[0]}/{total} shown below the task.")

    def action_reveal(self) -> None:
        if self.state is None or self.state.finished:
            return
        shown = self.lab.reveal_check()
        if shown is None:
            self.notify("No locked diagnostic check in this step.")
            return
        self.reload_state()
        panel = self.query_one("#checks", ChecksPanel)
        specs = self.scenario.steps[self.state.step].checks
        if panel.results:
            panel.show_results(specs, [(s.type, r) for s, r in zip(specs, panel.results, strict=True)], self.revealed(),
                               self.step_over())
        else:
            panel.show_pending(specs, self.revealed(), self.step_over())
        self.notify(f"Check {shown} revealed (counted in your record).")

    def action_solution(self) -> None:
        if self.state is None or self.state.finished:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            solution = self.lab.reveal_solution()
            self.reload_state()
            self.show_help_notes()
            self.update_timer()
            panel = self.query_one("#checks", ChecksPanel)
            specs = self.scenario.steps[self.state.step].checks
            if panel.results:
                panel.show_results(specs, [(s.type, r) for s, r in zip(specs, panel.results, strict=True)],
                                   self.revealed(), self.step_over())
            self.app.push_screen(TextModal(f"Solution of step {self.state.step + 1}", solution))

        if self.state.step in self.state.solutions_shown:
            answered(True)  # already counted; no need to ask again
            return
        self.app.push_screen(
            ConfirmModal("Show the solution?", "Viewing the solution is counted in your summary.", "Show"),
            answered,
        )

    # --- shells --------------------------------------------------------------------------------

    def action_shell(self) -> None:
        self.app.open_kubectl_shell()
        self.action_check()  # the trainee probably changed something

    def action_node_shell(self) -> None:
        self.app.choose_node_shell(after=self.action_check)  # the trainee probably changed something

    # --- leaving -------------------------------------------------------------------------------

    def action_reset(self) -> None:
        self.app.confirm_reset(after=self.app.pop_screen)

    def action_browser(self) -> None:
        self.app.pop_screen()
