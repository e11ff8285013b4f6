"""Which aggregated APIs the health wait counts as stuck: unavailable while their backend has a
ready endpoint (the API server holding a connection that never reached it)."""

from __future__ import annotations

from types import SimpleNamespace as NS

from kubernetes.client.exceptions import ApiException

from lab.cluster.lab_cluster import unavailable_api_services


def api_service(name: str, available: str | None, backend: str | None = "metrics-server") -> NS:
    conditions = [] if available is None else [NS(type="Available", status=available, message="bad status: 404")]
    return NS(metadata=NS(name=name), spec=NS(service=backend and NS(name=backend, namespace="kube-system")),
              status=NS(conditions=conditions))


class Registration:
    def __init__(self, *items: NS) -> None:
        self.items = items

    def list_api_service(self) -> NS:
        return NS(items=list(self.items))


class Core:
    def __init__(self, endpoints: dict[str, list]) -> None:
        self.endpoints = endpoints

    def read_namespaced_endpoints(self, name: str, namespace: str) -> NS:
        if name not in self.endpoints:
            raise ApiException(status=404)
        return NS(subsets=[NS(addresses=self.endpoints[name])])


def test_an_unavailable_api_whose_backend_is_ready_is_reported() -> None:
    registration = Registration(api_service("v1.apps", None, backend=None), api_service("v1beta1.metrics.k8s.io", "False"))
    assert unavailable_api_services(registration, Core({"metrics-server": ["10.244.1.9"]})) == [
        "APIService v1beta1.metrics.k8s.io not available (bad status: 404)"
    ]


def test_available_local_and_backendless_apis_are_not() -> None:
    registration = Registration(api_service("v1.apps", None, backend=None), api_service("v1beta1.metrics.k8s.io", "True"))
    assert unavailable_api_services(registration, Core({"metrics-server": ["10.244.1.9"]})) == []
    # no ready backend (the add-on broken or deleted): installing it again repairs that
    stuck = Registration(api_service("v1beta1.metrics.k8s.io", "False"))
    assert unavailable_api_services(stuck, Core({"metrics-server": []})) == []
    assert unavailable_api_services(stuck, Core({})) == []
