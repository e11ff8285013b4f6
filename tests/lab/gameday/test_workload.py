"""The game day's own service and what it keeps for itself: no fault drawn may take away its
objects or the node its traffic generator runs on."""

from __future__ import annotations

from lab.exam.blueprint import Candidate, compatible
from lab.gameday import workload
from lab.gameday.runner import GameDay
from lab.gameday.schedule import Timing, plan


def test_faults_on_the_traffic_generators_node_or_the_service_are_left_out() -> None:
    def cand(*breaks: str) -> Candidate:
        return Candidate("x", None, "Troubleshooting", 5, frozenset(breaks))

    assert workload.fits(cand("node:worker", "service:worker:kubelet"))
    assert not workload.fits(cand(f"node:{workload.LOAD_NODE}"))
    assert not workload.fits(cand(f"namespace:{workload.NAMESPACE}"))


def test_the_catalog_plan_never_breaks_the_traffic_generators_node() -> None:
    available = GameDay.available()
    assert available
    for seed in range(20):
        injections = plan(available, 3, seed, Timing(minutes=12))
        assert all(f"node:{workload.LOAD_NODE}" not in i.candidate.breaks for i in injections)


def test_a_dns_fault_and_a_worker_fault_can_share_a_game_day() -> None:
    """The service is reached by name: a cluster DNS fault is felt, and it leaves the worker
    alone, so a game day can pair it with a fault the worker's pods feel."""
    by_key = {c.key: c for c in GameDay.available()}
    dns, kubelet = by_key[("network-failure", "kube-dns-selector")], by_key[("worker-node-failure", "kubelet-stopped")]
    assert compatible(dns, kubelet)
    # a variant whose grading counts pods that may run on the worker does not pair with it
    assert not compatible(by_key[("network-failure", "coredns-scaled-down")], kubelet)
    assert not compatible(by_key[("network-failure", "cni-removed")], kubelet)
    assert workload.url() == f"http://{workload.NAME}.{workload.NAMESPACE}.svc.cluster.local:{workload.PORT}/"


def test_the_service_has_several_ready_probed_replicas_its_service_selects() -> None:
    namespace, deployment, service = workload.manifests()
    assert namespace["metadata"]["name"] == workload.NAMESPACE
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]
    assert pod["spec"]["containers"][0]["image"] == workload.IMAGE and pod["spec"]["containers"][0]["readinessProbe"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["port"] == workload.PORT
