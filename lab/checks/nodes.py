"""Checks on nodes: readiness through the API, and services and files inside the node."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from lab.checks.result import CheckResult
from lab.cluster.api import ready_condition
from lab.cluster.node import read_file
from lab.params import NodeName, NodePath, Seconds, ServiceName
from lab.registry import CHECKS


@CHECKS.register("node-ready")
def node_ready(ctx, node: NodeName) -> CheckResult:
    """The node (control-plane, worker, worker2, …) reports Ready to the API server."""
    container = ctx.node(node).container
    obj = ctx.core.read_node(container)
    condition = ready_condition(obj)
    if condition and condition.status == "True":
        unschedulable = " (cordoned)" if obj.spec.unschedulable else ""
        return CheckResult(True, f"node {node} is Ready{unschedulable}")
    detail = f": {condition.message}" if condition and condition.message else ""
    return CheckResult(False, f"node {node} is NotReady{detail}")


@CHECKS.register("node-schedulable")
def node_schedulable(ctx, node: NodeName, schedulable: bool = True) -> CheckResult:
    """The node is not cordoned (or, with schedulable: false, it is)."""
    obj = ctx.core.read_node(ctx.node(node).container)
    if bool(obj.spec.unschedulable) == schedulable:
        state = "cordoned (SchedulingDisabled)" if obj.spec.unschedulable else "schedulable"
        return CheckResult(False, f"node {node} is {state}")
    return CheckResult(True, f"node {node} is {'schedulable' if schedulable else 'cordoned'}")


@CHECKS.register("node-heartbeat")
def node_heartbeat(ctx, node: NodeName, max_age: Seconds = 25) -> CheckResult:
    """The kubelet on the node renewed its Lease (kube-node-lease) within max_age seconds: it
    is running and talking to the API server right now, before the node turns NotReady."""
    from datetime import datetime, timezone

    from kubernetes import client

    lease = client.CoordinationV1Api(ctx.api).read_namespaced_lease(ctx.node(node).container, "kube-node-lease")
    renewed = lease.spec.renew_time
    if renewed is None:
        return CheckResult(False, f"the kubelet on {node} never renewed its lease")
    age = (datetime.now(timezone.utc) - renewed).total_seconds()
    if age > max_age:
        return CheckResult(False, f"the kubelet on {node} last renewed its lease {age:.0f}s ago")
    return CheckResult(True, f"the kubelet on {node} renewed its lease {max(age, 0):.0f}s ago")


@CHECKS.register("node-version")
def node_version(ctx, node: NodeName, kubelet: Annotated[str, Field(pattern=r"^v\d+\.\d+\.\d+$")]) -> CheckResult:
    """The node's kubelet reports version `kubelet` (e.g. v1.34.0) to the API server, as
    `kubectl get nodes` shows it: the kubelet was upgraded and restarted."""
    reported = ctx.core.read_node(ctx.node(node).container).status.node_info.kubelet_version
    if reported == kubelet:
        return CheckResult(True, f"node {node} runs kubelet {reported}")
    return CheckResult(False, f"node {node} runs kubelet {reported}, expected {kubelet}")


@CHECKS.register("node-taint")
def node_taint(
    ctx, node: NodeName, key: str, effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"],
    value: str | None = None, present: bool = True,
) -> CheckResult:
    """The node has the taint `key[=value]:effect` (or, with present: false, has not); `value`
    unset matches any value."""
    taints = ctx.core.read_node(ctx.node(node).container).spec.taints or []
    found = any(t.key == key and t.effect == effect and (value is None or t.value == value) for t in taints)
    shown = f"{key}{'=' + value if value is not None else ''}:{effect}"
    if found == present:
        return CheckResult(True, f"node {node} {'has' if present else 'has no'} taint {shown}")
    return CheckResult(False, f"node {node} {'lacks' if present else 'still has'} taint {shown}")


@CHECKS.register("node-drained")
def node_drained(ctx, node: NodeName) -> CheckResult:
    """The node is cordoned and runs no pods but DaemonSet pods and static (mirror) pods, as
    after `kubectl drain --ignore-daemonsets`."""
    name = ctx.node(node).container
    if not ctx.core.read_node(name).spec.unschedulable:
        return CheckResult(False, f"node {node} is not cordoned")
    pods = ctx.core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={name}").items
    left = [
        f"{p.metadata.namespace}/{p.metadata.name}"
        for p in pods
        if p.status.phase not in ("Succeeded", "Failed")
        and p.metadata.deletion_timestamp is None
        and not any(o.kind == "DaemonSet" for o in p.metadata.owner_references or [])
        and "kubernetes.io/config.mirror" not in (p.metadata.annotations or {})
    ]
    if left:
        return CheckResult(False, f"node {node} still runs {len(left)} pod(s): {', '.join(left[:4])}")
    return CheckResult(True, f"node {node} is drained")


@CHECKS.register("service-active")
def service_active(ctx, node: NodeName, service: ServiceName, enabled: bool = True) -> CheckResult:
    """A systemd service on the node is active (and, unless enabled is false, enabled at boot)."""
    target = ctx.node(node)
    state = target.run(["systemctl", "is-active", service], check=False).stdout.strip()
    if state != "active":
        return CheckResult(False, f"{service} on {node} is {state or 'unknown'}")
    if enabled:
        boot = target.run(["systemctl", "is-enabled", service], check=False).stdout.strip()
        if boot != "enabled":
            return CheckResult(False, f"{service} on {node} is active but {boot} (it won't survive a reboot)")
    return CheckResult(True, f"{service} on {node} is active")


@CHECKS.register("file-contains")
def file_contains(ctx, node: NodeName, path: NodePath, text: str, present: bool = True) -> CheckResult:
    """A file on the node contains text (or, with present: false, does not)."""
    data = read_file(ctx.node(node), path)
    if data is None:
        return CheckResult(not present, f"{path} on {node} does not exist")
    found = text in data.decode(errors="replace")
    if found == present:
        return CheckResult(True, f"{path} on {node} {'contains' if present else 'lacks'} {text!r}")
    return CheckResult(False, f"{path} on {node} {'lacks' if present else 'still contains'} {text!r}")


@CHECKS.register("command-succeeds")
def command_succeeds(ctx, node: NodeName, command: str, output_contains: str | None = None) -> CheckResult:
    """A shell command on the node exits 0 (and prints output_contains, when given)."""
    result = ctx.node(node).sh(command, check=False, timeout=60)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        return CheckResult(False, f"`{command}` on {node} exited {result.returncode}: {output[-200:]}")
    if output_contains is not None and output_contains not in output:
        return CheckResult(False, f"`{command}` on {node} did not print {output_contains!r}")
    return CheckResult(True, f"`{command}` on {node} succeeded")
