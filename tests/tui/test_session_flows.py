"""Pilot tests of the session screen's key flows, against the scripted fake engine."""

from __future__ import annotations

from tests.fakes import make_app, settle

from lab.errors import LabError
from tui.modals import ConfirmModal, ErrorModal, NodePickerModal, TextModal
from tui.screens.browser import BrowserScreen
from tui.screens.session import SessionScreen
from tui.screens.summary import SummaryScreen


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def test_session_opens_on_step_one_with_failing_checks(fake_lab):
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        assert "step 1 of 4" in text_of(app, "#session-title")
        assert text_of(app, "#session-timer") == "elapsed 02:05  ·  left 27:55"
        rows = app.screen.query_one("#checks").rows
        # the goal says what must become true; the scheduler check is diagnostic: locked
        assert [(r.status, r.text) for r in rows] == [
            ("locked", "diagnostic check 1: not passing yet (reveal it to see what it looks at)"),
            ("failing", "Deployment app has 1 ready pod"),
        ]
        assert not any("scheduler" in r.text or "CrashLoopBackOff" in r.text for r in rows)


async def test_reveal_key_opens_a_diagnostic_check_and_counts_it(fake_lab):
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert fake_lab.state().reveals == {0: [0]}
        rows = app.screen.query_one("#checks").rows
        assert (rows[0].status, rows[0].text) == ("failing", "pod-ready: not ready (CrashLoopBackOff)")
        await pilot.press("v")  # nothing left to reveal: not counted again
        await settle(pilot)
        assert fake_lab.state().reveals == {0: [0]}


async def test_check_key_reruns_the_checks_in_a_worker(fake_lab):
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        before = fake_lab.calls.count("run_checks")
        await pilot.press("c")
        await settle(pilot)
        assert fake_lab.calls.count("run_checks") == before + 1


async def test_hints_are_revealed_one_at_a_time_and_counted(fake_lab):
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("h")
        assert fake_lab.state().hints_shown == {0: 1}
        assert "hints 1/3" in text_of(app, "#session-title")
        await pilot.press("h", "h", "h")  # the fourth press finds no more hints
        assert fake_lab.state().hints_shown == {0: 3}
        notes = app.screen.query_one("#help-notes")
        assert "crictl logs" in notes.source


async def test_solution_needs_confirmation_and_is_counted(fake_lab):
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("s")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        assert isinstance(app.screen, SessionScreen)
        assert fake_lab.state().solutions_shown == []

        await pilot.press("s", "y")
        assert isinstance(app.screen, TextModal)
        assert "kube-schedulerrrr" in app.screen.markdown
        assert fake_lab.state().solutions_shown == [0]
        await pilot.press("escape")
        assert "solution viewed" in text_of(app, "#session-title")


async def test_passing_checks_advance_to_the_next_step(fake_lab):
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        fake_lab.solve(0)
        passed_rows = []
        original_begin_advance = app.screen.begin_advance

        def note_rows_then_advance(manual: bool = True):
            passed_rows.extend(row.status for row in app.screen.query_one("#checks").rows)
            original_begin_advance(manual)

        app.screen.begin_advance = note_rows_then_advance
        await pilot.press("c")
        await settle(pilot)
        assert passed_rows == ["passed", "passed"]  # the checks showed green before the step changed
        assert "advance" in fake_lab.calls
        assert fake_lab.state().step == 1
        assert "step 2 of 4" in text_of(app, "#session-title")
        assert "Scale the deployment" in app.screen.query_one("#task").source
        # the new step's checks ran straight away and fail until it is solved
        assert [row.status for row in app.screen.query_one("#checks").rows] == ["failing"]
        assert app.busy is None


async def test_last_step_shows_the_summary_and_records_the_result(fake_lab):
    fake_lab.begin(3, hints_shown={0: 2}, solutions_shown=[2], step_seconds={0: 301.0, 1: 45.0, 2: 420.0})
    fake_lab.solve(3)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        assert fake_lab.state().finished
        assert "22:56" in str(app.screen.query_one("#summary-line").render())  # 301+45+420+610 s
        result = app.results.load()["control-plane-failure"]
        assert result.finished and result.hints == 2 and result.solutions == 1
        await pilot.press("b")
        assert isinstance(app.screen, BrowserScreen)


