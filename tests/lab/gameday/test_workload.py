"""The game day's own service and what it keeps for itself: no fault drawn may take away its
objects or the node its traffic generator runs on."""

from __future__ import annotations

from lab.exam.blueprint import Candidate
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


def test_the_service_has_several_ready_probed_replicas_its_service_selects() -> None:
    namespace, deployment, service = workload.manifests()
    assert namespace["metadata"]["name"] == workload.NAMESPACE
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]
    assert pod["spec"]["containers"][0]["image"] == workload.IMAGE and pod["spec"]["containers"][0]["readinessProbe"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["port"] == workload.PORT
