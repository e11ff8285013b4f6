"""The cluster's Kubernetes release, for tasks that upgrade it: recorded before the task, and
brought back by re-creating the cluster, since an upgrade cannot be undone in place."""

from __future__ import annotations

from lab.errors import LabError, UndoFailed
from lab.ledger import ReleaseState
from lab.registry import FAULTS


@FAULTS.register("record-release")
def record_release(ctx) -> None:
    """Change nothing, but record the Kubernetes release every node runs now, so reset
    re-creates the cluster at that release if the task upgraded any part of it (kubeadm does
    not downgrade). Use it first in a scenario whose task upgrades the cluster."""
    running = ctx.cluster.running_releases()
    if len(running) != 1 or None in running:
        shown = ", ".join(sorted(str(v) for v in running)) or "none"
        raise LabError(f"the lab cluster runs no single known release (found {shown})", title="Fault cannot apply")
    workers = sum(1 for node in ctx.cluster.nodes() if node.role == "worker")
    ctx.ledger.record(ReleaseState(kubernetes=next(iter(running)), workers=workers))


def upgraded(ctx, entry: ReleaseState) -> bool:
    """Any node's kubelet, or the control plane's kubeadm configuration, moved off the release."""
    if ctx.cluster.running_releases() != {entry.kubernetes}:
        return True
    import yaml

    config = ctx.core.read_namespaced_config_map("kubeadm-config", "kube-system").data["ClusterConfiguration"]
    return (yaml.safe_load(config) or {}).get("kubernetesVersion") != entry.kubernetes


def undo_release(ctx, entry: ReleaseState, progress=lambda _: None) -> None:
    """Re-create the cluster at the recorded release when the task upgraded it."""
    if not upgraded(ctx, entry):
        return
    progress(f"the cluster was upgraded: re-creating it at Kubernetes {entry.kubernetes}")
    ctx.cluster.delete(progress)
    ctx.cluster.create(entry.workers, progress, entry.kubernetes)
    ctx.forget_cluster()
    if ctx.cluster.running_releases() != {entry.kubernetes}:
        raise UndoFailed(f"the re-created cluster does not run Kubernetes {entry.kubernetes}")
    ctx.recreated_cluster = True
