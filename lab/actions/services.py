"""systemd services on nodes (kubelet, containerd)."""

from __future__ import annotations

from lab.cluster.node import service_state
from lab.errors import LabError, TimedOut
from lab.ledger import ServiceState
from lab.params import NodeName, ServiceName
from lab.registry import FAULTS
from lab.wait import Pending, wait_until


def _record_service(ctx, node: str, service: str):
    """Record the unit's current state for undo; returns the node."""
    target = ctx.node(node)
    active, enabled = service_state(target, service)
    ctx.ledger.record(ServiceState(node=target.short_name, service=service, active=active, enabled=enabled))
    return target


@FAULTS.register("stop-service")
def stop_service(ctx, node: NodeName, service: ServiceName, disable: bool = False) -> None:
    """Stop a systemd service on the node (and disable it, so it stays down after a reboot)."""
    target = _record_service(ctx, node, service)
    if disable:
        target.run(["systemctl", "disable", service])
    target.run(["systemctl", "stop", service])
    try:
        wait_until(lambda: not service_state(target, service)[0] or Pending("still active"), timeout=30,
                   what=f"{service} on {node} to stop")
    except TimedOut as exc:
        raise LabError(exc.message, title="Fault did not take") from None


@FAULTS.register("start-service")
def start_service(ctx, node: NodeName, service: ServiceName, enable: bool = True) -> None:
    """Start (and enable) a systemd service on the node."""
    target = _record_service(ctx, node, service)
    if enable:
        target.run(["systemctl", "enable", service])
    target.run(["systemctl", "start", service])
