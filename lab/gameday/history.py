"""A game day in the training record: each incident as an attempt at its scenario (mode
"gameday": repaired or not, in how long, its repair credit as its score), and the game day
itself with its figures and report (`cka-lab history` lists both)."""

from __future__ import annotations

import sqlite3
import time

from lab.gameday import report
from lab.gameday.slo import Incident, Objective, repair_credit
from lab.gameday.state import GameDayState, played
from lab.record import Attempt, GameDayRecord, StepOutcome


def attempts(state: GameDayState, titles: dict[int, tuple[str, str, str]]) -> list[Attempt]:
    """One attempt per incident that took; titles maps a fault's number to (scenario title,
    domain, step title)."""
    started = state.started_at or state.created_at
    ended = state.ended_at or time.time()
    found = []
    for incident in state.incidents:
        if not incident.took:
            continue
        fault = state.fault(incident.number)
        title, domain, step = titles.get(incident.number, ("", "", ""))
        repaired = incident.repaired is not None
        seconds = (incident.repaired if repaired else ended - started) - incident.injected
        credit = repair_credit(Incident(fault.scenario_id, incident.injected, incident.repaired))
        found.append(Attempt(
            scenario=fault.scenario_id, title=title, domain=domain, variant=fault.variant, seed=state.seed,
            mode="gameday", exam_id=state.gameday_id, started_at=started + incident.injected,
            ended_at=started + incident.repaired if repaired else ended, finished=repaired, steps=1,
            steps_done=int(repaired), seconds=max(0.0, seconds), score=round(credit, 2), points=1.0,
            step_outcomes=[StepOutcome(1, step, repaired, max(0.0, seconds))],
        ))
    return found


def summary(state: GameDayState, objective: Objective) -> GameDayRecord:
    burned = report.spent(state, objective).burned
    return GameDayRecord(
        id=state.gameday_id, seed=state.seed, started_at=state.started_at or state.created_at,
        ended_at=state.ended_at or time.time(), faults=len(state.incidents),
        repaired=sum(i.repaired is not None for i in state.incidents), requests=state.requests, bad=state.bad,
        budget_burned=min(burned, 1e6), score=report.final_score(state, objective),
        report=report.markdown(state, objective),
    )


def record(lab, state: GameDayState, objective: Objective) -> None:
    """Record a game day that began (one whose start failed before its steady state is none)."""
    if not lab.record_attempts or state.started_at is None:
        return
    titles = {}
    for fault in state.faults:
        try:
            scenario = played(fault)
            titles[fault.number] = (scenario.title, scenario.domain, scenario.steps[0].title)
        except Exception:  # noqa: BLE001 - a snapshot gone only costs the titles
            pass
    try:
        for attempt in attempts(state, titles):
            lab.results.add(attempt)
        lab.results.record.add_gameday(summary(state, objective))
    except (OSError, sqlite3.Error):
        pass  # a lost record line must never cost the game day's result
