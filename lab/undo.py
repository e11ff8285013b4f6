"""Replaying the undo ledger: every entry restores a recorded state, so each is idempotent and a
reset interrupted half-way can simply be run again."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from lab.cluster.node import delete_file, read_file, service_state, write_file
from lab.context import LabContext
from lab.ledger import FileState, ObjectState, PathState, ServiceState


def undo_file(ctx: LabContext, entry: FileState) -> None:
    node = ctx.node(entry.node)
    current = read_file(node, entry.path)
    if entry.content_b64 is None:
        if current is not None:
            delete_file(node, entry.path)
    else:
        original = base64.b64decode(entry.content_b64)
        if current != original:
            write_file(node, entry.path, original, entry.mode)
        elif entry.mode is not None:
            node.run(["chmod", f"{entry.mode:o}", entry.path])
    if entry.restart:
        node.run(["systemctl", "daemon-reload"])
        for unit in entry.restart:
            node.run(["systemctl", "restart", unit])


def undo_path(ctx: LabContext, entry: PathState) -> None:
    ctx.node(entry.node).run(["rm", "-rf", "--one-file-system", "--", entry.path])


def undo_service(ctx: LabContext, entry: ServiceState) -> None:
    node = ctx.node(entry.node)
    node.run(["systemctl", "enable" if entry.enabled else "disable", entry.service], check=False)
    active, _ = service_state(node, entry.service)
    if entry.active and not active:
        node.run(["systemctl", "start", entry.service])
    elif not entry.active and active:
        node.run(["systemctl", "stop", entry.service])


def undo_object(ctx: LabContext, entry: ObjectState) -> None:
    from kubernetes.dynamic.exceptions import NotFoundError

    resource = ctx.resource(entry.api_version, entry.object_kind)
    namespace = entry.namespace if resource.namespaced else None
    if entry.manifest is None:
        try:
            resource.delete(name=entry.name, namespace=namespace, body={"propagationPolicy": "Background"})
        except NotFoundError:
            return
        _wait_gone(lambda: _exists(resource, entry.name, namespace))
        return
    if _exists(resource, entry.name, namespace):
        if entry.object_kind == "Pod":
            # a pod's spec is immutable: put the recorded one back by re-creating it
            resource.delete(name=entry.name, namespace=namespace, grace_period_seconds=0)
            _wait_gone(lambda: _exists(resource, entry.name, namespace))
            resource.create(body=entry.manifest, namespace=namespace)
        else:
            resource.replace(body=entry.manifest, name=entry.name, namespace=namespace)
    else:
        resource.create(body=entry.manifest, namespace=namespace)


def _exists(resource, name: str, namespace: str | None) -> bool:
    from kubernetes.dynamic.exceptions import NotFoundError

    try:
        resource.get(name=name, namespace=namespace)
        return True
    except NotFoundError:
        return False


def _wait_gone(exists: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while exists() and time.monotonic() < deadline:
        time.sleep(1)


UNDO = {"file": undo_file, "service": undo_service, "path": undo_path, "object": undo_object}


def replay(ctx: LabContext, progress: Callable[[str], None] = lambda _: None) -> int:
    """Undo every ledger entry, newest first, dropping each once done. Returns how many."""
    count = 0
    while entries := ctx.ledger.entries():
        entry = entries[-1]
        progress(f"undo: {describe(entry)}")
        _with_retries(lambda: UNDO[entry.kind](ctx, entry), progress)  # type: ignore[operator]
        ctx.ledger.drop_last()
        count += 1
    return count


def _with_retries(action: Callable[[], None], progress: Callable[[str], None], timeout: float = 180) -> None:
    """Run action, retrying while it fails: the API server may be restarting because an earlier
    undo just restored its manifest."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            action()
            return
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            progress(f"  retrying ({type(exc).__name__}: {str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ''})")
            time.sleep(3)


def describe(entry: FileState | ServiceState | PathState | ObjectState) -> str:
    if isinstance(entry, PathState):
        return f"remove {entry.path} on {entry.node} (did not exist)"
    if isinstance(entry, FileState):
        return f"restore {entry.path} on {entry.node}" if entry.content_b64 else f"remove {entry.path} on {entry.node}"
    if isinstance(entry, ServiceState):
        state = "active" if entry.active else "stopped"
        return f"{entry.service} on {entry.node} back to {state}, {'enabled' if entry.enabled else 'disabled'}"
    where = f" in {entry.namespace}" if entry.namespace else ""
    return f"{'restore' if entry.manifest else 'delete'} {entry.object_kind}/{entry.name}{where}"
