"""The Textual application: entry points for the CLI and the flows shared by several screens
(error display, reset, shells, quitting).

The app is handed the engine (lab.session.Lab or a test fake) and never builds clusters itself.
Every engine call that touches Docker or Kubernetes runs in a thread worker; results come back
through call_from_thread, so the UI keeps drawing while a cluster operation takes minutes."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual import work
from textual.app import App
from textual.binding import Binding

from lab.errors import LabError
from tui.engine import Engine
from tui.modals import ConfirmModal, ErrorModal, ProgressModal
from lab.results import ResultsStore
from tui.screens.browser import BrowserScreen, CatalogEntry, load_catalog
from tui.screens.session import SessionScreen

Clock = Callable[[], float]


def describe_error(exc: BaseException) -> tuple[str, str, str | None]:
    """(title, message, hint) for the error modal; unexpected errors get a generic title."""
    if isinstance(exc, LabError):
        return exc.title, exc.message, exc.hint
    return (
        "Unexpected error",
        f"{type(exc).__name__}: {exc}",
        "The session state is saved; `cka-lab status` shows it and `cka-lab reset` undoes its faults.",
    )


class LabApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "cka-lab"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", show=False, priority=True)]

    def __init__(
        self,
        lab: Engine,
        *,
        open_session: bool = False,
        exam=None,
        open_exam: bool = False,
        gameday=None,
        clock: Clock = time.time,
        check_interval: float = 5.0,
        catalog: list[CatalogEntry] | None = None,
    ):
        super().__init__()
        self.lab = lab
        self.open_session = open_session
        self.exam = exam
        """The exam engine (lab.exam.runner.Exam, or a fake in the tests); None: no exam entry."""
        self.open_exam = open_exam
        self.gameday = gameday
        """A game day running in a thread (lab.gameday.live.LiveGameDay, or a fake): its screen opens."""
        self.clock = clock
        """Injected so snapshot tests render fixed times."""
        self.check_interval = check_interval
        self.catalog = catalog
        self.results = ResultsStore(lab.state_dir)
        """Read-only here: the engine records results, whichever front end ended a scenario."""
        self.busy: str | None = None
        """What long engine operation is running (start, next step, reset), for the quit warning."""
        self.on_quit_requested: Callable[[], None] | None = None
        """Set while a cancellable operation runs, so quitting can cancel it first."""

    def on_mount(self) -> None:
        catalog = self.catalog if self.catalog is not None else self._load_catalog()
        self.push_screen(BrowserScreen(catalog))
        if self.open_session:
            self.push_screen(SessionScreen())
        if self.open_exam:
            from tui.screens.exam import ExamResultScreen, ExamScreen

            state = self.exam.require()
            self.push_screen(ExamResultScreen() if state.ended_at is not None else ExamScreen())
        if self.gameday is not None:
            from tui.screens.gameday import GameDayScreen

            self.push_screen(GameDayScreen())

    def _load_catalog(self) -> list[CatalogEntry]:
        entries, problems = load_catalog()
        for problem in problems:
            self.notify(problem, title="Invalid scenario", severity="warning", timeout=10, markup=False)
        return entries

    # --- threads -------------------------------------------------------------------------------

    def from_thread(self, callback: Callable[..., object], *args: object) -> None:
        """call_from_thread for worker threads that may outlive the UI.

        After a quit, an engine operation keeps running to its end (or to its undo); its progress
        and result callbacks must then be dropped instead of raising inside the engine."""
        if not self.is_running:
            return
        try:
            self.call_from_thread(callback, *args)
        except Exception:
            if self.is_running:
                raise

    # --- errors --------------------------------------------------------------------------------

    def show_error(self, exc: BaseException, hint: str | None = None) -> None:
        title, message, own_hint = describe_error(exc)
        self.push_screen(ErrorModal(title, message, hint or own_hint))

    # --- shells --------------------------------------------------------------------------------

    def run_in_terminal(self, command: Callable[[], object]) -> None:
        """Hand the terminal to an interactive command (a shell) and take it back afterwards."""
        try:
            with self.suspend():
                command()
        except LabError as exc:
            self.show_error(exc)
        except Exception as exc:  # e.g. SuspendNotSupported on a terminal that cannot suspend
            self.show_error(exc, hint="Open a shell in another terminal: `cka-lab shell` or `cka-lab ssh <node>`.")

    def open_kubectl_shell(self) -> None:
        from lab.shells import open_shell

        self.run_in_terminal(lambda: open_shell(self.lab))

    def open_node_shell(self, node: str) -> None:
        from lab.shells import open_node_shell

        self.run_in_terminal(lambda: open_node_shell(self.lab, node, []))

    def choose_node_shell(self, after: Callable[[], None] = lambda: None) -> None:
        """Ask which node (its names come from Docker, in a worker), open a shell there, then call `after`."""
        self._nodes_worker(after)

    @work(thread=True, exit_on_error=False, group="nodes")
    def _nodes_worker(self, after: Callable[[], None]) -> None:
        try:
            names = [node.short_name for node in self.lab.cluster.nodes()]
        except BaseException as exc:
            self.from_thread(self.show_error, exc)
            return
        self.from_thread(self._pick_node, names, after)

    def _pick_node(self, names: list[str], after: Callable[[], None]) -> None:
        from tui.modals import NodePickerModal

        if not names:
            self.notify("The lab cluster has no nodes; is it running?", severity="warning")
            return

        def chosen(name: str | None) -> None:
            if name:
                self.open_node_shell(name)
                after()

        self.push_screen(NodePickerModal(names), chosen)

    # --- reset ---------------------------------------------------------------------------------

    def confirm_reset(self, after: Callable[[], None]) -> None:
        """Ask, then undo every injected fault in a worker; call `after` once the cluster is clean."""

        def answered(yes: bool | None) -> None:
            if yes:
                self.begin_reset(after)

        self.push_screen(
            ConfirmModal(
                "Reset the lab?",
                "Every injected fault and the scenario's objects are undone and this session ends.",
                confirm_label="Reset",
            ),
            answered,
        )

    def begin_reset(self, after: Callable[[], None]) -> None:
        modal = ProgressModal("Resetting the lab", note="Undoing every recorded change, then waiting for a healthy cluster.")
        self.busy = "resetting the lab"
        self.push_screen(modal)
        self._reset_worker(modal, after)

    @work(thread=True, exit_on_error=False, group="engine")
    def _reset_worker(self, modal: ProgressModal, after: Callable[[], None]) -> None:
        try:
            # the engine records an abandoned attempt as a result
            undone = self.lab.reset(lambda line: self.from_thread(modal.add_line, line))
        except BaseException as exc:
            self.from_thread(self._reset_failed, modal, exc)
            return
        self.from_thread(self._reset_done, modal, undone, after)

    def _reset_done(self, modal: ProgressModal, undone: int, after: Callable[[], None]) -> None:
        self.busy = None
        modal.dismiss()
        self.notify(f"{undone} change(s) undone; the cluster is back to its baseline", title="Reset")
        after()

    def _reset_failed(self, modal: ProgressModal, exc: BaseException) -> None:
        self.busy = None
        modal.dismiss()
        self.show_error(exc, hint="Some faults may still be in place; run `cka-lab reset` to finish undoing them.")

    # --- quitting ------------------------------------------------------------------------------

    def exit_message(self) -> str | None:
        if self.gameday is not None and not self.gameday.done:
            return "The game day stops with this screen: no more faults are injected. `cka-lab reset` undoes those in place."
        if self.busy:
            return f"Quit while {self.busy}: run `cka-lab reset` to undo anything left half-done."
        try:
            state = self.lab.state()
        except Exception:
            return None
        if state is not None and not state.finished:
            return "Your session keeps running: `cka-lab` resumes it, `cka-lab reset` undoes its faults."
        exam = self.exam.state() if self.exam is not None else None
        if exam is not None and exam.ended_at is None:
            return "Your exam keeps running (so does its clock): `cka-lab exam --resume` goes back to it."
        return None

    async def action_quit(self) -> None:
        if not self.busy:
            self.exit(message=self.exit_message())
            return

        def answered(yes: bool | None) -> None:
            if yes:
                if self.on_quit_requested is not None:
                    self.on_quit_requested()
                self.exit(message=self.exit_message())

        self.push_screen(
            ConfirmModal(
                "Quit now?",
                f"cka-lab is {self.busy}. Quitting now may leave faults half-injected; "
                "run `cka-lab reset` afterwards to undo them.",
                confirm_label="Quit",
            ),
            answered,
        )


def run_browser(lab: Engine) -> None:
    """`cka-lab` on a terminal: the scenario browser."""
    from lab.exam.runner import Exam

    LabApp(lab, exam=Exam(lab)).run()


def run_exam(lab: Engine) -> None:
    """After `cka-lab exam`: the exam screen (or its result, once it ended)."""
    from lab.exam.runner import Exam

    LabApp(lab, exam=Exam(lab), open_exam=True).run()


def run_gameday(lab: Engine, gameday) -> None:
    """During `cka-lab gameday` on a terminal: the live game day screen. The caller started the
    game day and stops and joins it once the screen is gone (the injector never outlives it)."""
    LabApp(lab, gameday=gameday).run()


def run_session(lab: Engine) -> None:
    """After `cka-lab start`: the session screen of the session `lab` already started."""
    LabApp(lab, open_session=True).run()


__all__ = ["LabApp", "run_browser", "run_exam", "run_gameday", "run_session"]
