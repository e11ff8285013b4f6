"""The live status line says how the service does and how many incidents are open, never what
they are; the end report names every fault in a timeline and scores it as slo.py does."""

from __future__ import annotations

import pytest

from lab.gameday.report import fault_name, final_score, markdown, spent, status_line
from lab.gameday.slo import Incident, Objective, Point, budget, Sample, score
from lab.gameday.state import GameDayState, IncidentState, PlannedFault

SLO = Objective()
T0 = 1_700_000_000.0


def game(**extra) -> GameDayState:
    faults = [PlannedFault(number=1, at=75.0, scenario_id="worker-node-failure", variant="kubelet-stopped", snapshot="/x"),
              PlannedFault(number=2, at=300.0, scenario_id="rbac-access", variant=None, snapshot="/y")]
    incidents = [IncidentState(number=1, injected=75.2, guards=[False], seen_failing=[0], shown=96.0, repaired=195.2)]
    fields = dict(gameday_id="ab12", seed=7, minutes=8, faults=faults, load_node="control-plane", started_at=T0,
                  ended_at=T0 + 240, incidents=incidents, requests=2400, bad=12,
                  points=[Point(0, 1.0, 0.004), Point(80, 0.5, 2.0), Point(200, 1.0, 0.005)])
    return GameDayState(**(fields | extra))


def test_the_status_line_counts_open_incidents_without_naming_them() -> None:
    state = game(incidents=[IncidentState(number=1, injected=75.2, guards=[False])], ended_at=None)
    line = status_line(state, SLO, T0 + 130)
    assert "02:10" in line and "success 99.5 % (last 100.0 %)" in line and "p95 5 ms" in line
    assert "budget left 50.0 %" in line and "open incidents 1" in line
    assert "worker" not in line and "kubelet" not in line


def test_the_report_names_each_fault_in_a_timeline_and_scores_it_like_slo() -> None:
    state = game()
    text = markdown(state, SLO)
    assert fault_name(state, 1) == "worker-node-failure (kubelet-stopped)"
    timeline = text.split("## Timeline")[1].split("## Incidents")[0]
    events = [r.strip("| ").split(" | ")[1] for r in timeline.splitlines() if r.startswith("| 0")]
    assert [e.split(":")[0] for e in events] == [
        "steady state begins", "incident 1 injected", "incident 1 shows in its checks", "incident 1 repaired after 02", "end"]
    assert "| 01:15 | incident 1 injected: worker-node-failure (kubelet-stopped) |" in timeline
    assert "repaired after 02:00" in timeline
    # 12 bad of 2400 with a 1 % objective: half of the budget; a two-minute repair earns it all
    assert spent(state, SLO).burned == pytest.approx(0.5)
    expected = score([Incident("worker-node-failure (kubelet-stopped)", 75.2, 195.2)], budget(
        [Sample(0, i >= 12, 0.01) for i in range(2400)], SLO))
    assert final_score(state, SLO) == expected == 75
    assert f"Score: {expected} / 100" in text and "Error budget burned: 50.0 %" in text
    assert "| 2 | rbac-access | not injected (ended first) |" in text
    assert "| 01:20 | 50.0 % | 2.00 s |" in text


def test_an_unrepaired_incident_earns_no_credit_and_says_so() -> None:
    state = game(incidents=[IncidentState(number=1, injected=75.2, guards=[False], shown=96.0)])
    text = markdown(state, SLO)
    assert "| 1 | worker-node-failure (kubelet-stopped) | 01:15 | not repaired | — | 0.0 % |" in text
    assert final_score(state, SLO) == 25
