"""SLO arithmetic: good requests, the error budget, the chart's buckets, repair credit, score."""

from __future__ import annotations

import pytest

from lab.gameday.slo import Incident, Objective, Sample, budget, repair_credit, score, series

SLO = Objective(success=0.99, latency=0.5)


def requests(n: int, bad: int = 0, start: float = 0.0, every: float = 1.0) -> list[Sample]:
    return [Sample(start + i * every, ok=i >= bad, latency=0.01) for i in range(n)]


def test_a_slow_success_is_a_bad_request() -> None:
    assert SLO.good(Sample(0, True, 0.5)) and not SLO.good(Sample(0, True, 0.51)) and not SLO.good(Sample(0, False, 0.01))


def test_the_budget_is_the_bad_requests_the_objective_allows() -> None:
    spent = budget(requests(1000, bad=5), SLO)
    assert spent.allowed == pytest.approx(10)
    assert spent.burned == pytest.approx(0.5) and spent.left == pytest.approx(0.5)
    broken = budget(requests(1000, bad=30), SLO)
    assert broken.burned == pytest.approx(3.0) and broken.left == 0.0
    assert budget([], SLO).left == 1.0


def test_the_chart_has_one_point_per_bucket_with_its_success_and_p95() -> None:
    samples = requests(10, bad=0) + [Sample(10 + i, ok=i % 2 == 0, latency=0.1 * (i + 1)) for i in range(10)]
    points = series(samples, SLO, bucket=10)
    assert [p.at for p in points] == [0, 10]
    assert points[0].success == 1.0 and points[0].p95 == pytest.approx(0.01)
    # in the second bucket: the odd ones failed, and 0.6 s and beyond are too slow
    assert points[1].success == pytest.approx(0.3) and points[1].p95 == pytest.approx(1.0)


def test_repair_credit_is_full_under_the_target_and_none_past_twice_it() -> None:
    assert repair_credit(Incident("a", 100, 250)) == 1.0
    assert repair_credit(Incident("a", 100, 100 + 450)) == pytest.approx(0.5)
    assert repair_credit(Incident("a", 100, 100 + 900)) == 0.0
    assert repair_credit(Incident("a", 100, None)) == 0.0
    assert Incident("a", 100, 160).time_to_repair == 60


def test_the_score_halves_budget_and_repairs() -> None:
    clean = budget(requests(1000), SLO)
    assert score([Incident("a", 0, 60)], clean) == 100
    assert score([Incident("a", 0, 60), Incident("b", 0, None)], clean) == 75
    assert score([Incident("a", 0, None)], budget(requests(1000, bad=100), SLO)) == 0
    assert score([], clean) == 100
