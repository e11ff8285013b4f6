"""The arithmetic of a game day: the service level seen by the traffic generator, the error
budget it burned, each incident's time to repair, and the score."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One request of the traffic generator."""

    at: float
    """Seconds after the game day started."""
    ok: bool
    """Answered with a success status."""
    latency: float
    """Seconds until the answer (or until the request gave up)."""


@dataclass(frozen=True)
class Objective:
    success: float = 0.99
    """Share of good requests the service must keep over the game day."""
    latency: float = 0.5
    """A request slower than this many seconds is bad even when it succeeded."""

    def good(self, sample: Sample) -> bool:
        return sample.ok and sample.latency <= self.latency


@dataclass(frozen=True)
class Budget:
    requests: int
    bad: int
    allowed: float
    """Bad requests the objective allows for this many requests."""

    @property
    def burned(self) -> float:
        """Share of the budget spent: 1.0 is all of it, above 1 the SLO is broken."""
        if self.allowed == 0:
            return 0.0 if self.bad == 0 else float("inf")
        return self.bad / self.allowed

    @property
    def left(self) -> float:
        return max(0.0, 1.0 - self.burned)


def budget(samples: Sequence[Sample], objective: Objective) -> Budget:
    bad = sum(not objective.good(s) for s in samples)
    return Budget(len(samples), bad, (1 - objective.success) * len(samples))


@dataclass(frozen=True)
class Point:
    """One bucket of the live chart."""

    at: float
    success: float
    """Share of good requests in the bucket."""
    p95: float
    """95th percentile latency in the bucket, seconds."""


def series(samples: Sequence[Sample], objective: Objective, bucket: float = 10.0) -> list[Point]:
    """The chart's points, one per bucket that saw requests, in time order."""
    buckets: dict[int, list[Sample]] = {}
    for s in samples:
        buckets.setdefault(int(s.at // bucket), []).append(s)
    points = []
    for index in sorted(buckets):
        group = buckets[index]
        latencies = sorted(s.latency for s in group)
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        points.append(Point(index * bucket, sum(objective.good(s) for s in group) / len(group), p95))
    return points


@dataclass(frozen=True)
class Incident:
    fault: str
    """The scenario (and variant) injected, named only in the report at the end."""
    injected: float
    repaired: float | None
    """When its checks passed; None while (or if never) repaired."""

    @property
    def time_to_repair(self) -> float | None:
        return None if self.repaired is None else self.repaired - self.injected


REPAIR_TARGET = 300.0
"""Seconds: an incident repaired this fast earns all its repair credit, one taking twice as long
none (as an on-call rotation's time-to-repair goal)."""


def repair_credit(incident: Incident) -> float:
    ttr = incident.time_to_repair
    if ttr is None:
        return 0.0
    return min(1.0, max(0.0, 2.0 - ttr / REPAIR_TARGET))


def score(incidents: Sequence[Incident], spent: Budget) -> int:
    """0–100: half for the error budget left (the users' view), half for the repairs (the
    operator's view: each incident's credit, averaged)."""
    repairs = sum(repair_credit(i) for i in incidents) / len(incidents) if incidents else 1.0
    return round(50 * spent.left + 50 * repairs)
