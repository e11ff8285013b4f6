"""The negative traffic checks can fail: on the real cluster, with NetworkPolicy enforced, a
policy wider than the task asks for (any namespace, any port) turns the network-policy
scenario's "still gets no answer" guards red, and only the exact policy passes the step."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.polling import wait_until

pytestmark = pytest.mark.cluster

TOO_WIDE = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: too-wide, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {}
          podSelector: {matchLabels: {app: frontend}}
"""
EXACT = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-frontend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector: {matchLabels: {app: frontend}}
      ports:
        - {protocol: TCP, port: 8080}
"""


def test_a_too_wide_policy_fails_the_guards_and_the_exact_one_passes(lab_cluster, lab_env, cli) -> None:
    kubeconfig = Path(lab_env["CKA_LAB_HOME"]) / "kubeconfig"

    def kubectl(*args: str, stdin: str | None = None) -> None:
        subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), *args], input=stdin, text=True,
                       check=True, capture_output=True, timeout=60, env={**os.environ, "KUBECONFIG": str(kubeconfig)})

    def statuses() -> list[str]:
        graded = cli("check", "--json", timeout=120)
        return [c["status"] for c in json.loads(graded.stdout)["checks"]]

    started = cli("start", "network-policy", "--variant", "allow-one-flow", "--no-tui", timeout=900)
    try:
        assert started.returncode == 0, started.stderr
        assert statuses()[0] == "failing", "the frontend must be refused while only default-deny is there"

        kubectl("apply", "-f", "-", stdin=TOO_WIDE)
        # the policy agent programs the rule asynchronously: wait until the frontend gets in
        seen = wait_until(lambda: (s := statuses())[0] == "passed" and s, 90, "the too-wide policy never let the frontend in")
        assert seen == ["passed", "passed", "failing", "failing", "passed"], seen

        kubectl("delete", "-n", "shop", "networkpolicy", "too-wide")
        kubectl("apply", "-f", "-", stdin=EXACT)
        wait_until(lambda: statuses() == ["passed"] * 5, 90, "the exact policy did not pass every check")
    finally:
        reset = cli("reset", timeout=900)
        assert reset.returncode == 0, reset.stderr
