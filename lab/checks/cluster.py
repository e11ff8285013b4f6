"""Checks on Kubernetes objects, through the lab's API client."""

from __future__ import annotations

from typing import Any

from lab.checks.result import CheckResult
from lab.cluster.api import is_ready
from lab.jsonpath import JsonPathError, lookup
from lab.params import Count, FieldPath, Replicas
from lab.registry import CHECKS


def _pods(ctx, namespace: str, name: str | None, selector: str | None) -> list[Any]:
    if name:
        return [p for p in ctx.core.list_namespaced_pod(namespace).items if p.metadata.name == name]
    return ctx.core.list_namespaced_pod(namespace, label_selector=selector or "").items


def _describe(pod) -> str:
    for status in pod.status.container_statuses or []:
        waiting = status.state.waiting if status.state else None
        if waiting and waiting.reason:
            return f"{pod.metadata.name}: {waiting.reason}"
        if not status.ready:
            return f"{pod.metadata.name}: container {status.name} not ready"
    return f"{pod.metadata.name}: {pod.status.phase}"


@CHECKS.register("pod-ready")
def pod_ready(
    ctx, namespace: str = "default", name: str | None = None, selector: str | None = None, count: Count = 1
) -> CheckResult:
    """At least `count` pods (by name, or by label selector) are Running and Ready. Static
    control-plane pods are found by their labels, e.g. selector `component=kube-scheduler`."""
    what = f"pod {name}" if name else f"pods with {selector}"
    pods = _pods(ctx, namespace, name, selector)
    ready = [p for p in pods if is_ready(p) and p.metadata.deletion_timestamp is None]
    if len(ready) >= count:
        return CheckResult(True, f"{what} in {namespace}: {len(ready)} ready")
    if not pods:
        return CheckResult(False, f"no {what} in namespace {namespace}")
    not_ready = [_describe(p) for p in pods if p not in ready]
    return CheckResult(False, f"{what} in {namespace}: {len(ready)}/{count} ready; " + "; ".join(not_ready[:3]))


@CHECKS.register("deployment-ready")
def deployment_ready(ctx, name: str, namespace: str = "default", replicas: Replicas | None = None) -> CheckResult:
    """The Deployment has `replicas` pods ready and available (default: its spec.replicas),
    and its spec asks for that many."""
    deployment = ctx.apps.read_namespaced_deployment(name, namespace)
    wanted = replicas if replicas is not None else deployment.spec.replicas
    status = deployment.status
    ready = status.ready_replicas or 0
    available = status.available_replicas or 0
    if deployment.spec.replicas != wanted:
        return CheckResult(False, f"deployment {name} asks for {deployment.spec.replicas} replicas, expected {wanted}")
    if ready == wanted and available == wanted and (status.replicas or 0) == wanted:
        return CheckResult(True, f"deployment {name}: {ready}/{wanted} ready")
    return CheckResult(False, f"deployment {name}: {ready}/{wanted} ready, {available} available")


@CHECKS.register("daemonset-ready")
def daemonset_ready(ctx, name: str, namespace: str = "default") -> CheckResult:
    """The DaemonSet's current spec is rolled out: every node it should run on has an
    up-to-date pod, and all of them are ready."""
    ds = ctx.apps.read_namespaced_daemon_set(name, namespace)
    status = ds.status
    desired = status.desired_number_scheduled or 0
    ready = status.number_ready or 0
    updated = status.updated_number_scheduled or 0
    if (status.observed_generation or 0) < (ds.metadata.generation or 0):
        return CheckResult(False, f"daemonset {name}: the controller has not seen its latest spec yet")
    if desired == 0:
        return CheckResult(False, f"daemonset {name} runs on no node")
    if ready == desired and updated == desired and not (status.number_unavailable or 0):
        return CheckResult(True, f"daemonset {name}: {ready}/{desired} ready and up to date")
    return CheckResult(False, f"daemonset {name}: {ready}/{desired} ready, {updated} up to date")


@CHECKS.register("service-has-endpoints")
def service_has_endpoints(ctx, name: str, namespace: str = "default", count: Count = 1) -> CheckResult:
    """The Service selects at least `count` ready endpoints."""
    from kubernetes import client

    discovery = client.DiscoveryV1Api(ctx.api)
    slices = discovery.list_namespaced_endpoint_slice(namespace, label_selector=f"kubernetes.io/service-name={name}")
    ready = sum(
        1
        for s in slices.items
        for e in s.endpoints or []
        if e.conditions is None or e.conditions.ready is not False
    )
    if ready >= count:
        return CheckResult(True, f"service {name}: {ready} ready endpoint(s)")
    return CheckResult(False, f"service {name} has {ready} ready endpoint(s); check its selector and target pods")


@CHECKS.register("field-equals")
def field_equals(
    ctx, kind: str, name: str, path: FieldPath, value: Any, api_version: str = "v1", namespace: str | None = "default"
) -> CheckResult:
    """An object's field (a path such as `.spec.replicas` or `.spec.containers[0].image`)
    equals value."""
    resource = ctx.resource(api_version, kind)
    obj = resource.get(name=name, namespace=namespace if resource.namespaced else None).to_dict()
    try:
        actual = lookup(obj, path)
    except JsonPathError as exc:
        return CheckResult(False, f"{kind}/{name}: {exc}")
    if actual == value:
        return CheckResult(True, f"{kind}/{name} {path} is {value!r}")
    return CheckResult(False, f"{kind}/{name} {path} is {actual!r}, expected {value!r}")


@CHECKS.register("object-absent")
def object_absent(ctx, kind: str, name: str, api_version: str = "v1", namespace: str | None = "default") -> CheckResult:
    """The object does not exist: neither a read of it (served by etcd) nor a list (served by
    the API server's cache, as `kubectl get <kind>` is) shows it."""
    from kubernetes.dynamic.exceptions import NotFoundError

    resource = ctx.resource(api_version, kind)
    where = namespace if resource.namespaced else None
    try:
        resource.get(name=name, namespace=where)
    except NotFoundError:
        listed = resource.get(namespace=where, field_selector=f"metadata.name={name}").items
        if listed:
            return CheckResult(False, f"{kind}/{name} is still listed by the API server (`kubectl get {kind.lower()}`)")
        return CheckResult(True, f"{kind}/{name} is absent")
    return CheckResult(False, f"{kind}/{name} still exists")