async def test_reset_needs_confirmation_then_returns_to_the_browser(fake_lab):
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        assert "reset" not in fake_lab.calls

        await pilot.press("r", "y")
        await settle(pilot)
        assert "reset" in fake_lab.calls
        assert fake_lab.state() is None
        assert isinstance(app.screen, BrowserScreen)
        assert app.results.load()["control-plane-failure"].describe() == "stopped at step 1/4"


async def test_quit_key_exits_and_says_the_session_keeps_running(fake_lab):
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert app.exit_message() and "cka-lab reset" in app.exit_message()
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert "reset" not in fake_lab.calls  # quitting keeps the session for `cka-lab` to resume


async def test_lab_error_shows_a_modal_not_a_traceback(fake_lab):
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        fake_lab.check_error = LabError("the API server does not answer", title="Cluster unreachable", hint="docker ps")
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert app.screen.title_text == "Cluster unreachable"
        assert app.screen.hint == "docker ps"
        await pilot.press("escape")
        assert isinstance(app.screen, SessionScreen)
        assert "could not run the checks" in app.screen.query_one("#checks").note


async def test_shell_keys_hand_over_the_terminal_then_recheck(fake_lab, monkeypatch):
    import lab.shells

    opened = []
    monkeypatch.setattr(lab.shells, "open_shell", lambda lab: opened.append("kubectl") or 0)
    monkeypatch.setattr(lab.shells, "open_node_shell", lambda lab, node, cmd: opened.append((node, cmd)) or 0)
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    # a headless test terminal cannot suspend; run the command in place instead
    monkeypatch.setattr(app, "run_in_terminal", lambda command: command())
    async with app.run_test() as pilot:
        await settle(pilot)
        checks_before = fake_lab.calls.count("run_checks")
        await pilot.press("k")
        await settle(pilot)
        assert opened == ["kubectl"]
        assert fake_lab.calls.count("run_checks") == checks_before + 1

        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NodePickerModal)
        assert app.screen.nodes == ["control-plane", "worker"]
        await pilot.press("enter")
        await settle(pilot)
        assert opened[-1] == ("control-plane", [])
        assert fake_lab.calls.count("run_checks") == checks_before + 2


async def test_a_failed_step_change_is_reported_and_not_retried_in_a_loop(fake_lab, monkeypatch):
    def broken_advance(progress, *, wait=30.0):
        progress("step 2: injecting fault 1/1 (edit-manifest)")
        raise LabError("cannot write the manifest", title="Injection failed")

    monkeypatch.setattr(fake_lab, "advance", broken_advance)
    fake_lab.begin(0)
    fake_lab.solve(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert "press r to reset" in app.screen.hint
        await pilot.press("escape")
        assert app.screen.auto_advance_paused and app.busy is None
        app.screen.check_in_background()  # a background run sees passing checks but does not retry
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        await pilot.press("c")  # an explicit check does retry
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)


async def test_the_auto_check_skips_a_round_while_another_process_holds_the_lab(fake_lab, monkeypatch):
    from lab.errors import LabBusy

    waits = []

    def busy_advance(progress, *, wait=30.0):
        waits.append(wait)
        raise LabBusy("`cka-lab check` (pid 4242) is changing the lab right now")

    monkeypatch.setattr(fake_lab, "advance", busy_advance)
    fake_lab.begin(0)
    fake_lab.solve(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        app.screen.run_checks(manual=False)
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)  # no error dialog
        assert "pid 4242" in str(app.screen.query_one("#checks").note)
        assert app.busy is None
        # the first, explicit check waits its turn; the automatic round never queues
        assert waits == [30, 0]


async def test_the_periodic_round_leaves_on_demand_checks_to_the_check_key(fake_lab):
    """An on-demand check (the watchdog grader stages an outage) runs only when asked: the
    screen's periodic round asks the engine for a periodic grade, `c` for a full one."""
    fake_lab.begin(0)
    app = make_app(fake_lab, open_session=True)
    async with app.run_test() as pilot:
        await settle(pilot)
        assert fake_lab.periodic_checks == [True]  # the first grade, when the screen opens
        fake_lab.periodic_checks.clear()
        app.screen.run_checks(manual=False)
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert fake_lab.periodic_checks == [True, False]
