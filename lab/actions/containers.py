"""Node containers switched off and on: a kind node is a Docker container, so `docker stop` is a
machine losing power (its kubelet, runtime and static pods all stop at once)."""

from __future__ import annotations

from lab.cluster.node import wait_until_booted
from lab.errors import LabError, TimedOut, UndoFailed
from lab.ledger import ContainerState
from lab.params import NodeName
from lab.registry import FAULTS
from lab.shell import run
from lab.wait import Pending, wait_until

STOP_GRACE_SECONDS = 10


def container_running(container: str) -> bool:
    out = run(["docker", "inspect", "-f", "{{.State.Running}}", container], check=False, timeout=30)
    return out.returncode == 0 and out.stdout.strip() == "true"


@FAULTS.register("stop-node-container")
def stop_node_container(ctx, node: NodeName) -> None:
    """Stop the node's container (`docker stop`), as if the machine lost power. `node:
    lease-holder` picks, when the fault runs, the node whose kube-scheduler holds the leader
    Lease. Undo starts the container again."""
    target = ctx.node(node)
    # recorded first: a cka-lab killed between the two still has the container started by reset
    ctx.ledger.record(ContainerState(node=target.short_name, container=target.container))
    run(["docker", "stop", "-t", str(STOP_GRACE_SECONDS), target.container],
        timeout=STOP_GRACE_SECONDS + 60, context=f"stopping node {target.short_name}")
    if container_running(target.container):
        raise LabError(f"node {target.short_name} is still running after `docker stop`", title="Fault did not take")


@FAULTS.register("start-stopped-nodes", solution_only=True)
def start_stopped_nodes(ctx) -> None:
    """Start every stopped node container of the lab cluster (what a trainee does with `docker
    start` on the host, for the node they found switched off), and wait until they booted."""
    ctx.cluster.start_stopped_nodes(lambda _: None)
    ctx.forget_cluster()


def undo_container(ctx, entry: ContainerState) -> None:
    if not container_running(entry.container):
        run(["docker", "start", entry.container], timeout=120, context=f"starting node {entry.node} again")
    try:
        wait_until(lambda: container_running(entry.container) or Pending("not running yet"), timeout=60,
                   what=f"node {entry.node}'s container to run")
    except TimedOut:
        raise UndoFailed(f"node {entry.node}'s container {entry.container} does not stay running") from None
    ctx.forget_cluster()
    try:
        wait_until_booted(ctx.node(entry.node))
    except TimedOut as exc:
        raise UndoFailed(f"node {entry.node} started again, but {exc.message}",
                         hint=f"cka-lab ssh {entry.node} -- systemctl status kubelet containerd") from None
