"""The exam blueprint: weights honoured, a seed gives the same exam, incompatible tasks never
combined, recently met tasks avoided."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from lab.exam.blueprint import DOMAIN_WEIGHTS, Candidate, candidates, compatible, domain_targets, draw
from lab.scenario import loader

TS, CA, SN, WS, ST = DOMAIN_WEIGHTS


def cand(name: str, domain: str, breaks=(), needs=(), variant=None, points=5) -> Candidate:
    return Candidate(name, variant, domain, points, frozenset(breaks) | {f"object:default/Deployment/{name}"},
                     frozenset(needs))


def independent_pool() -> list[Candidate]:
    """Ten tasks per domain, none interfering with another."""
    return [cand(f"{d[:4]}-{i}", d) for d in DOMAIN_WEIGHTS for i in range(10)]


def test_domain_targets_follow_the_weights() -> None:
    assert domain_targets(16) == {TS: 5, CA: 4, SN: 3, WS: 2, ST: 2}
    assert domain_targets(10) == {TS: 3, CA: 3, SN: 2, WS: 1, ST: 1}
    assert sum(domain_targets(7).values()) == 7


def test_a_full_pool_gives_the_weighted_exam() -> None:
    exam = draw(independent_pool(), 16, seed=3)
    assert Counter(c.domain for c in exam) == Counter(domain_targets(16))


def test_a_seed_gives_the_same_exam_and_another_seed_another() -> None:
    pool = independent_pool()
    assert draw(pool, 16, seed=42) == draw(pool, 16, seed=42)
    assert draw(pool, 16, seed=42) != draw(pool, 16, seed=43)


def test_incompatible_tasks_are_never_combined() -> None:
    pool = [
        cand("node-down", TS, breaks=["node:worker"]),
        cand("needs-node", WS, needs=["node:worker"]),
        cand("dns-down", SN, breaks=["component:dns"]),
        cand("needs-dns", TS, needs=["component:dns"]),
        cand("alone", CA, breaks=["cluster"]),
        cand("free", CA),
    ]
    for seed in range(20):
        exam = draw(pool, 16, seed)
        assert all(compatible(a, b) for a, b in combinations(exam, 2))
        assert "alone" not in [c.scenario for c in exam]  # it would exclude everything else
        assert len(exam) == 3


def test_two_variants_of_one_scenario_never_share_an_exam() -> None:
    pool = [cand("x", TS, variant="a"), cand("x", TS, variant="b"), cand("y", TS)]
    for seed in range(10):
        assert sorted(c.scenario for c in draw(pool, 3, seed)) == ["x", "y"]


def test_short_domains_hand_their_places_to_the_others() -> None:
    pool = [cand(f"ts-{i}", TS) for i in range(10)] + [cand("ca", CA)]
    exam = draw(pool, 8, seed=1)
    assert len(exam) == 8 and Counter(c.domain for c in exam) == {TS: 7, CA: 1}


def test_a_retake_prefers_what_was_not_met_recently() -> None:
    pool = [cand(f"ts-{i}", TS) for i in range(4)]
    met = {("ts-0", None): 100.0, ("ts-1", None): 200.0}
    for seed in range(10):
        assert sorted(c.scenario for c in draw(pool, 2, seed, last_met=met)) == ["ts-2", "ts-3"]


def test_the_catalog_yields_an_exam_across_three_domains() -> None:
    pool = candidates(loader.load_file(p) for p in loader.catalog().values())
    exam = draw(pool, 16, seed=1)
    assert len(exam) >= 4 and len({c.domain for c in exam}) >= 3
    assert all(compatible(a, b) for a, b in combinations(exam, 2))
