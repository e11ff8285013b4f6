"""Short game days on the real cluster, injected unannounced while vegeta loads the service from
inside the control-plane node.

- Two faults, seeded: first one the service feels (the worker's kubelet stopped takes its pods
  out of the Service), then one it does not (an RBAC task's objects). The test repairs each the
  way its scenario's reference solution does and sees the traffic generator measure the outage
  and the recovery, each incident open and close with a repair time inside the game day, the
  score agree with the timeline's arithmetic, the report name the faults, the record keep the
  game day, and reset bring the baseline back (the load's unit and folder gone too).
- Killed mid-way: reset undoes it all.

Of the catalog's faults a game day may draw, only those on the worker node take the service's
pods away (its traffic goes to the Service's ClusterIP from a node, outside every pod), and no
two of them may run together: hence one felt fault and one elsewhere."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.gameday import traffic
from lab.gameday.runner import GameDay
from lab.gameday.schedule import Timing, plan
from lab.gameday.slo import Objective, repair_credit
from lab.gameday.state import played
from lab.registry import FAULTS
from lab.selftest import baseline, diff
from tests.e2e.polling import wait_until

pytestmark = pytest.mark.cluster

FAULT = ("worker-node-failure", "kubelet-stopped")
"""A fault the service feels: both replicas run on the worker (the control-plane is tainted), so
a stopped kubelet there takes them out of the Service's endpoints once the node is NotReady."""
ELSEWHERE = ("rbac-access", "role-for-serviceaccount")
"""A fault in objects of its own: the service must keep its objective through it."""
MINUTES, WARMUP = 3, 20
TWO_MINUTES = 4


def _seed_for(*faults: tuple[str, str], minutes: float = MINUTES) -> int:
    available = GameDay.available()
    timing = Timing(minutes=minutes, warmup=WARMUP)
    return next(seed for seed in range(5000)
                if [i.candidate.key for i in plan(available, len(faults), seed, timing)] == list(faults))


