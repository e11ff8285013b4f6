"""Snapshot tests (pytest-textual-snapshot) at a fixed terminal size with a fixed clock.

Update after an intended visual change with `python -m pytest tests/tui --snapshot-update`
and review the SVG diffs before committing them."""

from __future__ import annotations

from tests.fakes import make_app, settle

from lab.record import Attempt
from lab.results import ResultsStore

SIZE = (100, 30)


def test_browser(fake_lab, snap_compare):
    store = ResultsStore(fake_lab.state_dir)
    store.add(Attempt("control-plane-failure", 0, 1376, True, 4, 4, 1376, hints=2, solutions=1))
    store.add(Attempt("pv-stuck", 0, 600, False, 4, 1, 600))
    assert snap_compare(make_app(fake_lab, open_session=False), terminal_size=SIZE)


def test_session_step_one_with_a_hint(fake_lab, snap_compare):
    fake_lab.begin(0)

    async def reveal_a_hint(pilot):
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)

    assert snap_compare(make_app(fake_lab, open_session=True), terminal_size=SIZE, run_before=reveal_a_hint)


def test_solution_confirmation(fake_lab, snap_compare):
    fake_lab.begin(1)

    async def ask_for_the_solution(pilot):
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()

    assert snap_compare(make_app(fake_lab, open_session=True), terminal_size=SIZE, run_before=ask_for_the_solution)


def test_summary(fake_lab, snap_compare):
    fake_lab.begin(3, hints_shown={0: 2, 2: 1}, solutions_shown=[2], step_seconds={0: 301.0, 1: 45.0, 2: 420.0})
    fake_lab.solve(3)
    assert snap_compare(make_app(fake_lab, open_session=True), terminal_size=SIZE, run_before=settle)
