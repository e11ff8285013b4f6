"""Every fault type, applied to the real cluster and undone by replaying the ledger: the
baseline comes back (node files byte-identical, unit states, API objects), and the ledger is
empty. Each fault here is real: a restarted kubelet, an edited static pod manifest, a deleted
ConfigMap that CoreDNS mounts."""

from __future__ import annotations

import hashlib

import pytest

from lab import undo
from lab.registry import FAULTS
from lab.selftest import baseline, diff

pytestmark = pytest.mark.cluster

PROBE_CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "undo-probe", "namespace": "default"},
            "data": {"k": "v"}}
BARE_POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "undo-bare", "namespace": "default", "labels": {"undo": "bare"}},
    "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"]}],
             "terminationGracePeriodSeconds": 0},
}
EXTRA_FILES = [("worker", "/etc/cka-lab-undo-probe.txt"), ("worker", "/var/lib/kubelet/config.yaml"),
               ("worker", "/var/lib/cka-lab-undo-dir")]

CASES = {
    "edit-manifest": [{"type": "edit-manifest", "manifest": "kube-scheduler", "add_flags": ["--v=3"]}],
    "stop-service": [{"type": "stop-service", "node": "worker", "service": "kubelet", "disable": True}],
    "start-service": [{"type": "start-service", "node": "worker", "service": "containerd"}],
    "write-file": [{"type": "write-file", "node": "worker", "path": "/etc/cka-lab-undo-probe.txt", "content": "x\n"}],
    "replace-in-file": [{"type": "replace-in-file", "node": "worker", "path": "/etc/kubernetes/kubelet.conf",
                         "old": ":6443", "new": ":6444", "restart": ["kubelet"]}],
    "delete-file": [{"type": "delete-file", "node": "worker", "path": "/var/lib/kubelet/config.yaml"}],
    "record-path": [{"type": "record-path", "node": "worker", "path": "/var/lib/cka-lab-undo-dir"},
                    {"type": "run-on-node", "node": "worker", "command": "mkdir -p /var/lib/cka-lab-undo-dir/a && touch /var/lib/cka-lab-undo-dir/a/b"}],
    "delete-pods": [{"type": "apply-object", "manifest": BARE_POD},
                    {"type": "delete-pods", "selector": "undo=bare"},
                    {"type": "delete-pods", "namespace": "kube-system", "selector": "k8s-app=kube-dns"}],
    "patch-object": [{"type": "patch-object", "kind": "Service", "name": "kube-dns", "namespace": "kube-system",
                      "patch": {"spec": {"selector": {"k8s-app": "kube-dnz"}}}}],
    "scale": [{"type": "scale", "name": "coredns", "namespace": "kube-system", "replicas": 0}],
    "delete-object": [{"type": "delete-object", "kind": "ConfigMap", "name": "coredns", "namespace": "kube-system"}],
    "apply-object": [{"type": "apply-object", "manifest": PROBE_CM}],
    "replace-in-object": [{"type": "replace-in-object", "kind": "ConfigMap", "name": "coredns", "namespace": "kube-system",
                           "path": ".data.Corefile", "old": "forward", "new": "forwardx"}],
    "cordon": [{"type": "cordon", "node": "worker"}],
    "patch-node": [{"type": "patch-node", "node": "worker",
                    "patch": {"metadata": {"labels": {"undo": "probe"}},
                              "spec": {"taints": [{"key": "undo", "value": "probe", "effect": "NoSchedule"}]}}}],
    "record-object": [{"type": "record-object", "kind": "Namespace", "name": "undo-probe", "namespace": None},
                      {"type": "run-on-node", "node": "control-plane",
                       "command": "kubectl --kubeconfig /etc/kubernetes/admin.conf create namespace undo-probe"}],
    "write-join-command": [{"type": "write-join-command", "node": "worker", "path": "/etc/cka-lab-undo-probe.txt"}],
    "reset-node": [{"type": "reset-node", "node": "worker"}],
    "record-release": [{"type": "record-release"}],
    "helm-release": [
        {"type": "record-path", "node": "control-plane", "path": "/var/lib/cka-lab-undo-chart"},
        {"type": "write-file", "node": "control-plane", "path": "/var/lib/cka-lab-undo-chart/Chart.yaml",
         "content": "apiVersion: v2\nname: probe\nversion: 0.1.0\n"},
        {"type": "write-file", "node": "control-plane", "path": "/var/lib/cka-lab-undo-chart/templates/cm.yaml",
         "content": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe}\ndata: {k: v}\n"},
        {"type": "helm-release", "release": "probe", "chart": "/var/lib/cka-lab-undo-chart", "namespace": "undo-helm"},
    ],
    # last: its undo re-creates the cluster (a kubeadm upgrade step cannot be undone in place)
    "stop-node-container": [{"type": "stop-node-container", "node": "worker"}],
    "upgrade-node": [{"type": "record-release"},
                     {"type": "upgrade-node", "node": "worker", "release": "v1.34.0", "until": "drained"}],
}
RECREATES = {"upgrade-node"}


HA_ONLY = {"lose-etcd-data"}
"""Faults that need three stacked etcd members (not this 2-node cluster): their undo, from the
untouched and from a half-done repair, is proven by `selftest etcd-quorum` on an HA cluster."""


def test_every_fault_type_is_covered() -> None:
    solution_only = {"run-on-node", "join-node", "start-stopped-nodes"}
    assert set(CASES) == set(FAULTS.names()) - solution_only - HA_ONLY


def _file_digests(lab) -> dict[str, str | None]:
    found = {}
    for node_name, path in EXTRA_FILES:
        node = lab.cluster.node(node_name)
        out = node.sh(f"if [ -f {path} ]; then sha256sum {path}; elif [ -e {path} ]; then echo dir; else echo absent; fi")
        found[f"{node_name}:{path}"] = hashlib.sha256(out.stdout.encode()).hexdigest()
    return found


@pytest.mark.parametrize("fault", list(CASES))
def test_fault_then_undo_restores_the_baseline(lab_cluster, fault: str) -> None:
    lab = lab_cluster
    lab.reset()
    lab.cluster.wait_until_healthy(timeout=300)
    before, files_before = baseline(lab), _file_digests(lab)
    for raw in CASES[fault]:
        entry = FAULTS.get(raw["type"])
        entry.call(lab.ctx, entry.params.model_validate(raw))
    assert len(lab.ledger) >= 1
    undone = undo.replay(lab.ctx)
    assert undone and len(lab.ledger) == 0
    lab.cluster.wait_until_healthy(timeout=600)
    assert lab.ctx.recreated_cluster == (fault in RECREATES)
    if fault in RECREATES:
        # a new cluster: new certificates and tokens, so no byte-identical files; the same shape,
        # release and schedulable nodes
        assert lab.cluster.running_releases() == {"v1.34.0"}
        assert all(not n.spec.unschedulable for n in lab.ctx.core.list_node().items)
        assert sorted(n.role for n in lab.cluster.nodes()) == ["control-plane", "worker"]
        lab._ctx = None  # as reset does after a re-creation: the old context's flag and clients go
        return
    assert diff(before, baseline(lab)) == []
    assert _file_digests(lab) == files_before
