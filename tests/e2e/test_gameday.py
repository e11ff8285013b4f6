"""A short game day on the real cluster: one fault that takes the service's pods out of their
Service (the worker's kubelet stopped), injected unannounced while vegeta loads the service from
inside the control-plane node. The test repairs it the way the scenario's reference solution does
and sees the traffic generator measure the outage and the recovery, the incident open and close
with a repair time inside the game day, the report name the fault, the record keep the game day,
and reset bring the baseline back (the load's unit and folder gone too)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.gameday import traffic
from lab.gameday.runner import GameDay
from lab.gameday.schedule import Timing, plan
from lab.gameday.state import played
from lab.registry import FAULTS
from lab.selftest import baseline, diff
from tests.e2e.polling import wait_until

pytestmark = pytest.mark.cluster

FAULT = ("worker-node-failure", "kubelet-stopped")
"""A fault the service feels: both replicas run on the worker (the control-plane is tainted), so
a stopped kubelet there takes them out of the Service's endpoints once the node is NotReady."""
MINUTES, WARMUP = 3, 20


def _seed_for(fault: tuple[str, str]) -> int:
    available = GameDay.available()
    timing = Timing(minutes=MINUTES, warmup=WARMUP)
    return next(seed for seed in range(500) if plan(available, 1, seed, timing)[0].candidate.key == fault)


def test_a_game_day_measures_the_outage_and_the_repair(lab_cluster, lab_env, cli, tmp_path) -> None:
    lab_cluster.reset()
    lab_cluster.cluster.wait_until_healthy(timeout=420)
    before = baseline(lab_cluster)
    seed = _seed_for(FAULT)
    report = tmp_path / "gameday.md"
    argv = [sys.executable, "-m", "lab", "gameday", "--seed", str(seed), "--minutes", str(MINUTES), "--faults", "1",
            "--warmup", str(WARMUP), "--no-tui", "--report", str(report)]
    started = time.monotonic()
    proc = subprocess.Popen(argv, env={**os.environ, **lab_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runner = GameDay(lab_cluster)
    try:
        state = wait_until(lambda: (s := runner.state()) and s.incidents and s, 420, "the fault to be injected")
        incident = state.incidents[0]
        fault = state.fault(incident.number)
        assert (fault.scenario_id, fault.variant) == FAULT

        def outage_measured():
            s = runner.state()
            return s and [p for p in s.points if p.at >= incident.injected and p.success < 1.0]

        def shown():
            s = runner.state()
            return s and s.incidents[0].shown is not None

        wait_until(outage_measured, 120, "the traffic generator to see the service fail")
        # repaired only once the fault shows in its checks (the node NotReady after the grace
        # period): a blip of bad requests right after the injection came first, and a repair
        # before the fault showed is, rightly, an incident that never showed and never closes
        wait_until(shown, 180, "the fault to show in its checks")
        for action in played(fault).steps[0].reference_solution:
            FAULTS.get(action.type).call(lab_cluster.ctx, action)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    took = time.monotonic() - started
    print(f"game day ran {took:.0f}s", file=sys.stderr)
    assert proc.returncode == 0, stdout + stderr
    # what broke stays hidden while it runs: the progress lines never name it
    assert "worker-node-failure" not in stderr and "kubelet" not in stderr, stderr
    assert "incident 1 opened" in stderr and "incident 1 closed" in stderr, stderr

    final = runner.state()
    assert final is not None and final.ended_at is not None and final.stopped_early is None
    (closed,) = final.incidents
    assert closed.shown is not None and closed.repaired is not None
    ttr = closed.repaired - closed.injected
    assert 0 < ttr < took
    # samples at about 10 a second all along; bad ones while it was broken, good ones after the repair
    assert final.requests >= traffic.RATE * (final.ended_at - final.started_at) * 0.8
    assert 0 < final.bad < final.requests
    broken = [p for p in final.points if closed.injected <= p.at < closed.repaired]
    after = [p for p in final.points if p.at >= closed.repaired + 15]
    assert min(p.success for p in broken) < 1.0
    assert after and all(p.success == 1.0 for p in after), final.points

    text = report.read_text()
    assert "incident 1 injected: worker-node-failure (kubelet-stopped)" in text
    assert f"repaired after {int(round(ttr)) // 60:02d}:{int(round(ttr)) % 60:02d}" in text
    assert f"Game day {final.gameday_id}" in stdout

    history = json.loads(cli("history", "--json", check=True).stdout)
    (attempt,) = [a for a in history if a["exam_id"] == final.gameday_id]
    assert attempt["mode"] == "gameday" and attempt["scenario"] == FAULT[0] and attempt["finished"]
    assert abs(attempt["seconds"] - ttr) < 1
    assert final.gameday_id in cli("history", check=True).stdout
    (game,) = [g for g in json.loads(cli("history", "--gamedays", "--json", check=True).stdout)
               if g["id"] == final.gameday_id]
    assert (game["repaired"], game["faults"], game["requests"], game["bad"]) == (1, 1, final.requests, final.bad)

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
