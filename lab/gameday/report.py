"""What the trainee reads of a game day: the live status line (the service level, the budget
left, how many incidents are open, never what they are) and, at the end, the report with the
timeline that names every fault, as Markdown (printed, and saved with `--report`)."""

from __future__ import annotations

import time

from lab.gameday.slo import REPAIR_TARGET, Budget, Incident, Objective, repair_credit, score
from lab.gameday.state import GameDayState
from lab.timefmt import duration as _truncated


def duration(seconds: float) -> str:
    # timefmt truncates: 195.2 - 75.2 is 119.99999999999999 seconds, which is 02:00
    return _truncated(round(seconds))


def spent(state: GameDayState, objective: Objective) -> Budget:
    return Budget(state.requests, state.bad, (1 - objective.success) * state.requests)


def _percent(share: float) -> str:
    return f"{100 * share:.1f} %"


def _latency(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def status_line(state: GameDayState, objective: Objective, now: float) -> str:
    """One line of the live status: elapsed, success (overall and the last bucket), p95 of the
    last bucket, budget left, open incidents."""
    elapsed = now - (state.started_at or now)
    budget = spent(state, objective)
    overall = 1 - state.bad / state.requests if state.requests else 1.0
    last = state.points[-1] if state.points else None
    recent = f" (last {_percent(last.success)})" if last else ""
    p95 = _latency(last.p95) if last else "—"
    open_count = sum(i.open for i in state.incidents)
    return (f"{duration(elapsed)} · success {_percent(overall)}{recent} · p95 {p95} · "
            f"budget left {_percent(budget.left)} · open incidents {open_count}")


def fault_name(state: GameDayState, number: int) -> str:
    fault = state.fault(number)
    return fault.scenario_id + (f" ({fault.variant})" if fault.variant else "")


def final_score(state: GameDayState, objective: Objective) -> int:
    return score(state.scored_incidents(), spent(state, objective))


def markdown(state: GameDayState, objective: Objective) -> str:
    budget = spent(state, objective)
    started = state.started_at or state.created_at
    ran = (state.ended_at or time.time()) - started
    lines = [
        f"# Game day {state.gameday_id}",
        "",
        f"- Seed {state.seed}, planned {state.minutes:g} min, ran {duration(ran)}"
        + (f" (stopped early: {state.stopped_early})" if state.stopped_early else "")
        + f", started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))}",
        f"- Objective: {_percent(objective.success)} of requests good (answered, within {_latency(objective.latency)})",
        f"- Requests: {state.requests}, bad: {state.bad}"
        + (f", success {_percent(1 - state.bad / state.requests)}" if state.requests else ""),
        f"- Error budget burned: {_percent(budget.burned) if budget.burned != float('inf') else 'all of it'}"
        f" (left {_percent(budget.left)})",
        f"- Score: {final_score(state, objective)} / 100 (half the budget left, half the repairs: full credit "
        f"within {duration(REPAIR_TARGET)}, none after {duration(2 * REPAIR_TARGET)})",
        "",
        "## Timeline",
        "",
        "| time | event |",
        "| --- | --- |",
    ]
    events: list[tuple[float, str]] = [(0.0, "steady state begins: traffic to the service")]
    for incident in state.incidents:
        name = fault_name(state, incident.number)
        events.append((incident.injected, f"incident {incident.number} injected: {name}"))
        if incident.shown is not None:
            events.append((incident.shown, f"incident {incident.number} shows in its checks"))
        if incident.repaired is not None:
            events.append((incident.repaired, f"incident {incident.number} repaired after "
                                              f"{duration(incident.repaired - incident.injected)}"))
        if not incident.took:
            events.append((incident.injected, f"incident {incident.number} never showed in its checks (not scored)"))
    events.append((ran, "end"))
    for at, text in sorted(events, key=lambda e: e[0]):
        lines.append(f"| {duration(at)} | {text} |")
    lines += ["", "## Incidents", "", "| # | fault | injected | repaired | time to repair | credit |",
              "| --- | --- | --- | --- | --- | --- |"]
    for incident in state.incidents:
        name = fault_name(state, incident.number)
        credit = repair_credit(Incident(name, incident.injected, incident.repaired))
        ttr = incident.repaired - incident.injected if incident.repaired is not None else None
        lines.append(
            f"| {incident.number} | {name} | {duration(incident.injected)} | "
            f"{duration(incident.repaired) if incident.repaired is not None else 'not repaired'} | "
            f"{duration(ttr) if ttr is not None else '—'} | "
            f"{_percent(credit) if incident.took else 'not scored'} |"
        )
    never = [f for f in state.faults if f.number not in {i.number for i in state.incidents}]
    for fault in never:
        lines.append(f"| {fault.number} | {fault_name(state, fault.number)} | not injected (ended first) | — | — | — |")
    if state.points:
        lines += ["", "## Service level", "", "| from | good requests | p95 latency |", "| --- | --- | --- |"]
        lines += [f"| {duration(p.at)} | {_percent(p.success)} | {_latency(p.p95)} |" for p in state.points]
    lines += ["", "`cka-lab reset` undoes every fault of this game day.", ""]
    return "\n".join(lines)
