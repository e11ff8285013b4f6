"""The training record on a real SQLite file: attempts with steps and checks, read back after a
restart, statistics per domain, and two processes appending at once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lab.record import Attempt, CheckOutcome, StepOutcome, TrainingRecord


def attempt(scenario="control-plane-failure", domain="Troubleshooting", *, ended=100.0, finished=True, solutions=0,
            seconds=300.0, **extra) -> Attempt:
    return Attempt(scenario=scenario, domain=domain, started_at=ended - seconds, ended_at=ended, finished=finished,
                   steps=2, steps_done=2 if finished else 1, seconds=seconds, solutions=solutions, **extra)


def test_an_attempt_is_read_back_whole_by_a_new_process(tmp_path: Path) -> None:
    first = attempt(variant="wrong-api-port", seed=7, hints=2, reveals=1, step_outcomes=[
        StepOutcome(1, "Worker NotReady", True, 250.0, hints=2, reveals=1, checks=[
            CheckOutcome(1, "node-ready", 2, True, "node worker is Ready"),
            CheckOutcome(2, "file-contains", 1, True, None),
        ]),
        StepOutcome(2, "Again", False, None, solution_viewed=True, checks=[CheckOutcome(1, "node-ready", 1, False, "no")]),
    ])
    TrainingRecord(tmp_path).add(first)
    code = (
        "import json, sys; from lab.record import TrainingRecord; "
        "print(json.dumps([a.as_dict() for a in TrainingRecord(sys.argv[1]).attempts(with_steps=True)]))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True).stdout
    (read,) = json.loads(out)
    assert read["variant"] == "wrong-api-port" and read["seed"] == 7 and read["reveals"] == 1
    assert [s["title"] for s in read["steps_detail"]] == ["Worker NotReady", "Again"]
    assert read["steps_detail"][0]["checks"][0] == {"number": 1, "type": "node-ready", "weight": 2, "passed": True,
                                                     "message": "node worker is Ready"}
    assert read["steps_detail"][1]["solution_viewed"] is True
    assert read["steps_detail"][1]["checks"][0]["passed"] is False
    assert (tmp_path / "training.db").stat().st_mode & 0o777 == 0o600


def test_last_result_per_scenario_is_the_newest_practice_attempt(tmp_path: Path) -> None:
    record = TrainingRecord(tmp_path)
    record.add(attempt(ended=10, finished=False))
    record.add(attempt(ended=20))
    record.add(attempt(ended=30, mode="exam", exam_id="e1"))
    record.add(attempt("pod-deletion", ended=5))
    last = record.last_per_scenario()
    assert last["control-plane-failure"].ended_at == 20 and last["control-plane-failure"].finished
    assert set(last) == {"control-plane-failure", "pod-deletion"}


def test_domain_stats_count_successes_median_and_trend(tmp_path: Path) -> None:
    record = TrainingRecord(tmp_path)
    # five failures, then five successes: the trend is +100 %
    for i in range(5):
        record.add(attempt(ended=i, finished=False, seconds=100))
    for i in range(5, 10):
        record.add(attempt(ended=i, seconds=100 * i))
    record.add(attempt("etcd-backup-restore", "Cluster Architecture, Installation and Configuration", ended=50,
                       solutions=1, seconds=60))
    stats = {s.domain: s for s in record.domain_stats()}
    trouble = stats["Troubleshooting"]
    assert (trouble.attempts, trouble.succeeded, trouble.success_rate) == (10, 5, 0.5)
    assert trouble.median_seconds == 700  # finished attempts only: 500..900
    assert trouble.trend == 1.0
    arch = stats["Cluster Architecture, Installation and Configuration"]
    assert (arch.attempts, arch.succeeded, arch.trend) == (1, 0, None)  # a viewed solution is no success


def test_weakest_ranks_the_lowest_success_rate_first(tmp_path: Path) -> None:
    record = TrainingRecord(tmp_path)
    record.add(attempt("a", ended=1))
    record.add(attempt("b", ended=2, finished=False))
    record.add(attempt("c", ended=3, solutions=1, hints=3))
    record.add(attempt("c", ended=4))
    assert [name for name, _, _ in record.weakest()] == ["b", "c", "a"]


def test_the_old_results_file_is_imported_once(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps({"pod-deletion": {
        "finished": True, "steps_done": 2, "steps": 2, "seconds": 90, "hints": 1, "solutions": 0, "ended_at": 500}}))
    record = TrainingRecord(tmp_path)
    assert record.import_results_file(tmp_path / "results.json") == 1
    assert not (tmp_path / "results.json").exists()
    assert record.last_per_scenario()["pod-deletion"].hints == 1


def test_two_processes_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    code = (
        "import sys; from lab.record import Attempt, TrainingRecord\n"
        "r = TrainingRecord(sys.argv[1])\n"
        "for i in range(40): r.add(Attempt(sys.argv[2], 0, float(i), True, 1, 1, 1.0))\n"
    )
    writers = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), name]) for name in ("one", "two")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    attempts = TrainingRecord(tmp_path).attempts()
    assert sorted((a.scenario for a in attempts)) == ["one"] * 40 + ["two"] * 40
