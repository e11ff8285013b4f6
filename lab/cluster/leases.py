"""Leader-election Leases of the control plane: which node's kube-scheduler and
kube-controller-manager lead. In a cluster with several control-plane nodes only the leader of
each works; the others wait and take the Lease over when the leader stops renewing it."""

from __future__ import annotations

from lab.errors import LabError

LEADER_LEASES = ("kube-scheduler", "kube-controller-manager")
"""Leases in kube-system that the control plane's leaders hold."""

LEASE_HOLDER = "lease-holder"
"""The node name a fault or check may use for "the node whose components hold the leader
Leases now", resolved when it runs: a scenario never names (and so never gives away) the node it
breaks, and a solution can act on the leader the trainee found."""


def holder_node(holder_identity: str | None) -> str | None:
    """The node name in a leader's identity ("<node>_<uuid>", as kube-scheduler and
    kube-controller-manager write it), None when nobody holds the Lease."""
    if not holder_identity:
        return None
    return holder_identity.split("_", 1)[0] or None


def lease_holders(coordination) -> dict[str, str | None]:
    """Lease name -> the node holding it (a CoordinationV1Api)."""
    return {
        name: holder_node(coordination.read_namespaced_lease(name, "kube-system").spec.holder_identity)
        for name in LEADER_LEASES
    }


def pick_lease_holder(holders: dict[str, str | None]) -> str:
    """The node holding the leader Leases: the kube-scheduler's holder (normally the same node
    as the controller-manager's, as kubeadm starts them together; when they differ, the
    scheduler's decides). A LabError when nobody leads yet."""
    node = holders.get("kube-scheduler") or next((n for n in holders.values() if n), None)
    if node is None:
        raise LabError(
            "no node holds the kube-scheduler or kube-controller-manager Lease yet",
            title="Fault cannot apply",
            hint="kubectl -n kube-system get lease kube-scheduler kube-controller-manager",
        )
    return node
