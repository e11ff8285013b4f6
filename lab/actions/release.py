"""The cluster's Kubernetes release, for tasks that upgrade it: recorded before the task, and
brought back by re-creating the cluster, since an upgrade cannot be undone in place."""

from __future__ import annotations

from typing import Literal

from lab.errors import LabError, UndoFailed
from lab.ledger import ReleaseState
from lab.params import NodeName, PinnedRelease
from lab.registry import FAULTS
from lab.versions import RELEASES
from lab.wait import Pending, wait_until


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
    control_planes = sum(1 for node in ctx.cluster.nodes() if node.role == "control-plane")
    ctx.ledger.record(ReleaseState(kubernetes=next(iter(running)), workers=workers, control_planes=control_planes))


def upgraded(ctx, entry: ReleaseState) -> bool:
    """Any node's kubelet, or the control plane's kubeadm configuration, moved off the release."""
    if ctx.cluster.running_releases() != {entry.kubernetes}:
        return True
    import yaml

    config = ctx.core.read_namespaced_config_map("kubeadm-config", "kube-system").data["ClusterConfiguration"]
    return (yaml.safe_load(config) or {}).get("kubernetesVersion") != entry.kubernetes


def undo_release(ctx, entry: ReleaseState, progress=lambda _: None) -> None:
    """Re-create the cluster at the recorded release when the task upgraded it."""
    if not entry.changed and not upgraded(ctx, entry):
        return
    progress(f"the cluster was upgraded: re-creating it at Kubernetes {entry.kubernetes}")
    ctx.cluster.delete(progress)
    ctx.cluster.create(entry.workers, progress, entry.kubernetes, entry.control_planes)
    ctx.forget_cluster()
    if ctx.cluster.running_releases() != {entry.kubernetes}:
        raise UndoFailed(f"the re-created cluster does not run Kubernetes {entry.kubernetes}")
    ctx.recreated_cluster = True


UpgradeStage = Literal["drained", "kubeadm", "configuration", "kubelet", "done"]
STAGES: tuple[UpgradeStage, ...] = ("drained", "kubeadm", "configuration", "kubelet", "done")
ADMIN = "kubectl --kubeconfig /etc/kubernetes/admin.conf"
APT = "export DEBIAN_FRONTEND=noninteractive; "


def _packages(names: str, version: str) -> str:
    pinned = " ".join(f"{name}={version}" for name in names.split())
    return f"{APT}apt-mark unhold {names} && apt-get update -q && apt-get install -y -q {pinned} && apt-mark hold {names}"


@FAULTS.register("upgrade-node")
def upgrade_node(ctx, node: NodeName, release: PinnedRelease, until: UpgradeStage = "done") -> None:
    """Upgrade one node to `release` with kubeadm's documented steps, stopping after `until`,
    as an interrupted upgrade leaves it: `drained` (cordoned and emptied), `kubeadm` (its
    kubeadm package), `configuration` (`kubeadm upgrade apply` on the control plane,
    `kubeadm upgrade node` elsewhere), `kubelet` (kubelet and kubectl packages, kubelet
    restarted), `done` (uncordoned). Put record-release before it: reset then re-creates the
    cluster at the recorded release, since none of these steps can be undone in place."""
    if not ctx.ledger.mark_release_changed():
        raise LabError(
            "upgrade-node needs the cluster's release recorded first, or reset could not undo it",
            title="Fault cannot apply",
            hint="put `- {type: record-release}` before it in the step's faults",
        )
    target, control_plane = ctx.node(node), ctx.node("control-plane")
    version = RELEASES[release].deb_version
    configure = f"kubeadm upgrade apply -y {release}" if target.role == "control-plane" else "kubeadm upgrade node"
    steps = {
        # emptyDir data is scratch space by definition (metrics-server keeps its certificates there)
        "drained": (control_plane, f"{ADMIN} drain {target.container} --ignore-daemonsets --delete-emptydir-data --timeout=120s"),
        "kubeadm": (target, _packages("kubeadm", version)),
        "configuration": (target, configure),
        "kubelet": (target, _packages("kubelet kubectl", version) + " && systemctl daemon-reload && systemctl restart kubelet"),
        "done": (control_plane, f"{ADMIN} uncordon {target.container}"),
    }
    for stage in STAGES[: STAGES.index(until) + 1]:
        where, script = steps[stage]
        if script.startswith(ADMIN):
            _wait_for_api_server(control_plane)
        where.sh(script, timeout=900)
    # `kubeadm upgrade apply` and the kubelet's restart restart the API server: what comes next
    # (the trainee's kubectl, the next fault) must not meet "connection refused"
    _wait_for_api_server(control_plane)


def _wait_for_api_server(control_plane) -> None:
    def ready() -> object:
        answer = control_plane.run(["sh", "-c", f"{ADMIN} get --raw=/readyz"], check=False, timeout=30)
        return answer.returncode == 0 or Pending((answer.stderr or answer.stdout).strip()[:200] or "no answer")

    wait_until(ready, timeout=300, interval=2, what="the API server to answer after the upgrade step",
               hint=f"docker exec {control_plane.container} {ADMIN} get --raw=/readyz")
