"""Drawing an exam: tasks across the five CKA domains by the curriculum's weights, from the
exam-eligible scenarios, never two that would interfere in one cluster. A given seed draws the
same exam; without one, the draw prefers what the candidate has not met recently."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lab.scenario.models import Scenario

DOMAIN_WEIGHTS: dict[str, int] = {
    "Troubleshooting": 30,
    "Cluster Architecture, Installation and Configuration": 25,
    "Services and Networking": 20,
    "Workloads and Scheduling": 15,
    "Storage": 10,
}
"""Percent of the CKA score per domain (2025 curriculum)."""

PASS_MARK = 66.0


@dataclass(frozen=True)
class Candidate:
    """One way a scenario can appear in an exam: its first step, with one variant's faults."""

    scenario: str
    variant: str | None
    domain: str
    points: int
    breaks: frozenset[str]
    needs: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.scenario, self.variant)


def breaks(scenario: Scenario, variant: str | None) -> frozenset[str]:
    """What a task breaks (or owns): its declared tokens, its setup objects, and the targets of
    its first step's faults (files, units, static-pod components, objects)."""
    found = set(_declared(scenario, variant, "breaks"))
    for obj in scenario.setup:
        meta = obj.get("metadata", {})
        if obj["kind"] == "Namespace":
            found.add(f"namespace:{meta['name']}")
        else:
            found.add(f"object:{meta.get('namespace', 'default')}/{obj['kind']}/{meta['name']}")
    for fault in scenario.with_variant(variant).steps[0].faults:
        node = getattr(fault, "node", None)
        if node and getattr(fault, "path", None):
            found.add(f"file:{node}:{fault.path}")
        if node and getattr(fault, "service", None):
            found.add(f"service:{node}:{fault.service}")
        if fault.type == "edit-manifest":
            found.add(f"component:{fault.manifest}")
        if fault.type == "reset-node":
            found.add(f"node:{fault.node}")
        if fault.type == "apply-object":
            meta = fault.manifest.get("metadata", {})
            found.add(f"object:{meta.get('namespace', 'default')}/{fault.manifest.get('kind')}/{meta.get('name')}")
        name = getattr(fault, "name", None)
        if isinstance(name, str) and fault.type != "delete-pods":
            kind = getattr(fault, "kind", None) or "Deployment"
            found.add(f"object:{getattr(fault, 'namespace', None) or 'default'}/{kind}/{name}")
    return frozenset(found)


def needs(scenario: Scenario, variant: str | None) -> frozenset[str]:
    """What a task needs working, as declared."""
    return frozenset(_declared(scenario, variant, "needs"))


def _declared(scenario: Scenario, variant: str | None, field: str) -> list[str]:
    """The variant's own `breaks` or `needs`, else the scenario's `exam` block's."""
    own = getattr(scenario.variant(variant), field) if variant is not None else None
    if own is not None:
        return own
    return getattr(scenario.exam, field) if scenario.exam else []


def compatible(a: Candidate, b: Candidate) -> bool:
    """Two tasks can share the cluster: neither needs it alone, and neither breaks what the
    other breaks or needs."""
    if a.scenario == b.scenario:
        return False
    if "cluster" in a.breaks or "cluster" in b.breaks:
        return False
    return not (a.breaks & (b.breaks | b.needs)) and not (b.breaks & a.needs)


def candidates(scenarios: Iterable[Scenario]) -> list[Candidate]:
    """Every (scenario, variant) an exam may draw."""
    found = []
    for scenario in scenarios:
        if scenario.exam is None:
            continue
        for variant in scenario.variant_ids() or [None]:
            found.append(Candidate(scenario.id, variant, scenario.domain, scenario.exam.points,
                                   breaks(scenario, variant), needs(scenario, variant)))
    return found


def domain_targets(tasks: int) -> dict[str, int]:
    """How many tasks each domain should get (largest remainder on the weights)."""
    total = sum(DOMAIN_WEIGHTS.values())
    exact = {d: tasks * w / total for d, w in DOMAIN_WEIGHTS.items()}
    counts = {d: int(x) for d, x in exact.items()}
    for domain in sorted(exact, key=lambda d: (-(exact[d] - counts[d]), -DOMAIN_WEIGHTS[d]))[: tasks - sum(counts.values())]:
        counts[domain] += 1
    return counts


ATTEMPTS = 400
"""Randomised greedy draws tried per exam; the best one is kept (more tasks, then a closer fit
to the domain weights, then the least recently met tasks)."""


def draw(
    pool: list[Candidate], tasks: int, seed: int, last_met: Mapping[tuple[str, str | None], float] | None = None,
) -> list[Candidate]:
    """Up to `tasks` mutually compatible candidates, spread over the domains by weight: each
    place goes to the domain furthest behind its share. With `last_met` (when each
    scenario/variant was last played) the draw prefers what was met least recently."""
    rng = random.Random(seed)
    met = last_met or {}
    best: tuple[tuple, list[Candidate]] | None = None
    for _ in range(ATTEMPTS):
        order = {c.key: rng.random() for c in pool}
        chosen = _greedy(sorted(pool, key=lambda c: order[c.key]), tasks)
        targets = domain_targets(len(chosen))
        misfit = sum(abs(sum(c.domain == d for c in chosen) - n) for d, n in targets.items())
        staleness = sum(met.get(c.key, 0.0) for c in chosen)
        quality = (-len(chosen), misfit, staleness)
        if best is None or quality < best[0]:
            best = (quality, chosen)
    chosen = best[1] if best else []
    rank = list(DOMAIN_WEIGHTS)
    return sorted(chosen, key=lambda c: (rank.index(c.domain) if c.domain in rank else len(rank), c.scenario))


def _greedy(ordered: list[Candidate], tasks: int) -> list[Candidate]:
    total = sum(DOMAIN_WEIGHTS.values())
    chosen: list[Candidate] = []
    while len(chosen) < tasks:
        fits = [c for c in ordered if all(compatible(c, other) for other in chosen)]
        if not fits:
            break
        have = {d: sum(c.domain == d for c in chosen) for d in DOMAIN_WEIGHTS}
        # the domain furthest behind its share of the next place, among those that can still give one
        open_domains = {c.domain for c in fits}
        domain = max(open_domains, key=lambda d: (DOMAIN_WEIGHTS.get(d, 0) * (len(chosen) + 1) / total - have.get(d, 0),
                                                  DOMAIN_WEIGHTS.get(d, 0)))
        chosen.append(next(c for c in fits if c.domain == domain))
    return chosen
