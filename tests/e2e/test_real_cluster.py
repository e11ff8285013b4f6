"""The test cluster is a real Kubernetes cluster: nodes, control plane, DNS, pod network,
Services, and the node-level failures the scenarios are built on."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.stream import stream

from lab.actions.manifests import TextReplace, edit_manifest
from lab.cluster.node import read_file, write_file

from tests.e2e.polling import wait_until

pytestmark = pytest.mark.cluster

CONTROL_PLANE_TOLERATION = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}


@pytest.fixture(scope="module")
def core(lab_cluster):
    return lab_cluster.ctx.core


@pytest.fixture(scope="module")
def apps(lab_cluster):
    return lab_cluster.ctx.apps


def test_both_nodes_ready(core) -> None:
    nodes = core.list_node().items
    assert len(nodes) == 2
    roles = sorted("control-plane" if "node-role.kubernetes.io/control-plane" in n.metadata.labels else "worker" for n in nodes)
    assert roles == ["control-plane", "worker"]
    for node in nodes:
        ready = next(c for c in node.status.conditions if c.type == "Ready")
        assert ready.status == "True", node.metadata.name


def test_every_system_component_runs(core) -> None:
    pods = core.list_namespaced_pod("kube-system").items
    running = {p.metadata.name for p in pods if p.status.phase == "Running"}
    assert {p.metadata.name for p in pods} == running
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "coredns", "kube-proxy", "kindnet"):
        assert any(name.startswith(component) for name in running), f"no running {component} pod in {sorted(running)}"
    assert sum(name.startswith("kube-proxy") for name in running) == 2
    assert sum(name.startswith("kindnet") for name in running) == 2


def _nginx_deployment(name: str, replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "tolerations": [CONTROL_PLANE_TOLERATION],
                    # one pod per node, so the test covers both nodes
                    "affinity": {
                        "podAntiAffinity": {
                            "requiredDuringSchedulingIgnoredDuringExecution": [
                                {"labelSelector": {"matchLabels": {"app": name}}, "topologyKey": "kubernetes.io/hostname"}
                            ]
                        }
                    },
                    "containers": [{"name": "nginx", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent"}],
                },
            },
        },
    }


@pytest.fixture(scope="module")
def web(lab_cluster, apps, core):
    """A 2-replica nginx Deployment, one pod per node."""
    lab_cluster.cluster.load_images(["nginx:1.27", "busybox:1.36"])
    apps.create_namespaced_deployment("default", _nginx_deployment("web", 2))
    yield "web"
    apps.delete_namespaced_deployment("web", "default")
    for name in ("web-worker", "dns-client"):
        try:
            core.delete_namespaced_service(name, "default") if name == "web-worker" else core.delete_namespaced_pod(
                name, "default", grace_period_seconds=0
            )
        except client.ApiException:
            pass


def test_deployment_available_with_a_pod_on_each_node(web, apps, core) -> None:
    def available():
        status = apps.read_namespaced_deployment(web, "default").status
        return status.available_replicas == 2

    wait_until(available, 180, "web deployment not available")
    pods = core.list_namespaced_pod("default", label_selector=f"app={web}").items
    assert len({p.spec.node_name for p in pods}) == 2


def test_service_resolves_by_dns_and_answers_from_the_other_node(lab_cluster, web, core) -> None:
    worker = next(n.container for n in lab_cluster.cluster.nodes() if n.role == "worker")
    control_plane = next(n.container for n in lab_cluster.cluster.nodes() if n.role == "control-plane")
    # a Service whose only endpoint is the nginx pod on the worker…
    pods = core.list_namespaced_pod("default", label_selector=f"app={web}").items
    worker_pod = next(p for p in pods if p.spec.node_name == worker)
    core.patch_namespaced_pod(worker_pod.metadata.name, "default", {"metadata": {"labels": {"serve": "worker"}}})
    core.create_namespaced_service(
        "default",
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web-worker"},
            "spec": {"selector": {"serve": "worker"}, "ports": [{"port": 80, "targetPort": 80}]},
        },
    )
    service_ip = core.read_namespaced_service("web-worker", "default").spec.cluster_ip
    # …asked by name from a pod on the control-plane node
    core.create_namespaced_pod(
        "default",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "dns-client"},
            "spec": {
                "nodeName": control_plane,
                "tolerations": [CONTROL_PLANE_TOLERATION],
                "containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"], "imagePullPolicy": "IfNotPresent"}],
            },
        },
    )
    wait_until(lambda: core.read_namespaced_pod("dns-client", "default").status.phase == "Running", 120, "client pod not running")

    def exec_in_client(command: str) -> str:
        return stream(
            core.connect_get_namespaced_pod_exec, "dns-client", "default",
            command=["sh", "-c", command], stderr=True, stdin=False, stdout=True, tty=False,
        )

    # busybox nslookup exits 0 even on an empty answer: assert on the address itself
    answer = wait_until(
        lambda: (out := exec_in_client("nslookup web-worker.default.svc.cluster.local")) and service_ip in out and out,
        60, "cluster DNS did not resolve the Service",
    )
    assert service_ip in answer
    page = wait_until(
        lambda: (out := exec_in_client("timeout 5 wget -qO- http://web-worker.default.svc.cluster.local/")) and "Welcome to nginx" in out and out,
        60, "Service did not answer over HTTP",
    )
    assert "Welcome to nginx" in page
    # the answer came from the worker's pod: its access log has the request
    logs = core.read_namespaced_pod_log(worker_pod.metadata.name, "default")
    assert "GET / HTTP/1.1" in logs


def _scheduler_status(core) -> str:
    pods = core.list_namespaced_pod("kube-system", label_selector="component=kube-scheduler").items
    if not pods or not pods[0].status.container_statuses:
        return "no status"
    state = pods[0].status.container_statuses[0].state
    if state.running and pods[0].status.container_statuses[0].ready:
        return "Running"
    if state.waiting:
        return state.waiting.reason or "Waiting"
    return "Terminated" if state.terminated else "Unknown"


def test_misspelled_scheduler_command_crashloops_until_restored(lab_cluster, core) -> None:
    node = lab_cluster.cluster.node("control-plane")
    path = "/etc/kubernetes/manifests/kube-scheduler.yaml"
    original = read_file(node, path)
    try:
        edit_manifest(lab_cluster.ctx, "kube-scheduler", replace=[TextReplace(old="- kube-scheduler", new="- kube-schedulerrrr", count=1)])
        assert b"- kube-schedulerrrr" in read_file(node, path)
        wait_until(lambda: _scheduler_status(core) == "CrashLoopBackOff", 180, "scheduler did not crash-loop")
    finally:
        write_file(node, path, original)
        lab_cluster.ledger.clear()
    wait_until(lambda: _scheduler_status(core) == "Running", 180, "scheduler did not come back")
    assert read_file(node, path) == original


def test_stopped_kubelet_makes_the_worker_not_ready_until_started(lab_cluster, core) -> None:
    worker = lab_cluster.cluster.node("worker")

    def ready() -> str:
        node = core.read_node(worker.container)
        return next(c.status for c in node.status.conditions if c.type == "Ready")

    worker.run(["systemctl", "stop", "kubelet"])
    try:
        wait_until(lambda: ready() != "True", 180, "worker stayed Ready with kubelet stopped", interval=5)
    finally:
        worker.run(["systemctl", "start", "kubelet"])
    wait_until(lambda: ready() == "True", 180, "worker did not become Ready again", interval=3)
