"""record-release and its undo without a cluster: the release recorded, and a cluster re-created
only when the task moved it off that release (the real upgrade: selftest of kubeadm-upgrade)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lab.actions.release import record_release, undo_release, upgrade_node
from lab.errors import LabError
from lab.ledger import Ledger, ReleaseState
from lab.undo import describe


class Cluster:
    def __init__(self, releases: set, kubeadm_version: str = "v1.33.4"):
        self.releases = releases
        self.kubeadm_version = kubeadm_version
        self.calls: list[str] = []

    def running_releases(self):
        return self.releases

    def nodes(self):
        return [SimpleNamespace(role="control-plane"), SimpleNamespace(role="worker")]

    def delete(self, progress):
        self.calls.append("delete")

    def create(self, workers, progress, kubernetes, control_planes=1):
        self.calls.append(f"create {workers} {kubernetes}" + (f" {control_planes} control-plane nodes" if control_planes > 1 else ""))
        self.releases = {kubernetes}


def ctx_for(tmp_path: Path, cluster: Cluster):
    config = SimpleNamespace(data={"ClusterConfiguration": f"kubernetesVersion: {cluster.kubeadm_version}\n"})
    ctx = SimpleNamespace(
        cluster=cluster,
        ledger=Ledger(tmp_path / "ledger.json"),
        core=SimpleNamespace(read_namespaced_config_map=lambda name, namespace: config),
        recreated_cluster=False,
    )
    ctx.forget_cluster = lambda: None
    return ctx


def test_the_release_and_the_worker_count_are_recorded(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, Cluster({"v1.33.4"}))
    record_release(ctx)
    [entry] = ctx.ledger.entries()
    assert isinstance(entry, ReleaseState) and (entry.kubernetes, entry.workers, entry.control_planes) == ("v1.33.4", 1, 1)
    assert describe(entry) == "re-create the cluster at Kubernetes v1.33.4 if it was upgraded"


def test_a_cluster_of_mixed_releases_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="no single known release"):
        record_release(ctx_for(tmp_path, Cluster({"v1.33.4", "v1.34.0"})))


def test_an_untouched_cluster_is_kept(tmp_path: Path) -> None:
    cluster = Cluster({"v1.33.4"})
    ctx = ctx_for(tmp_path, cluster)
    undo_release(ctx, ReleaseState(kubernetes="v1.33.4", workers=1))
    assert cluster.calls == [] and not ctx.recreated_cluster


@pytest.mark.parametrize(("releases", "kubeadm"), [({"v1.34.0", "v1.33.4"}, "v1.33.4"), ({"v1.33.4"}, "v1.34.0")])
def test_an_upgraded_cluster_is_re_created_at_the_recorded_release(tmp_path: Path, releases: set, kubeadm: str) -> None:
    cluster = Cluster(releases, kubeadm)
    ctx = ctx_for(tmp_path, cluster)
    undo_release(ctx, ReleaseState(kubernetes="v1.33.4", workers=1))
    assert cluster.calls == ["delete", "create 1 v1.33.4"] and ctx.recreated_cluster


class Node:
    def __init__(self, name: str, role: str, log: list[tuple[str, str]]):
        self.container, self.role, self.log = f"lab-{name}", role, log

    def sh(self, script: str, timeout: float = 120):
        self.log.append((self.container, script))

    def run(self, argv: list[str], check: bool = True, timeout: float = 120):
        self.log.append((self.container, "wait: " + argv[-1]))
        return SimpleNamespace(returncode=0, stdout="ok", stderr="")


def with_nodes(ctx, log: list[tuple[str, str]]):
    nodes = {"control-plane": Node("control-plane", "control-plane", log), "worker": Node("worker", "worker", log)}
    ctx.node = nodes.__getitem__
    return ctx


def test_upgrade_node_refuses_to_run_before_the_release_is_recorded(tmp_path: Path) -> None:
    log: list[tuple[str, str]] = []
    ctx = with_nodes(ctx_for(tmp_path, Cluster({"v1.33.4"})), log)
    with pytest.raises(LabError, match="release recorded first"):
        upgrade_node(ctx, node="worker", release="v1.34.0")
    assert log == [] and ctx.ledger.entries() == []


def test_upgrade_node_stops_where_asked_and_marks_the_release_changed(tmp_path: Path) -> None:
    log: list[tuple[str, str]] = []
    ctx = with_nodes(ctx_for(tmp_path, Cluster({"v1.33.4"})), log)
    record_release(ctx)
    upgrade_node(ctx, node="worker", release="v1.34.0", until="kubeadm")
    steps = [(where, script) for where, script in log if not script.startswith("wait: ")]
    assert [where for where, _ in steps] == ["lab-control-plane", "lab-worker"]
    assert "drain lab-worker --ignore-daemonsets --delete-emptydir-data" in steps[0][1]
    assert "apt-get install -y -q kubeadm=1.34.0-1.1" in steps[1][1] and "kubelet" not in steps[1][1]
    [entry] = ctx.ledger.entries()
    assert entry.changed
    # nothing shows the upgrade in the versions, yet undo re-creates the cluster
    undo_release(ctx, entry)
    assert ctx.cluster.calls == ["delete", "create 1 v1.33.4"] and ctx.recreated_cluster


@pytest.mark.parametrize(("node", "configure"), [("control-plane", "kubeadm upgrade apply -y v1.34.0"),
                                                 ("worker", "kubeadm upgrade node")])
def test_a_whole_node_upgrade_follows_kubeadm_order(tmp_path: Path, node: str, configure: str) -> None:
    log: list[tuple[str, str]] = []
    ctx = with_nodes(ctx_for(tmp_path, Cluster({"v1.33.4"})), log)
    record_release(ctx)
    upgrade_node(ctx, node=node, release="v1.34.0")
    scripts = [script for _, script in log if not script.startswith("wait: ")]
    assert [s.split()[-1] if "cordon" in s or "drain" in s else "" for s in scripts][-1] == f"lab-{node}"
    assert "drain" in scripts[0] and scripts[2] == configure and "uncordon" in scripts[4]
    assert "kubelet=1.34.0-1.1 kubectl=1.34.0-1.1" in scripts[3] and scripts[3].endswith("systemctl restart kubelet")


def test_kubectl_steps_and_the_end_wait_for_the_api_server(tmp_path: Path) -> None:
    """kubeadm restarts the API server: drain, uncordon and whatever follows the fault would
    otherwise meet "connection refused" (seen when a worker's drain followed a control-plane upgrade)."""
    log: list[tuple[str, str]] = []
    ctx = with_nodes(ctx_for(tmp_path, Cluster({"v1.33.4"})), log)
    record_release(ctx)
    upgrade_node(ctx, node="control-plane", release="v1.34.0")
    kinds = ["wait" if s.startswith("wait: ") else s.split()[3] if s.startswith("kubectl") else "node" for _, s in log]
    assert kinds == ["wait", "drain", "node", "node", "node", "wait", "uncordon", "wait"]
