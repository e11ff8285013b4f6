"""The engine on the real cluster, through the real `cka-lab` command: the trainee's flow,
selftest, trust, and the safety rules (SIGKILL during injection: test_resilience.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab import paths

pytestmark = pytest.mark.cluster


def test_trainee_flow_check_hint_fix_advance(lab_cluster, cli) -> None:
    started = time.time()
    cli("start", "control-plane-failure", "--no-tui", check=True)
    try:
        graded = cli("check", "--json")
        assert graded.returncode == 1
        report = json.loads(graded.stdout)
        assert report["step"] == 1 and not report["passed"]
        # what must become true, never the cause: the scheduler check stays locked
        assert [(c["status"], c["message"]) for c in report["checks"]][1] == ("failing", "Deployment app has 1 ready pod")
        assert report["checks"][0]["status"] == "locked"
        assert "scheduler" not in graded.stdout.lower()

        hint = cli("hint", check=True)
        assert "Hint 1/3" in hint.stdout
        assert "kube-scheduler" in cli("reveal", check=True).stdout
        revealed = json.loads(cli("check", "--json").stdout)
        assert "kube-scheduler" in revealed["checks"][0]["message"]

        # the fix a trainee makes on the node
        cli("ssh", "control-plane", "--", "sed", "-i", "s/- kube-schedulerrrr/- kube-scheduler/",
            "/etc/kubernetes/manifests/kube-scheduler.yaml", check=True)
        deadline = time.monotonic() + 240
        while (graded := cli("check")).returncode != 0:
            assert time.monotonic() < deadline, graded.stdout
            time.sleep(5)
        assert "Step 1 solved" in graded.stdout
        status = json.loads(cli("status", "--json", check=True).stdout)
        assert status["step"] == 2 and status["hints_used"] == 1 and status["checks_revealed"] == 1
    finally:
        reset = cli("reset")
        assert reset.returncode == 0, reset.stderr
    # the abandoned attempt is in the training record, read back by new processes
    (attempt, *_) = json.loads(cli("history", "--json", check=True).stdout)
    assert attempt["scenario"] == "control-plane-failure" and attempt["ended_at"] >= started
    assert (attempt["finished"], attempt["steps_done"], attempt["hints"], attempt["reveals"]) == (False, 1, 1, 1)
    assert attempt["steps_detail"][0]["solved"] and not attempt["steps_detail"][1]["solved"]
    assert [c["passed"] for c in attempt["steps_detail"][0]["checks"]] == [True, True]
    domains = {d["domain"]: d for d in json.loads(cli("stats", "--json", check=True).stdout)["domains"]}
    assert domains["Troubleshooting"]["attempts"] >= 1


def test_selftest_control_plane_failure(cli) -> None:
    result = cli("selftest", "control-plane-failure", timeout=1800)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS control-plane-failure" in result.stdout
    assert "reset: baseline restored" in result.stderr


def test_refuses_a_cluster_it_did_not_create(lab_cluster, lab_env, tmp_path: Path) -> None:
    """A same-named cluster without cka-lab's ownership record is left untouched."""
    env = {**os.environ, **lab_env, "CKA_LAB_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "lab", "start", "control-plane-failure", "--no-tui"],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1
    assert "Refused for safety" in result.stderr and "not created by cka-lab" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ledger.json").exists()


def test_leaves_the_users_kubeconfig_alone(lab_cluster, lab_env, tmp_path: Path) -> None:
    home = tmp_path / "home"
    kube = home / ".kube"
    kube.mkdir(parents=True)
    sentinel = "apiVersion: v1\nkind: Config\ncurrent-context: users-own\n"
    (kube / "config").write_text(sentinel)
    env = {**os.environ, **lab_env, "HOME": str(home), "CKA_LAB_CONFIG": str(paths.config_file())}
    env.pop("KUBECONFIG", None)
    for args in (["status"], ["list"]):
        subprocess.run([sys.executable, "-m", "lab", *args], env=env, capture_output=True, text=True, timeout=120)
    result = subprocess.run(
        [sys.executable, "-m", "lab", "ssh", "control-plane", "--", "true"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert (kube / "config").read_text() == sentinel
    assert sorted(p.name for p in kube.iterdir()) == ["config"]


def test_the_lab_shell_ignores_a_kubeconfig_exported_by_the_users_bashrc(lab_cluster, lab_env, tmp_path: Path) -> None:
    """`cka-lab shell` sets KUBECONFIG after the user's rc files: a .bashrc pointing kubectl at
    another cluster cannot redirect the lab shell."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("export KUBECONFIG=/tmp/users-real-cluster.conf\nalias kubectl='echo hijacked'\n")
    env = {**os.environ, **lab_env, "HOME": str(home), "CKA_LAB_CONFIG": str(paths.config_file())}
    script = "echo KC=$KUBECONFIG\n\\kubectl get nodes -o name\nexit\n"
    result = subprocess.run([sys.executable, "-m", "lab", "shell"], input=script, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"KC={lab_cluster.cluster.kubeconfig}" in result.stdout
    assert f"node/{lab_env['CKA_LAB_CLUSTER']}-control-plane" in result.stdout, result.stdout + result.stderr


def test_a_scenario_file_of_ones_own_runs_only_once_trusted_and_as_it_was_at_start(
    lab_cluster, lab_env, tmp_path: Path
) -> None:
    from lab.scenario import loader

    mine = tmp_path / "scenarios" / "rollout-rollback.yaml"
    mine.parent.mkdir()
    mine.write_bytes(loader.find("rollout-rollback").read_bytes())
    env = {**lab_env, "CKA_LAB_CONFIG": str(tmp_path / "config" / "config.toml")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lab", *args], env={**os.environ, **env}, capture_output=True,
                              text=True, timeout=600)

    refused = run("start", str(mine), "--no-tui")
    assert refused.returncode == 1 and "--trust" in refused.stderr and "Traceback" not in refused.stderr
    assert lab_cluster.state() is None  # nothing started, nothing injected
    try:
        started = run("start", str(mine), "--no-tui", "--trust")
        assert started.returncode == 0, started.stderr
        before = json.loads(run("check", "--json").stdout)
        # an edit after start: the step's only check now asks for something true at once
        text = mine.read_text()
        checks = text[text.index("    checks:\n"):text.index("    hints:\n")]
        mine.write_text(text.replace(checks, "    checks:\n      - {type: object-absent, kind: ConfigMap, name: no-such-map}\n"))
        after = json.loads(run("check", "--json").stdout)
        assert [c["type"] for c in after["checks"]] == [c["type"] for c in before["checks"]]
        assert after["passed"] is False  # still graded by the snapshot taken at start
    finally:
        assert run("reset").returncode == 0