def test_a_game_day_measures_each_outage_and_repair(lab_cluster, lab_env, cli, tmp_path) -> None:
    lab_cluster.reset()
    lab_cluster.cluster.wait_until_healthy(timeout=420)
    before = baseline(lab_cluster)
    seed = _seed_for(FAULT, ELSEWHERE, minutes=TWO_MINUTES)
    report = tmp_path / "gameday.md"
    argv = [sys.executable, "-m", "lab", "gameday", "--seed", str(seed), "--minutes", str(TWO_MINUTES),
            "--faults", "2", "--warmup", str(WARMUP), "--no-tui", "--report", str(report)]
    started = time.monotonic()
    proc = subprocess.Popen(argv, env={**os.environ, **lab_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runner = GameDay(lab_cluster)

    def repair(number: int, expected: tuple[str, str], felt: bool) -> None:
        state = wait_until(lambda: (s := runner.state()) and len(s.incidents) >= number and s,
                           420, f"fault {number} to be injected")
        incident = state.incidents[number - 1]
        fault = state.fault(incident.number)
        assert (fault.scenario_id, fault.variant) == expected
        if felt:
            def outage_measured():
                s = runner.state()
                return s and [p for p in s.points if p.at >= incident.injected and p.success < 1.0]

            wait_until(outage_measured, 120, "the traffic generator to see the service fail")
        # the background grader must have seen the fault in its checks before it can see a repair
        wait_until(lambda: runner.state().incidents[number - 1].shown is not None, 200,
                   f"incident {number} to show in its checks")
        for action in played(fault).steps[0].reference_solution:
            FAULTS.get(action.type).call(lab_cluster.ctx, action)

    try:
        repair(1, FAULT, felt=True)
        repair(2, ELSEWHERE, felt=False)
        stdout, stderr = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    took = time.monotonic() - started
    print(f"game day ran {took:.0f}s", file=sys.stderr)
    assert proc.returncode == 0, stdout + stderr
    # what broke stays hidden while it runs: the progress lines never name it
    for hidden in ("worker-node-failure", "kubelet", "rbac-access", "serviceaccount"):
        assert hidden not in stderr, stderr
    for number in (1, 2):
        assert f"incident {number} opened" in stderr and f"incident {number} closed" in stderr, stderr

    final = runner.state()
    assert final is not None and final.ended_at is not None and final.stopped_early is None
    first, second = final.incidents
    for incident in (first, second):
        assert incident.took and incident.shown is not None and incident.repaired is not None
        assert 0 < incident.repaired - incident.injected < took
    assert first.injected < second.injected
    # samples at about 10 a second all along; bad ones while the worker was down, good ones after
    # its repair, through the second fault too
    assert final.requests >= traffic.RATE * (final.ended_at - final.started_at) * 0.8
    assert 0 < final.bad < final.requests
    broken = [p for p in final.points if first.injected <= p.at < first.repaired]
    after = [p for p in final.points if p.at >= first.repaired + 15]
    assert min(p.success for p in broken) < 1.0
    assert after and all(p.success == 1.0 for p in after), final.points
    assert [p for p in after if second.injected <= p.at < second.repaired], "the second incident is measured"

    # the score is the timeline's arithmetic: half the budget left, half the repair credits
    objective = Objective()
    allowed = (1 - objective.success) * final.requests
    budget_left = max(0.0, 1.0 - final.bad / allowed)
    credits = [repair_credit(i) for i in final.scored_incidents()]
    assert len(credits) == 2 and all(0 < c <= 1 for c in credits)
    expected_score = round(50 * budget_left + 50 * sum(credits) / 2)

    text = report.read_text()
    assert "incident 1 injected: worker-node-failure (kubelet-stopped)" in text
    assert "incident 2 injected: rbac-access (role-for-serviceaccount)" in text
    for incident in (first, second):
        ttr = int(round(incident.repaired - incident.injected))
        assert f"repaired after {ttr // 60:02d}:{ttr % 60:02d}" in text
    assert re.search(rf"Score: {expected_score} / 100\b", text), text
    assert f"Game day {final.gameday_id}" in stdout

    history = json.loads(cli("history", "--json", check=True).stdout)
    attempts = sorted((a for a in history if a["exam_id"] == final.gameday_id), key=lambda a: a["scenario"])
    assert [(a["mode"], a["scenario"], a["finished"]) for a in attempts] == [
        ("gameday", ELSEWHERE[0], True), ("gameday", FAULT[0], True)]
    for attempt, incident in zip(attempts, (second, first)):
        assert abs(attempt["seconds"] - (incident.repaired - incident.injected)) < 1
    assert final.gameday_id in cli("history", check=True).stdout
    (game,) = [g for g in json.loads(cli("history", "--gamedays", "--json", check=True).stdout)
               if g["id"] == final.gameday_id]
    assert (game["repaired"], game["faults"], game["requests"], game["bad"]) == (2, 2, final.requests, final.bad)
    assert game["score"] == expected_score

    node = lab_cluster.cluster.node("control-plane")
    reset = cli("reset", timeout=1200)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert not runner.file.exists()
    assert node.run(["systemctl", "is-active", traffic.UNIT], check=False).stdout.strip() != "active"
    assert node.run(["test", "-e", traffic.FOLDER], check=False).returncode != 0
    lab_cluster.cluster.wait_until_healthy(timeout=420)
    assert diff(before, baseline(lab_cluster)) == []


def test_a_game_day_killed_mid_way_is_undone_by_reset(lab_cluster, lab_env, cli) -> None:
    """SIGKILL after the fault went in: the load stops by itself at the latest, and reset
    undoes it all at once (the fault, the load's unit and folder, the service)."""
    lab_cluster.reset()
    lab_cluster.cluster.wait_until_healthy(timeout=420)
    before = baseline(lab_cluster)
    argv = [sys.executable, "-m", "lab", "gameday", "--seed", str(_seed_for(FAULT)), "--minutes", str(MINUTES),
            "--faults", "1", "--warmup", str(WARMUP), "--no-tui"]
    proc = subprocess.Popen(argv, env={**os.environ, **lab_env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runner = GameDay(lab_cluster)
    try:
        state = wait_until(lambda: (s := runner.state()) and s.incidents and s, 420, "the fault to be injected")
    finally:
        proc.kill()
        proc.wait()
    node = lab_cluster.cluster.node("control-plane")
    assert node.run(["systemctl", "is-active", traffic.UNIT], check=False).stdout.strip() == "active"
    reset = cli("reset", timeout=1200)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    assert "kubelet on worker back to active" in reset.stderr
    assert node.run(["systemctl", "is-active", traffic.UNIT], check=False).stdout.strip() != "active"
    assert node.run(["pgrep", "-f", f"{traffic.FOLDER}/vegeta"], check=False).returncode != 0
    assert node.run(["test", "-e", traffic.FOLDER], check=False).returncode != 0
    lab_cluster.cluster.wait_until_healthy(timeout=420)
    assert diff(before, baseline(lab_cluster)) == []
    # the game day cut short is in the record as it stood: its incident not repaired
    history = json.loads(cli("history", "--json", check=True).stdout)
    (attempt,) = [a for a in history if a["exam_id"] == state.gameday_id]
    assert attempt["mode"] == "gameday" and attempt["scenario"] == FAULT[0] and not attempt["finished"]
