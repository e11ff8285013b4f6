"""A short game day on the real cluster, two faults the service feels, injected unannounced while
vegeta loads the service by name from inside the control-plane node: the cluster DNS Service
selecting no pod (the name stops resolving), then the worker's kubelet stopped (the service's pods
leave its endpoints once the node is NotReady). The test repairs each the way its scenario's
reference solution does and sees the traffic generator measure each outage and each recovery,
each incident open and close with a repair time inside the game day, the score and the record
follow from that timeline, the report name the faults, and reset bring the baseline back (the
load's unit and folder gone too)."""

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
from lab.gameday.runner import BUCKET, GameDay
from lab.gameday.schedule import Timing, plan
from lab.gameday.state import played
from lab.registry import FAULTS
from lab.selftest import baseline, diff
from tests.e2e.polling import wait_until

pytestmark = pytest.mark.cluster

FAULTS_IN_ORDER = [("network-failure", "kube-dns-selector"), ("worker-node-failure", "kubelet-stopped")]
"""Two faults the service feels and that can share the cluster: its name stops resolving at the
cluster DNS; both replicas run on the worker (the control-plane is tainted), so a stopped kubelet
there takes them out of the Service's endpoints once the node is NotReady."""
FAULT = FAULTS_IN_ORDER[1]
MINUTES, WARMUP = 5, 20
GAP = 75
"""Seconds at least between the two injections: the first one is repaired and the service seen
good again, for whole chart buckets, before the second goes in."""


def _seed_for(faults: list[tuple[str, str]], gap: float = 0) -> int:
    """The seed below 20000 that plans these faults in this order, `gap` seconds apart at least,
    the last one soonest (the shortest game day)."""
    available = GameDay.available()
    timing = Timing(minutes=MINUTES, warmup=WARMUP)
    found = {}
    for seed in range(20000):
        injections = plan(available, len(faults), seed, timing)
        if [i.candidate.key for i in injections] == faults and all(
                b.at - a.at >= gap for a, b in zip(injections, injections[1:])):
            found[seed] = injections[-1].at
    assert found, f"no seed below 20000 plans {faults}"
    return min(found, key=lambda seed: (found[seed], seed))


def _score(final) -> int:
    """The score from the timeline, by the rules README states: half the error budget left (1 %
    of the requests may be bad), half the repairs (full credit within 5 minutes, none after 10)."""
    allowed = 0.01 * final.requests
    left = max(0.0, 1 - final.bad / allowed)
    credits = [min(1.0, max(0.0, 2 - (i.repaired - i.injected) / 300)) for i in final.incidents]
    return round(50 * left + 50 * sum(credits) / len(credits))


def test_a_game_day_measures_each_outage_and_each_repair(lab_cluster, lab_env, cli, tmp_path) -> None:
    lab_cluster.reset()
    lab_cluster.cluster.wait_until_healthy(timeout=420)
    before = baseline(lab_cluster)
    seed = _seed_for(FAULTS_IN_ORDER, GAP)
    report = tmp_path / "gameday.md"
    argv = [sys.executable, "-m", "lab", "gameday", "--seed", str(seed), "--minutes", str(MINUTES), "--faults", "2",
            "--warmup", str(WARMUP), "--no-tui", "--report", str(report)]
    started = time.monotonic()
    proc = subprocess.Popen(argv, env={**os.environ, **lab_env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runner = GameDay(lab_cluster)

    def incident(number: int):
        s = runner.state()
        return s and len(s.incidents) >= number and s.incidents[number - 1]

    try:
        for number, expected in enumerate(FAULTS_IN_ORDER, 1):
            injected = wait_until(lambda: incident(number), 420, f"fault {number} to be injected")
            fault = runner.state().fault(number)
            assert (fault.scenario_id, fault.variant) == expected
            wait_until(lambda: [p for p in runner.state().points if p.at >= injected.injected and p.success < 1.0],
                       120, f"the traffic generator to see the service fail after fault {number}")
            # repaired only once the fault shows in its checks: a repair before it showed is,
            # rightly, an incident that never showed and never closes
            wait_until(lambda: incident(number).shown is not None, 180, f"fault {number} to show in its checks")
            for action in played(fault).steps[0].reference_solution:
                FAULTS.get(action.type).call(lab_cluster.ctx, action)
            wait_until(lambda: incident(number).repaired is not None, 120, f"incident {number} to close")
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    took = time.monotonic() - started
    print(f"game day ran {took:.0f}s", file=sys.stderr)
    assert proc.returncode == 0, stdout + stderr
    # what broke stays hidden while it runs: the progress lines never name it
    for hidden in ("worker-node-failure", "network-failure", "kubelet", "kube-dns-selector"):
        assert hidden not in stderr, stderr
    for number in (1, 2):
        assert f"incident {number} opened" in stderr and f"incident {number} closed" in stderr, stderr

    final = runner.state()
    assert final is not None and final.ended_at is not None and final.stopped_early is None
    first, second = final.incidents
    assert first.repaired < second.injected
    # samples at about 10 a second all along; bad ones while each fault was in, good ones after each repair
    assert final.requests >= traffic.RATE * (final.ended_at - final.started_at) * 0.8
    assert 0 < final.bad < final.requests
    for closed, until in ((first, second.injected), (second, float("inf"))):
        assert closed.shown is not None and 0 < closed.repaired - closed.injected < took
        broken = [p for p in final.points if closed.injected <= p.at < closed.repaired]
        after = [p for p in final.points if p.at >= closed.repaired + 15 and p.at + BUCKET <= until]
        assert broken and min(p.success for p in broken) < 1.0, final.points
        assert after and all(p.success == 1.0 for p in after), final.points

    text = report.read_text()
    for number, (scenario, variant) in enumerate(FAULTS_IN_ORDER, 1):
        ttr = final.incidents[number - 1].repaired - final.incidents[number - 1].injected
        assert f"incident {number} injected: {scenario} ({variant})" in text
        assert f"incident {number} repaired after {int(round(ttr)) // 60:02d}:{int(round(ttr)) % 60:02d}" in text
    assert re.search(rf"^- Score: {_score(final)} / 100 ", text, re.M), text
    assert f"Game day {final.gameday_id}" in stdout

    history = json.loads(cli("history", "--json", check=True).stdout)
    attempts = sorted((a for a in history if a["exam_id"] == final.gameday_id), key=lambda a: a["started_at"])
    assert [a["scenario"] for a in attempts] == [s for s, _ in FAULTS_IN_ORDER]
    for attempt, closed in zip(attempts, final.incidents):
        assert attempt["mode"] == "gameday" and attempt["finished"]
        assert abs(attempt["seconds"] - (closed.repaired - closed.injected)) < 1
    assert final.gameday_id in cli("history", check=True).stdout
    (game,) = [g for g in json.loads(cli("history", "--gamedays", "--json", check=True).stdout)
               if g["id"] == final.gameday_id]
    assert (game["repaired"], game["faults"], game["requests"], game["bad"]) == (2, 2, final.requests, final.bad)
    assert game["score"] == _score(final)

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
    argv = [sys.executable, "-m", "lab", "gameday", "--seed", str(_seed_for([FAULT])), "--minutes", str(MINUTES),
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
