"""Replaying the undo ledger: every entry restores a recorded state, so each is idempotent and a
reset interrupted half-way can simply be run again. Each undo verifies its own result (the
file's bytes and mode, the unit's state, the object gone or back) and raises UndoFailed when
the recorded state did not come back: a reset never reports a baseline it did not reach."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from lab.cluster.node import delete_file, file_mode, read_file, service_state, write_file
from lab.context import LabContext
from lab.cluster.api import transient_api_errors
from lab.errors import CommandError, TimedOut, UndoFailed
from lab.actions.membership import join_like_kind
from lab.actions.release import undo_release
from lab.actions.containers import undo_container
from lab.actions.etcd import undo_etcd_member
from lab.actions.manifests import hasten_replacement, pod_state
from lab.ledger import (
    AnyEntry,
    ContainerState,
    EtcdMemberState,
    FileState,
    MembershipState,
    ObjectState,
    PathState,
    ReleaseState,
    ServiceState,
)
from lab.params import MANIFEST_DIR
from lab.wait import Pending, wait_until

Progress = Callable[[str], None]

ETCD_PATHS = ("/etc/kubernetes/manifests/etcd.yaml", "/var/lib/etcd")
"""Undoing a change here rewinds etcd's data: the API server's watch cache must be rebuilt."""


def undo_file(ctx: LabContext, entry: FileState) -> None:
    node = ctx.node(entry.node)
    current = read_file(node, entry.path)
    if entry.content_b64 is None:
        if current is not None:
            delete_file(node, entry.path)
    else:
        original = base64.b64decode(entry.content_b64)
        if current != original:
            static_pod = entry.path.startswith(MANIFEST_DIR + "/") and current is not None
            pod_name, before, running = pod_state(node, current.decode(errors="replace")) if static_pod else ("", set(), set())
            write_file(node, entry.path, original, entry.mode)
            if pod_name and running:
                # the broken pod would take its grace period to stop (30 s for the API server)
                hasten_replacement(node, pod_name, before, running)
        elif entry.mode is not None and file_mode(node, entry.path) != entry.mode:
            node.run(["chmod", f"{entry.mode:o}", "--", entry.path])
    _verify_file(ctx, entry)
    if entry.restart:
        node.run(["systemctl", "daemon-reload"])
        for unit in entry.restart:
            node.run(["systemctl", "restart", unit])


def _verify_file(ctx: LabContext, entry: FileState) -> None:
    node = ctx.node(entry.node)
    now = read_file(node, entry.path)
    wanted = None if entry.content_b64 is None else base64.b64decode(entry.content_b64)
    if now != wanted:
        state = "still exists" if wanted is None else ("is missing" if now is None else "differs from the recorded bytes")
        raise UndoFailed(f"{entry.path} on {entry.node} {state} after restoring it")
    if wanted is not None and entry.mode is not None and file_mode(node, entry.path) != entry.mode:
        raise UndoFailed(f"{entry.path} on {entry.node} has mode {file_mode(node, entry.path):o}, recorded {entry.mode:o}")


def undo_path(ctx: LabContext, entry: PathState) -> None:
    node = ctx.node(entry.node)
    node.run(["rm", "-rf", "--one-file-system", "--", entry.path])
    if node.run(["test", "-e", entry.path], check=False).returncode == 0:
        raise UndoFailed(f"{entry.path} on {entry.node} still exists after removing it")


def undo_service(ctx: LabContext, entry: ServiceState) -> None:
    node = ctx.node(entry.node)
    active, enabled = service_state(node, entry.service)
    if enabled != entry.enabled:
        node.run(["systemctl", "enable" if entry.enabled else "disable", entry.service])
    if entry.active and not active:
        node.run(["systemctl", "start", entry.service])
    elif not entry.active and active:
        node.run(["systemctl", "stop", entry.service])

    def restored() -> object:
        now = service_state(node, entry.service)
        if now == (entry.active, entry.enabled):
            return True
        return Pending(f"{entry.service} is {'active' if now[0] else 'inactive'}, {'enabled' if now[1] else 'disabled'}")

    try:
        wait_until(restored, timeout=30, what=f"{entry.service} on {entry.node} back to its recorded state")
    except TimedOut as exc:
        raise UndoFailed(exc.message) from None


def undo_object(ctx: LabContext, entry: ObjectState) -> None:
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

    try:
        resource = ctx.resource(entry.api_version, entry.object_kind)
    except ResourceNotFoundError:
        if entry.manifest is None:
            return  # its kind is not served any more (its CustomResourceDefinition went): nothing to delete
        raise UndoFailed(
            f"{entry.object_kind}/{entry.name} cannot be put back: the API serves no {entry.object_kind} "
            f"({entry.api_version}) now"
        ) from None
    namespace = entry.namespace if resource.namespaced else None
    what = f"{entry.object_kind}/{entry.name}" + (f" in {namespace}" if namespace else "")
    if entry.manifest is None:
        try:
            resource.delete(name=entry.name, namespace=namespace, body={"propagationPolicy": "Background"})
        except NotFoundError:
            return
        _wait_gone(resource, entry.name, namespace, what,
                   restart_api=ctx.cluster.restart_api_servers if entry.object_kind == "Namespace" else None)
        return
    if _exists(resource, entry.name, namespace):
        if entry.object_kind == "Pod":
            # a pod's spec is immutable: put the recorded one back by re-creating it
            resource.delete(name=entry.name, namespace=namespace, grace_period_seconds=0)
            _wait_gone(resource, entry.name, namespace, what)
            resource.create(body=entry.manifest, namespace=namespace)
        else:
            resource.replace(body=entry.manifest, name=entry.name, namespace=namespace)
    else:
        resource.create(body=entry.manifest, namespace=namespace)
    if not _exists(resource, entry.name, namespace):
        raise UndoFailed(f"{what} is still missing after re-creating it")


def _exists(resource, name: str, namespace: str | None) -> bool:
    from kubernetes.dynamic.exceptions import NotFoundError

    try:
        resource.get(name=name, namespace=namespace)
        return True
    except NotFoundError:
        return False


STUCK_NAMESPACE = 30
"""Seconds a namespace may wait on its API server's stale discovery before that is restarted."""


