"""The exam screens. While the exam runs: the task list (flags, jump), a countdown, the task text
with the context to use, the kubectl and node shells — and no grading at all. At the end (asked
for, or when time is up): every task graded once, the score against the pass mark, per task and
per domain, each missed check with what it wanted; then the review."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from lab.timefmt import duration
from tui.modals import ConfirmModal, ProgressModal


class ExamScreen(Screen):
    BINDINGS = [
        Binding("f", "flag", "Flag"),
        Binding("k", "shell", "kubectl shell"),
        Binding("n", "node_shell", "Node shell"),
        Binding("e", "end", "End exam"),
        Binding("q", "app.quit", "Quit (exam keeps running)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state = None
        self.current = 1
        self.shown_since = 0.0
        self.ending = False

    @property
    def exam(self):
        return self.app.exam

    def compose(self) -> ComposeResult:
        with Horizontal(id="session-bar"):
            yield Static("", id="exam-title")
            yield Static("", id="exam-timer")
        with Horizontal(id="session-body"):
            yield OptionList(id="exam-tasks")
            with VerticalScroll(id="task-pane"):
                yield Static("", id="exam-context")
                yield Markdown("", id="exam-task")
        yield Footer()

    def on_mount(self) -> None:
        self.state = self.exam.require()
        self.shown_since = self.app.clock()
        self.refresh_tasks()
        self.show_task(1)
        self.update_timer()
        self.set_interval(1, self.update_timer)
        self.query_one("#exam-tasks", OptionList).focus()

    def on_unmount(self) -> None:
        if not self.ending:
            self._count_time()  # quitting: the shown task's time still counts

    # --- display -------------------------------------------------------------------------------

    def title_of(self, task) -> str:
        return self.exam.task_scenario(task).steps[0].title

    def refresh_tasks(self) -> None:
        tasks = self.query_one("#exam-tasks", OptionList)
        highlighted = tasks.highlighted
        tasks.clear_options()
        for task in self.state.tasks:
            flag = "⚑ " if task.flagged else "  "
            tasks.add_option(Option(f"{flag}{task.number:>2}. {self.title_of(task)}  ({task.points} pts)", id=str(task.number)))
        tasks.highlighted = highlighted if highlighted is not None else 0

    def show_task(self, number: int) -> None:
        self._count_time()
        self.current = number
        task = self.state.tasks[number - 1]
        step = self.exam.task_scenario(task).steps[0]
        self.query_one("#exam-context", Static).update(
            f"[b]Task {task.number} of {len(self.state.tasks)}[/b] · {task.points} points · {task.domain}\n"
            f"Use the context [b]{task.context}[/b]: kubectl config use-context {task.context}"
        )
        self.query_one("#exam-task", Markdown).update(f"## {step.title}\n\n{step.task}")

    def _count_time(self) -> None:
        """Add the time the shown task was on screen to it (kept in the exam file)."""
        now = self.app.clock()
        spent, self.shown_since = now - self.shown_since, now
        if self.state is not None and spent > 0:
            try:
                self.exam.add_time(self.current, spent)
            except Exception:  # noqa: BLE001 - time per task is for the review only
                pass

    def update_timer(self) -> None:
        if self.state is None:
            return
        left = self.state.left(self.app.clock())
        flagged = sum(t.flagged for t in self.state.tasks)
        self.query_one("#exam-title", Static).update(
            f"[b]Mock CKA exam[/b] · {len(self.state.tasks)} tasks · {flagged} flagged · no grading until the end"
        )
        self.query_one("#exam-timer", Static).update(f"left {duration(max(left, 0))}")
        self.query_one("#exam-timer").set_class(left < 15 * 60, "overtime")
        if left <= 0 and not self.ending:
            self.notify("Time is up: every task is graded now.", title="Exam over")
            self.begin_end()

    # --- keys ----------------------------------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None and int(event.option.id) != self.current:
            self.show_task(int(event.option.id))

    def action_flag(self) -> None:
        flagged = self.exam.flag(self.current)
        self.state = self.exam.require()
        self.refresh_tasks()
        self.update_timer()
        self.notify(f"Task {self.current} {'flagged' if flagged else 'unflagged'}.")

    def action_shell(self) -> None:
        self.app.open_kubectl_shell()

    def action_node_shell(self) -> None:
        self.app.choose_node_shell()

    def action_end(self) -> None:
        flagged = [str(t.number) for t in self.state.tasks if t.flagged]
        note = f" Flagged: task {', '.join(flagged)}." if flagged else ""
        self.app.push_screen(
            ConfirmModal("End the exam?", f"Every task is graded once, now; nothing can be changed after.{note}", "End"),
            lambda yes: self.begin_end() if yes else None,
        )

    def begin_end(self) -> None:
        self.ending = True
        self._count_time()
        modal = ProgressModal("Grading the exam", note="Every task's checks run once.")
        self.app.busy = "grading the exam"
        self.app.push_screen(modal)
        self._end_worker(modal)

    @work(thread=True, exit_on_error=False, group="engine")
    def _end_worker(self, modal: ProgressModal) -> None:
        try:
            self.exam.end(lambda line: self.app.from_thread(modal.add_line, line))
        except BaseException as exc:
            self.app.from_thread(self._end_failed, modal, exc)
            return
        self.app.from_thread(self._ended, modal)

    def _ended(self, modal: ProgressModal) -> None:
        self.app.busy = None
        modal.dismiss()
        self.app.switch_screen(ExamResultScreen())

    def _end_failed(self, modal: ProgressModal, exc: BaseException) -> None:
        self.app.busy = None
        self.ending = False
        modal.dismiss()
        self.app.show_error(exc)


class ExamResultScreen(Screen):
    BINDINGS = [
        Binding("v", "review", "Review"),
        Binding("r", "reset", "Reset the lab"),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="task-pane"):
            yield Static("", id="exam-result")
        yield Footer()

    def on_mount(self) -> None:
        from lab.exam import report

        exam = self.app.exam
        state = exam.require()
        titles = {t.number: exam.task_scenario(t).steps[0].title for t in state.tasks}
        self.show(report.result_view(state, exam.score(state), titles))

    def show(self, renderable) -> None:
        self.shown = renderable
        """What the screen shows (a rich renderable), for the tests to read as text."""
        self.query_one("#exam-result", Static).update(renderable)

    def action_review(self) -> None:
        from lab.exam import report

        exam = self.app.exam
        state = exam.require()
        scenarios = {t.number: exam.task_scenario(t) for t in state.tasks}
        picks = [name for name, _, _ in self.app.results.record.weakest()]
        self.show(report.review_view(state, scenarios, picks))

    def action_reset(self) -> None:
        self.app.confirm_reset(self.app.exit)
