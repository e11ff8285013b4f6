"""Which kube-system pods the health wait re-creates instead of waiting out the kubelet's
crash-loop back-off: those of a ReplicaSet or DaemonSet in CrashLoopBackOff, every such pod of an
owner, once per owner."""

from __future__ import annotations

from types import SimpleNamespace as NS

from kubernetes.client.exceptions import ApiException

from lab.cluster.lab_cluster import restart_backed_off_pods


def pod(name: str, owner: tuple[str, str] | None, reason: str | None, restarts: int = 3) -> NS:
    state = NS(waiting=NS(reason=reason) if reason else None, running=None if reason else NS())
    owners = [NS(kind=owner[0], uid=owner[1])] if owner else None
    return NS(metadata=NS(name=name, owner_references=owners),
              status=NS(container_statuses=[NS(state=state, restart_count=restarts)]))


class Core:
    def __init__(self, *pods: NS, refuse: set[str] = frozenset()) -> None:
        self.pods, self.refuse, self.deleted = list(pods), refuse, []

    def list_namespaced_pod(self, namespace: str) -> NS:
        assert namespace == "kube-system"
        return NS(items=self.pods)

    def delete_namespaced_pod(self, name: str, namespace: str, grace_period_seconds: int) -> None:
        if name in self.refuse:
            raise ApiException(status=404)
        self.deleted.append((name, grace_period_seconds))


def test_every_backed_off_pod_of_a_controller_is_recreated_once() -> None:
    core = Core(
        pod("coredns-a", ("ReplicaSet", "rs1"), "CrashLoopBackOff"),
        pod("coredns-b", ("ReplicaSet", "rs1"), "CrashLoopBackOff"),
        pod("kube-proxy-x", ("DaemonSet", "ds1"), None),
        pod("kube-apiserver-cp", ("Node", "n1"), "CrashLoopBackOff"),  # static: skip_static_pod_backoff's
        pod("bare", None, "CrashLoopBackOff"),
        pod("starting", ("ReplicaSet", "rs2"), "ContainerCreating", restarts=0),
    )
    owners: set[str] = set()
    assert restart_backed_off_pods(core, owners) == ["coredns-a", "coredns-b"]
    assert core.deleted == [("coredns-a", 0), ("coredns-b", 0)]
    assert owners == {"rs1"}
    core.pods = [pod("coredns-c", ("ReplicaSet", "rs1"), "CrashLoopBackOff")]  # the cause is still there
    assert restart_backed_off_pods(core, owners) == []


def test_a_pod_gone_already_is_not_reported() -> None:
    core = Core(pod("coredns-a", ("ReplicaSet", "rs1"), "CrashLoopBackOff"),
                pod("coredns-b", ("ReplicaSet", "rs1"), "CrashLoopBackOff"), refuse={"coredns-a"})
    assert restart_backed_off_pods(core, set()) == ["coredns-b"]


def test_only_the_control_planes_static_pods_and_the_api_server_count_as_static_pod_trouble() -> None:
    from lab.cluster.lab_cluster import static_pod_trouble

    assert static_pod_trouble(["pod kube-scheduler-cka-lab-control-plane not Ready (Running)"])
    assert static_pod_trouble(["pod etcd-cka-lab-control-plane not Ready (Pending)"])
    assert static_pod_trouble(["the API server is not answering: connection refused"])
    assert static_pod_trouble(["API server not answering (MaxRetryError)"])
    assert not static_pod_trouble(["pod kube-router-x7k2p not Ready (Pending)", "pod kube-proxy-abcde not Ready (Running)",
                                   "node cka-lab-worker not Ready"])