def _namespace_stuck_on_discovery(resource, name: str) -> bool:
    """The namespace controller cannot finish: the API server's discovery still marks an
    aggregated group (metrics.k8s.io) stale, though its APIService is Available again (seen after
    an etcd restore; restarting the controller-manager does not help, the API server does). The
    deletion then waits for ever."""
    try:
        conditions = resource.get(name=name).status.conditions or []
    except Exception:  # noqa: BLE001  (gone, or the API restarting: the wait decides)
        return False
    return any(c.type == "NamespaceDeletionDiscoveryFailure" and c.status == "True" and "stale" in (c.message or "")
               for c in conditions)


def _wait_gone(resource, name: str, namespace: str | None, what: str, timeout: float = 120,
               restart_api: Callable[[], None] | None = None) -> None:
    """Wait until the object is gone. With `restart_api` (a namespace), a deletion held by the
    API server's stale discovery (_namespace_stuck_on_discovery) for STUCK_NAMESPACE seconds
    restarts the API servers, once."""
    started, restarted = time.monotonic(), []

    def gone() -> object:
        if not _exists(resource, name, namespace):
            return True
        if (restart_api and not restarted and time.monotonic() - started > STUCK_NAMESPACE
                and _namespace_stuck_on_discovery(resource, name)):
            restarted.append(True)
            restart_api()
            return Pending("still there: its API server's discovery was stale, restarted it")
        return Pending("still there (finalizers?)")

    try:
        wait_until(gone, timeout=timeout, what=f"{what} to be deleted", retry_on=transient_api_errors())
    except TimedOut as exc:
        raise UndoFailed(exc.message) from None


UNDO = {
    "file": undo_file,
    "service": undo_service,
    "path": undo_path,
    "object": undo_object,
    "membership": join_like_kind,
    "release": undo_release,
    "container": undo_container,
    "etcd-member": undo_etcd_member,
}


def replay(ctx: LabContext, progress: Progress = lambda _: None) -> list:
    """Undo every ledger entry, newest first, dropping each (by id) once it is undone and
    verified. Returns the entries undone."""
    undone = []
    while entries := ctx.ledger.entries():
        entry = entries[-1]
        progress(f"undo: {describe(entry)}")
        if isinstance(entry, ReleaseState):  # minutes of work: it says what it does
            _with_retries(lambda: undo_release(ctx, entry, progress), progress)
        else:
            _with_retries(lambda: UNDO[entry.kind](ctx, entry), progress)  # type: ignore[operator]
        ctx.ledger.drop(entry.id)
        undone.append(entry)
    return undone


def only_workload_objects(entries: list) -> bool:
    """True when every entry is an API object outside kube-system (a scenario's own workload):
    undoing those cannot leave a node or a system component unhealthy."""
    return all(
        isinstance(e, ObjectState) and e.namespace not in (None, "kube-system") and e.object_kind != "Node"
        for e in entries
    )


def touches_etcd(entries: list) -> bool:
    return any(
        isinstance(e, FileState | PathState) and e.path.startswith(ETCD_PATHS) for e in entries
    )


def _with_retries(action: Callable[[], None], progress: Progress, timeout: float = 180) -> None:
    """Run action, retrying while the cluster is not answering: the API server may be
    restarting because an earlier undo just restored its manifest. An UndoFailed (the state
    did not come back) or an unreachable node is reported at once."""

    def attempt() -> bool:
        action()
        return True

    wait_until(attempt, timeout=timeout, interval=3, what="the undo to go through", progress=progress,
               retry_on=(CommandError, OSError, *transient_api_errors()))


def describe(entry: AnyEntry) -> str:
    if isinstance(entry, EtcdMemberState):
        return f"give the etcd member on {entry.node} its data back (or add it again) and wait until it is healthy"
    if isinstance(entry, ContainerState):
        return f"start node {entry.node} again (its container was stopped)"
    if isinstance(entry, MembershipState):
        return f"join {entry.node} to the cluster again, as kind joined it"
    if isinstance(entry, ReleaseState):
        return f"re-create the cluster at Kubernetes {entry.kubernetes} if it was upgraded"
    if isinstance(entry, PathState):
        return f"remove {entry.path} on {entry.node} (did not exist)"
    if isinstance(entry, FileState):
        return f"restore {entry.path} on {entry.node}" if entry.content_b64 else f"remove {entry.path} on {entry.node}"
    if isinstance(entry, ServiceState):
        state = "active" if entry.active else "stopped"
        return f"{entry.service} on {entry.node} back to {state}, {'enabled' if entry.enabled else 'disabled'}"
    where = f" in {entry.namespace}" if entry.namespace else ""
    return f"{'restore' if entry.manifest else 'delete'} {entry.object_kind}/{entry.name}{where}"
