"""The exam screens against the scripted exam engine: the task list, flags, jumping, no grading
while it runs, ending (asked, or when time is up), the result and the review."""

from __future__ import annotations

from tests.fakes import FakeExam, make_app, settle

from tui.modals import ConfirmModal
from tui.screens.exam import ExamResultScreen, ExamScreen

SIZE = (110, 32)


def text_of(app, selector: str) -> str:
    if selector == "#exam-result":
        from rich.console import Console

        console = Console(record=True, width=SIZE[0], file=open("/dev/null", "w"))  # noqa: SIM115
        console.print(app.screen.shown)
        return console.export_text()
    return str(app.screen.query_one(selector).render())


async def test_x_in_the_browser_starts_an_exam_and_shows_task_one(fake_lab):
    exam = FakeExam(fake_lab)
    app = make_app(fake_lab, open_session=False, exam=exam)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#confirm")
        await settle(pilot)
        assert exam.calls == ["start"]
        assert isinstance(app.screen, ExamScreen)
        assert "Task 1 of 4" in text_of(app, "#exam-context") and "cka-lab-t1" in text_of(app, "#exam-context")


async def test_tasks_are_jumped_to_and_flagged_and_nothing_is_graded_while_it_runs(fake_lab):
    exam = FakeExam(fake_lab)
    exam.running = True
    app = make_app(fake_lab, open_session=False, exam=exam, open_exam=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ExamScreen)
        assert "left 1:57:55" in text_of(app, "#exam-timer")
        await pilot.press("down", "down")
        await settle(pilot)
        assert "Task 3 of 4" in text_of(app, "#exam-context")
        await pilot.press("f")
        await settle(pilot)
        assert exam.require().tasks[2].flagged
        assert "1 flagged" in text_of(app, "#exam-title")
        await pilot.press("c")  # practice mode's check key does nothing in an exam
        await settle(pilot)
        assert "end" not in exam.calls and fake_lab.calls.count("run_checks") == 0


async def test_ending_grades_once_and_shows_the_score_against_the_pass_mark(fake_lab):
    exam = FakeExam(fake_lab)
    exam.running = True
    # control-plane-kubelet (6) and etcd-backup-restore (7) solved; pod-deletion (4) left, but its
    # guard (web keeps 2 ready pods, weight 1 of 2) holds: 2 points of partial credit
    exam.passing = {1, 2}
    app = make_app(fake_lab, open_session=False, exam=exam, open_exam=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.click("#confirm")
        await settle(pilot)
        assert exam.calls == ["end"]
        assert isinstance(app.screen, ExamResultScreen)
        result = text_of(app, "#exam-result")
        assert "PASS  68.1 % (15 of 22 points; pass mark 66 %)" in result
        assert "task 3: wanted:" in result and "task 1: wanted:" not in result
        await pilot.press("v")
        await settle(pilot)
        assert "time spent" in text_of(app, "#exam-result")


async def test_time_up_ends_the_exam_by_itself(fake_lab):
    exam = FakeExam(fake_lab)
    exam.running = True
    exam._state.minutes = 1  # started at T0, the clock reads T0 + 125 s
    app = make_app(fake_lab, open_session=False, exam=exam, open_exam=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await settle(pilot)
        assert exam.calls == ["end"]
        assert isinstance(app.screen, ExamResultScreen)


def test_exam_screen(fake_lab, snap_compare):
    exam = FakeExam(fake_lab)
    exam.running = True
    assert snap_compare(make_app(fake_lab, open_session=False, exam=exam, open_exam=True), terminal_size=SIZE,
                        run_before=settle)


def test_result_screen(fake_lab, snap_compare):
    exam = FakeExam(fake_lab)
    exam.running = True
    exam.passing = {2, 4}
    exam.end(lambda _: None)
    assert snap_compare(make_app(fake_lab, open_session=False, exam=exam, open_exam=True), terminal_size=SIZE,
                        run_before=settle)
