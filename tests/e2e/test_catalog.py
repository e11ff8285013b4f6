"""One scenario of each family of the catalog, proved end to end on the real cluster with the
real command: checks fail on the broken cluster, the reference solution makes them pass, and
reset restores the baseline. `cka-lab selftest --all` proves every scenario and variant (see
README for how long that takes); etcd-backup-restore is left to it, since a restore rewinds
etcd and the control plane can take up to the kubelet's 5-minute back-off to settle."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.cluster

FAMILIES = {
    "node": ("worker-node-failure", "wrong-api-port"),
    "application": ("application-failure", None),
    "network": ("network-failure", "kube-dns-selector"),
    "control-plane": ("apiserver-down", "unknown-flag"),
    "workloads": ("rollout-rollback", None),
    "maintenance": ("node-maintenance", None),
    "membership": ("join-worker", "wrong-ca-hash"),
    "access": ("rbac-access", "binding-wrong-namespace"),
    "kustomize": ("kustomize-overlay", None),
    "helm": ("helm-release", "rollback"),
    "extensions": ("crd-operator", "controller-rbac"),
    "scheduling": ("scheduling-pending", "untolerated-taint"),
    "configuration": ("config-mounts", "configmap-key"),
    "storage": ("storage-claims", "access-mode"),
    "network-policy": ("network-policy", "allow-one-flow"),
    "services": ("service-exposure", "nodeport-target"),
    "metrics": ("resource-usage", "cpu"),
    "autoscaling": ("autoscaling", "no-requests"),
    "gateway": ("gateway-routing", "wrong-parent"),
}


@pytest.mark.parametrize(("scenario", "variant"), list(FAMILIES.values()), ids=list(FAMILIES))
def test_selftest_one_scenario_per_family(lab_cluster, cli, scenario: str, variant: str | None) -> None:
    args = ["selftest", scenario] + (["--variant", variant] if variant else [])
    result = cli(*args, timeout=1500)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "PASS" in result.stdout and "FAIL" not in result.stdout, output
    assert "reset: baseline restored" in result.stderr, output
