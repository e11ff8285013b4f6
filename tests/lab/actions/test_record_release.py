"""record-release and its undo without a cluster: the release recorded, and a cluster re-created
only when the task moved it off that release (the real upgrade: selftest of kubeadm-upgrade)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lab.actions.release import record_release, undo_release
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

    def create(self, workers, progress, kubernetes):
        self.calls.append(f"create {workers} {kubernetes}")
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
    assert isinstance(entry, ReleaseState) and (entry.kubernetes, entry.workers) == ("v1.33.4", 1)
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
