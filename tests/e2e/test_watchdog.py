"""The watchdog grader on the real cluster, through the real command: the script the scenario
starts with gives up at the first `Unauthorized` and fails; the retrying script a trainee
writes on the node passes through a real outage of the API (its proxy answering with revoked
credentials, the Deployment's pods away); reset takes the trainee's script away again."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.cluster

RETRYING_SCRIPT = """#!/bin/sh
until kubectl get pods -n watch -l app=web --request-timeout=5s 2>/dev/null | grep -q Running; do sleep 2; done
echo web is up
"""


def test_the_grader_fails_a_script_that_gives_up_and_passes_one_that_retries(lab_cluster, cli) -> None:
    cli("start", "api-watchdog", "--variant", "unauthorized", "--no-tui", check=True)
    try:
        first = cli("check", "--json", timeout=300)
        assert first.returncode == 1, first.stdout + first.stderr
        (check,) = json.loads(first.stdout)["checks"]
        # the goal, and the grader's verdict on the trainee's own script (the kubectl error it quit on)
        assert check["status"] == "failing"
        assert check["message"].startswith("The watchdog script keeps retrying"), check
        assert "the script exited (code 1) while the API was away" in check["message"], check
        assert "error: You must be logged in to the server" in check["message"], check

        cli("ssh", "control-plane", "--", "sh", "-c",
            f"cat > /opt/cka/watchdog.sh <<'EOF'\n{RETRYING_SCRIPT}EOF\nchmod 755 /opt/cka/watchdog.sh", check=True)
        graded = cli("check", timeout=300)
        assert graded.returncode == 0, graded.stdout + graded.stderr
        assert "solved" in graded.stdout
        # the grader put the Deployment back as it found it
        ready = cli("ssh", "control-plane", "--", "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "-n",
                    "watch", "get", "deployment", "web", "-o", "jsonpath={.spec.replicas}", check=True)
        assert ready.stdout.strip() == "2"
    finally:
        reset = cli("reset")
        assert reset.returncode == 0, reset.stderr
    gone = cli("ssh", "control-plane", "--", "test", "-e", "/opt/cka/watchdog.sh")
    assert gone.returncode == 1, "reset left the trainee's script on the node"
