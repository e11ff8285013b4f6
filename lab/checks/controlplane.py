"""Checks on a highly-available control plane: who leads, etcd's members, every node. Their
messages count nodes and members but never name one: the trainee finds the failed node."""

from __future__ import annotations

from lab.checks.result import CheckResult
from lab.cluster.api import is_ready
from lab.cluster.etcd import etcdctl_command
from lab.cluster.leases import LEADER_LEASES, lease_holders
from lab.cluster.node import NodeUnreachable, read_file
from lab.params import Count, NodePath
from lab.registry import CHECKS

ETCDCTL = etcdctl_command("endpoint health --cluster", command_timeout="3s")


def _ready_nodes(core) -> tuple[set[str], int]:
    nodes = core.list_node().items
    ready = {n.metadata.name for n in nodes if is_ready(n)}
    return ready, len(nodes)


@CHECKS.register("nodes-ready")
def nodes_ready(ctx) -> CheckResult:
    """Every node of the cluster reports Ready (the message counts them, naming none)."""
    ready, total = _ready_nodes(ctx.core)
    if total and len(ready) == total:
        return CheckResult(True, f"all {total} nodes are Ready")
    return CheckResult(False, f"{len(ready)} of {total} nodes are Ready")


@CHECKS.register("leases-on-ready-nodes")
def leases_on_ready_nodes(ctx) -> CheckResult:
    """The kube-scheduler and kube-controller-manager leader Leases are held from Ready nodes."""
    holders = lease_holders(ctx.coordination)
    ready, _ = _ready_nodes(ctx.core)
    stale = [lease for lease in LEADER_LEASES if holders.get(lease) not in ready]
    if stale:
        return CheckResult(False, f"the {' and '.join(stale)} Lease is not held from a Ready node")
    return CheckResult(True, "the scheduler and controller-manager Leases are held from Ready nodes")


def _answering_control_planes(ctx):
    for node in ctx.cluster.nodes():
        if node.role != "control-plane":
            continue
        try:
            node.run(["true"], timeout=10)
        except NodeUnreachable:
            continue
        yield node


@CHECKS.register("etcd-members-healthy")
def etcd_members_healthy(ctx, members: Count = 3) -> CheckResult:
    """`etcdctl endpoint health --cluster`, run in the etcd container of a control-plane node
    that answers, finds `members` healthy members."""
    reports = []
    for node in _answering_control_planes(ctx):
        out = node.sh(ETCDCTL, check=False, timeout=30)
        text = out.stdout + out.stderr
        healthy = sum(1 for line in text.splitlines() if " is healthy" in line)
        if out.returncode == 0 and healthy == members:
            return CheckResult(True, f"all {members} etcd members are healthy")
        reports.append(healthy)
    if not reports:
        return CheckResult(False, "no control-plane node's etcd answered")
    return CheckResult(False, f"{max(reports)} of {members} etcd members are healthy")


@CHECKS.register("file-names-lease-holder")
def file_names_lease_holder(ctx, path: NodePath, lease: str = "kube-scheduler") -> CheckResult:
    """A file at `path` on a control-plane node that answers names (alone) the node holding the
    leader Lease `lease` now, by its Kubernetes name or its lab name (control-plane2)."""
    holder = lease_holders(ctx.coordination).get(lease) if lease in LEADER_LEASES else None
    if holder is None:
        return CheckResult(False, f"no node holds the {lease} Lease")
    accepted = {holder, holder.removeprefix(ctx.cluster.name + "-")}
    found = False
    for node in _answering_control_planes(ctx):
        data = read_file(node, path)
        if data is None:
            continue
        found = True
        if data.decode(errors="replace").strip() in accepted:
            return CheckResult(True, f"{path} names the node holding the {lease} Lease")
    if not found:
        return CheckResult(False, f"{path} does not exist on any control-plane node that answers")
    return CheckResult(False, f"{path} does not name (alone) the node holding the {lease} Lease")
