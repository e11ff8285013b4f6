"""Exam scoring: partial credit by check weight, rounding, the pass mark."""

from __future__ import annotations

from lab.exam.scoring import ExamScore, TaskScore, task_earned


def test_partial_credit_is_the_weighted_share_of_the_points() -> None:
    assert task_earned(7, [(1, True), (1, False)]) == 3.5
    assert task_earned(6, [(2, True), (1, False)]) == 4.0
    assert task_earned(5, [(1, True), (1, True), (1, False)]) == 3.33
    assert task_earned(4, [(3, False)]) == 0.0
    assert task_earned(4, []) == 0.0


def score(*earned: tuple[int, float], domain: str = "Troubleshooting") -> ExamScore:
    return ExamScore([TaskScore(i, f"s{i}", domain, points, got) for i, (points, got) in enumerate(earned, 1)])


def test_the_percentage_is_rounded_down_so_a_near_miss_fails() -> None:
    near = score((100, 65.99))
    assert near.percent == 65.9 and not near.passed
    assert score((100, 66.0)).passed
    assert score((3, 2.0)).percent == 66.6 and score((3, 2.0)).passed


def test_totals_and_domains() -> None:
    exam = ExamScore([
        TaskScore(1, "a", "Troubleshooting", 7, 7.0),
        TaskScore(2, "b", "Storage", 4, 1.33),
        TaskScore(3, "c", "Troubleshooting", 6, 0.0),
    ])
    assert (exam.earned, exam.possible) == (8.33, 17)
    assert exam.per_domain() == {"Troubleshooting": (7.0, 13), "Storage": (1.33, 4)}
    assert exam.percent == 49.0 and not exam.passed
    assert ExamScore([]).percent == 0.0
