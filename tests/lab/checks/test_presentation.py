"""What the trainee sees of a step's checks: goals, locked diagnostics, counted hidden checks."""

from __future__ import annotations

from lab.checks.presentation import describe_pending, lockable, present
from lab.checks.result import CheckResult
from lab.registry import CHECKS


def spec(kind: str = "node-ready", **params):
    defaults = {"node-ready": {"node": "worker"}}[kind]
    return CHECKS.get(kind).params(type=kind, **{**defaults, **params})


GOAL = spec(expect="Node worker is Ready")
DIAGNOSTIC = spec(show="diagnostic", node="control-plane")
HIDDEN = spec(show="hidden", node="worker2")
FAIL = CheckResult(False, "kubelet on worker is inactive")
PASS = CheckResult(True, "node is Ready")


def test_a_goal_shows_its_expect_sentence_never_the_checks_own_message() -> None:
    rows, note = present([GOAL], [FAIL])
    assert [(r.status, r.text) for r in rows] == [("failing", "Node worker is Ready")]
    assert note == ""


def test_a_failing_on_demand_check_adds_its_verdict_to_the_goal() -> None:
    """An on-demand check grades the trainee's own work: its verdict is feedback, shown."""
    graded = spec(expect="The watchdog retries", on_demand=True)
    verdict = CheckResult(False, "the script exited (code 1) while the API was away")
    rows, _ = present([graded], [verdict])
    assert rows[0].text == "The watchdog retries — the script exited (code 1) while the API was away"
    assert present([graded], [PASS])[0][0].text == "The watchdog retries"


def test_a_goal_without_expect_shows_the_checks_message() -> None:
    rows, _ = present([spec()], [FAIL])
    assert rows[0].text == "kubelet on worker is inactive"


def test_a_failing_diagnostic_is_locked_until_revealed() -> None:
    rows, _ = present([GOAL, DIAGNOSTIC], [FAIL, FAIL])
    assert rows[1].status == "locked"
    assert "kubelet" not in rows[1].text and "control-plane" not in rows[1].text
    rows, _ = present([GOAL, DIAGNOSTIC], [FAIL, FAIL], revealed={1})
    assert (rows[1].status, rows[1].text) == ("failing", "kubelet on worker is inactive")


def test_a_passing_diagnostic_is_shown() -> None:
    rows, _ = present([GOAL, DIAGNOSTIC], [FAIL, PASS])
    assert (rows[1].status, rows[1].text) == ("passed", "node is Ready")


def test_hidden_checks_are_counted_never_described() -> None:
    rows, note = present([GOAL, HIDDEN], [PASS, FAIL])
    assert len(rows) == 1
    assert note == "1 more check, shown when the step ends: 1 not passing yet"
    assert "worker2" not in note
    _, note = present([GOAL, HIDDEN], None)
    assert note == "1 more check, shown when the step ends"
    _, note = present([GOAL, HIDDEN, HIDDEN], [PASS, PASS, PASS])
    assert note == "2 more checks, shown when the step ends: passing"


def test_when_the_step_is_over_everything_is_shown_with_the_real_messages() -> None:
    rows, note = present([GOAL, DIAGNOSTIC, HIDDEN], [PASS, FAIL, FAIL], step_over=True)
    assert [r.text for r in rows] == ["Node worker is Ready", "kubelet on worker is inactive", "kubelet on worker is inactive"]
    assert note == ""


def test_pending_rows_before_any_result() -> None:
    rows, _ = present([spec(), DIAGNOSTIC], None)
    assert [r.status for r in rows] == ["pending", "locked"]
    assert rows[0].text == "node-ready (node=worker)"


def test_describe_pending_leaves_out_the_presentation_fields() -> None:
    assert describe_pending(spec(show="diagnostic", weight=3, guard=True)) == "node-ready (node=worker)"


def test_lockable_lists_the_diagnostic_checks() -> None:
    assert lockable([GOAL, DIAGNOSTIC, HIDDEN, DIAGNOSTIC]) == [1, 3]


def test_a_check_that_could_not_run_says_why_whatever_it_shows() -> None:
    down = CheckResult(False, "the API server is not answering: connection refused", "MaxRetryError: …")
    rows, note = present([GOAL, DIAGNOSTIC, HIDDEN], [down, down, down])
    assert [(r.status, r.text) for r in rows] == [("failing", down.message), ("failing", down.message)]
    assert note.endswith("1 not passing yet")
