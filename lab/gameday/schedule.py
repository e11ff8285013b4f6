"""When a game day injects what: a seeded draw of mutually compatible faults from the catalog
(never two on the same component, as in an exam draw) at random times, spaced so that each one
can be noticed and repaired before the game day ends."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from lab.errors import LabError
from lab.exam.blueprint import Candidate, candidates, compatible
from lab.scenario.models import Scenario


@dataclass(frozen=True)
class Injection:
    at: float
    """Seconds after the game day started."""
    candidate: Candidate
    """The scenario (and variant) whose first step's faults are injected."""


@dataclass(frozen=True)
class Timing:
    minutes: float
    warmup: float = 60.0
    """Seconds of steady state measured before the first injection (the baseline)."""
    repair_window: float = 120.0
    """Seconds left after the last injection, so that it can be repaired before the end."""
    min_gap: float = 60.0
    """Seconds at least between two injections: one incident at a time is noticed as one."""

    @property
    def span(self) -> tuple[float, float]:
        return self.warmup, self.minutes * 60 - self.repair_window


def pool(scenarios: Iterable[Scenario]) -> list[Candidate]:
    """What a game day may inject: the exam-eligible tasks that can share the cluster with
    others (a task that needs the cluster alone, an upgrade say, cannot run unannounced)."""
    return [c for c in candidates(scenarios) if "cluster" not in c.breaks]


def plan(available: list[Candidate], faults: int, seed: int, timing: Timing) -> list[Injection]:
    """`faults` injections, pairwise compatible, in time order. The same seed gives the same
    plan; a game day too short for the faults asked for is refused with the figures."""
    first, last = timing.span
    slack = last - first - (faults - 1) * timing.min_gap
    if faults < 1 or slack < 0:
        need = timing.warmup + timing.repair_window + max(faults - 1, 0) * timing.min_gap
        raise LabError(
            f"{faults} fault(s) do not fit a {timing.minutes:g}-minute game day: it needs at least "
            f"{need / 60:.1f} minutes ({timing.warmup:.0f} s of steady state first, {timing.min_gap:.0f} s "
            f"between faults, {timing.repair_window:.0f} s to repair the last one)",
            title="Game day too short",
            hint="give more --minutes or fewer --faults",
        )
    rng = random.Random(seed)
    chosen: list[Candidate] = []
    for candidate in sorted(available, key=lambda c: (rng.random(), c.key)):
        if len(chosen) == faults:
            break
        if all(compatible(candidate, other) for other in chosen):
            chosen.append(candidate)
    if len(chosen) < faults:
        raise LabError(
            f"the catalog has only {len(chosen)} fault(s) that can run together, {faults} were asked for",
            title="Not enough compatible faults",
            hint=f"ask for --faults {len(chosen)} or fewer",
        )
    # spaced random times: draw the free seconds, then put the gaps back in order
    offsets = sorted(rng.uniform(0, slack) for _ in chosen)
    return [Injection(round(first + offset + i * timing.min_gap, 1), c) for i, (offset, c) in enumerate(zip(offsets, chosen))]
