"""What a running game day keeps on disk (`gameday.json` in the state directory): the plan (what
is injected when: read by no front end until the end), each incident as the checks saw it, and
the service level so far. `cka-lab reset` undoes a game day like any session and removes it."""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, Field

from lab.gameday.slo import Incident, Point
from lab.ledger import ClusterIdentity
from lab.scenario import loader
from lab.scenario.models import Scenario

SHOW_WAIT = 180.0
"""Seconds an injected fault may take to show in its checks (a node turns NotReady after its
grace period); one that shows in none of them by then did not take and is left out of the score."""


class PlannedFault(BaseModel):
    number: int
    at: float
    """Seconds after the game day's steady state began."""
    scenario_id: str
    variant: str | None = None
    snapshot: str
    """The copy of the scenario file taken at start."""
    title: str = ""


class IncidentState(BaseModel):
    """One injected fault as the background grader sees it."""

    number: int
    injected: float
    """Seconds after the start, when its faults went in."""
    guards: list[bool]
    """Per check of its step: a guard (holds throughout) or a check the fault must break."""
    seen_failing: list[int] = Field(default_factory=list)
    shown: float | None = None
    """When the fault showed: every check that is not a guard seen failing (or, by SHOW_WAIT,
    any one of them)."""
    repaired: float | None = None
    """When every check passed again after it showed."""
    took: bool = True
    """False: no check ever failed within SHOW_WAIT (the fault did not take)."""

    @property
    def open(self) -> bool:
        return self.took and self.repaired is None

    def observe(self, passed: list[bool], at: float) -> None:
        """Take one grading of the incident's checks, seen `at` seconds after the start."""
        if not self.open:
            return
        for index, ok in enumerate(passed):
            if not ok and index not in self.seen_failing:
                self.seen_failing.append(index)
        if self.shown is None:
            waiting = [i for i, guard in enumerate(self.guards) if not guard and i not in self.seen_failing]
            late = at - self.injected >= SHOW_WAIT
            if not waiting or (late and self.seen_failing):
                self.shown = at
            elif late:
                self.took = False
            return
        if passed and all(passed):
            self.repaired = at


class GameDayState(BaseModel):
    gameday_id: str
    seed: int
    minutes: float
    faults: list[PlannedFault]
    load_node: str
    created_at: float = Field(default_factory=time.time)
    started_at: float | None = None
    """Seconds since the epoch when the steady state (and the game day's clock) began."""
    ended_at: float | None = None
    stopped_early: str | None = None
    """Why the game day ended before its time (interrupted, reset elsewhere), None otherwise."""
    incidents: list[IncidentState] = Field(default_factory=list)
    requests: int = 0
    bad: int = 0
    points: list[Point] = Field(default_factory=list)
    """The service level per bucket so far."""
    cluster: ClusterIdentity | None = None

    def fault(self, number: int) -> PlannedFault:
        return next(f for f in self.faults if f.number == number)

    def scored_incidents(self) -> list[Incident]:
        """The incidents that took, in slo's terms (named by their scenario and variant)."""
        found = []
        for incident in self.incidents:
            if incident.took:
                fault = self.fault(incident.number)
                name = fault.scenario_id + (f" ({fault.variant})" if fault.variant else "")
                found.append(Incident(name, incident.injected, incident.repaired))
        return found


def played(fault: PlannedFault) -> Scenario:
    """The fault's scenario, with its variant and only its first step (as an exam task's)."""
    scenario = loader.load_file(Path(fault.snapshot)).with_variant(fault.variant)
    return scenario.model_copy(update={"steps": scenario.steps[:1]})
