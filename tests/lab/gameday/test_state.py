"""An incident as the background grader sees it: it shows once every check that is not a guard
has failed, is repaired only after it showed, and a fault that never shows is left out."""

from __future__ import annotations

from lab.gameday.state import SHOW_WAIT, GameDayState, IncidentState, PlannedFault


def incident(guards=(False, False, True)) -> IncidentState:
    return IncidentState(number=1, injected=100.0, guards=list(guards))


def test_checks_still_passing_right_after_the_injection_are_no_repair() -> None:
    i = incident()
    i.observe([True, True, True], 103)  # the fault has not shown yet (a node turns NotReady later)
    assert i.shown is None and i.repaired is None and i.open


def test_it_shows_once_every_non_guard_check_failed_then_is_repaired_when_all_pass() -> None:
    i = incident()
    i.observe([False, True, True], 103)
    assert i.shown is None
    i.observe([True, False, True], 106)
    assert i.shown == 106
    i.observe([True, False, True], 109)
    assert i.repaired is None
    i.observe([True, True, True], 112)
    assert i.repaired == 112 and not i.open
    i.observe([False, False, False], 115)  # closed incidents stay closed
    assert i.repaired == 112


def test_a_fault_that_shows_in_only_some_checks_counts_once_its_wait_is_over() -> None:
    i = incident()
    i.observe([False, True, True], 103)
    i.observe([True, True, True], 100 + SHOW_WAIT)
    assert i.shown == 100 + SHOW_WAIT and i.repaired is None
    i.observe([True, True, True], 100 + SHOW_WAIT + 3)
    assert i.repaired == 100 + SHOW_WAIT + 3


def test_a_fault_that_never_shows_did_not_take_and_is_not_scored() -> None:
    i = incident()
    i.observe([True, True, True], 100 + SHOW_WAIT)
    assert not i.took and not i.open and i.repaired is None
    state = GameDayState(gameday_id="g", seed=1, minutes=10, load_node="control-plane", incidents=[i],
                         faults=[PlannedFault(number=1, at=100, scenario_id="s", snapshot="/x")])
    assert state.scored_incidents() == []


def test_a_failing_guard_alone_does_not_show_the_fault() -> None:
    i = incident(guards=(False, True))
    i.observe([True, False], 103)
    assert i.shown is None
    i.observe([False, True], 106)
    assert i.shown == 106
