"""A mock exam on the real cluster: tasks from several domains in one cluster, some solved by
their reference solutions and some left, graded once at the end to exactly the expected weighted
score; the per-task contexts work; reset restores the baseline; the record keeps every task."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lab.exam.runner import Exam
from lab.exam.scoring import task_earned
from lab.registry import FAULTS
from lab.selftest import baseline, diff

pytestmark = pytest.mark.cluster

SEED = 1


def test_an_exam_is_graded_once_at_the_end_to_the_expected_score(lab_cluster, lab_env, cli) -> None:
    lab_cluster.reset()
    lab_cluster.cluster.wait_until_healthy(timeout=420)
    before = baseline(lab_cluster)
    started = json.loads(cli("exam", "--seed", str(SEED), "--tasks", "4", "--json", check=True, timeout=1500).stdout)
    tasks = started["tasks"]
    try:
        assert len(tasks) >= 4 and len({t["domain"] for t in tasks}) >= 3, tasks
        # no feedback while it runs: there is no practice session to grade
        assert cli("check").returncode != 0

        # each task has its context, with the task's namespace, in the lab shells' KUBECONFIG
        home = Path(lab_env["CKA_LAB_HOME"])
        kubeconfig = f"{home / 'exam-contexts'}{os.pathsep}{home / 'kubeconfig'}"
        from lab.shells import tool_path

        for task in tasks:
            namespace = subprocess.run(
                ["kubectl", "--context", task["context"], "config", "view", "--minify", "-o",
                 "jsonpath={.contexts[0].context.namespace}"],
                env={**os.environ, "KUBECONFIG": kubeconfig, "PATH": tool_path()}, capture_output=True, text=True,
                check=True,
            ).stdout
            assert namespace == task["namespace"]

        # solve every other task the way its reference solution does; leave the rest
        exam = Exam(lab_cluster)
        state = exam.require()
        solved = [t for t in state.tasks if t.number % 2 == 1]
        for task in solved:
            for action in exam.task_scenario(task).steps[0].reference_solution:
                FAULTS.get(action.type).call(lab_cluster.ctx, action)
        for task in solved:
            step = exam.task_scenario(task).steps[0]
            lab_cluster.wait_for_checks(step.checks, step.check_timeout, what=f"task {task.number}")

        _drive_the_exam_screen(lab_env, len(tasks))
        result = json.loads(cli("exam", "--end", "--json", check=True).stdout)  # ended in the TUI: no regrade
        # expected: full points for a solved task; for a left one, only its guards (which hold throughout)
        expected = 0.0
        for task in state.tasks:
            checks = exam.task_scenario(task).steps[0].checks
            if task in solved:
                expected += task.points
            else:
                expected += task_earned(task.points, [(c.weight, c.guard) for c in checks])
        assert result["earned"] == round(expected, 2)
        assert result["possible"] == sum(t.points for t in state.tasks)
        assert result["passed"] == (result["percent"] >= 66)
        assert exam.require().tasks[1].flagged  # flagged in the TUI
        shown = cli("exam", "--end", check=True).stdout
        assert "pass mark 66 %" in shown and "wanted:" in shown
        review = cli("exam", "--review", check=True).stdout
        assert "time spent" in review
    finally:
        reset = cli("reset", timeout=1200)
        assert reset.returncode == 0, reset.stdout + reset.stderr
    assert not (Path(lab_env["CKA_LAB_HOME"]) / "exam.json").exists()
    lab_cluster.cluster.wait_until_healthy(timeout=420)
    assert diff(before, baseline(lab_cluster)) == []
    history = json.loads(cli("history", "--json", check=True).stdout)
    exam_attempts = [a for a in history if a["exam_id"] == result["exam_id"]]
    assert sorted(a["scenario"] for a in exam_attempts) == sorted(t["scenario_id"] for t in tasks)
    assert sum(a["score"] for a in exam_attempts) == result["earned"]


def _drive_the_exam_screen(lab_env: dict[str, str], count: int) -> None:
    """In a real terminal: the exam screen, task 2, flag it, a kubectl shell with the tasks'
    contexts, end the exam, see the result."""
    from tests.terminal import CKA_LAB, Terminal, back_at_the_prompt

    term = Terminal(lab_env)
    try:
        term.type_line(f"{CKA_LAB} exam --resume")
        term.wait_for(lambda s: f"Task 1 of {count}" in s and "no grading until the end" in s, 60, "the exam screen")
        term.send("Down")
        term.wait_for(lambda s: f"Task 2 of {count}" in s and "cka-lab-t2" in s, 20, "task 2")
        term.send("f")
        term.wait_for(lambda s: "1 flagged" in s, 20, "the flag")
        term.send("k")
        term.wait_for(lambda s: "cka-lab shell" in s, 30, "the kubectl shell")
        term.type_line("kubectl config get-contexts -o name | grep -c '^cka-lab-t[0-9]'")
        term.wait_for(lambda s: str(count) in [line.strip() for line in s.splitlines()], 30, "one context per task")
        term.type_line("exit")
        term.wait_for(lambda s: "no grading until the end" in s, 30, "back in the exam")
        term.send("e")
        term.wait_for(lambda s: "End the exam?" in s, 20, "the confirmation")
        term.send("y")
        term.wait_for(lambda s: "pass mark 66 %" in s and "Per domain" in s, 300, "the result")
        term.send("q")
        term.wait_for(back_at_the_prompt, 30, "the prompt")
    finally:
        term.close()
