"""Kubernetes objects: apply (setup), patch, scale, delete; pods deleted bare or owned."""

from __future__ import annotations

import time
from typing import Any

from lab.errors import LabError
from lab.ledger import ObjectState
from lab.registry import FAULTS

_SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")


def clean_manifest(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as it can be created again: no status, no server-set metadata."""
    manifest = {k: v for k, v in obj.items() if k != "status"}
    metadata = {k: v for k, v in manifest.get("metadata", {}).items() if k not in _SERVER_FIELDS}
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if k != "kubectl.kubernetes.io/last-applied-configuration"
    }
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    manifest["metadata"] = metadata
    return manifest


def get_object(ctx, api_version: str, kind: str, name: str, namespace: str | None) -> dict[str, Any] | None:
    from kubernetes.dynamic.exceptions import NotFoundError

    resource = ctx.resource(api_version, kind)
    try:
        return resource.get(name=name, namespace=namespace if resource.namespaced else None).to_dict()
    except NotFoundError:
        return None


def record_object(
    ctx, api_version: str, kind: str, name: str, namespace: str | None, reschedule: bool = False
) -> dict[str, Any] | None:
    """Record the object as it is now; with reschedule, a pod's nodeName is left out so the
    re-created pod is scheduled afresh, as `kubectl apply` of its saved manifest would be."""
    current = get_object(ctx, api_version, kind, name, namespace)
    manifest = clean_manifest(current) if current else None
    if manifest and reschedule:
        manifest.get("spec", {}).pop("nodeName", None)
    ctx.ledger.record(
        ObjectState(
            api_version=api_version,
            object_kind=kind,
            namespace=namespace if ctx.resource(api_version, kind).namespaced else None,
            name=name,
            manifest=manifest,
        )
    )
    return current


def apply_objects(ctx, documents: list[dict[str, Any]]) -> None:
    """Create (or update) setup objects; each is recorded as absent, so reset deletes it."""
    for doc in documents:
        api_version, kind = doc["apiVersion"], doc["kind"]
        metadata = doc.get("metadata", {})
        resource = ctx.resource(api_version, kind)
        namespace = metadata.get("namespace", "default") if resource.namespaced else None
        ctx.ledger.record(
            ObjectState(api_version=api_version, object_kind=kind, namespace=namespace, name=metadata["name"], manifest=None)
        )
        body = {**doc, "metadata": {**metadata, **({"namespace": namespace} if namespace else {})}}
        resource.server_side_apply(body=body, name=metadata["name"], namespace=namespace, field_manager="cka-lab", force_conflicts=True)


@FAULTS.register("delete-pods")
def delete_pods(ctx, namespace: str = "default", name: str | None = None, selector: str | None = None) -> None:
    """Delete pods by name or label selector. A bare pod is recorded so reset re-creates it; a
    pod owned by a controller is not (its controller re-creates it)."""
    if not name and not selector:
        raise LabError("delete-pods needs a name or a selector", title="Fault cannot apply")
    pods = ctx.core.list_namespaced_pod(namespace, label_selector=selector or "").items
    pods = [p for p in pods if not name or p.metadata.name == name]
    if not pods:
        raise LabError(f"no pod {name or selector} in namespace {namespace}", title="Fault cannot apply")
    for pod in pods:
        if not pod.metadata.owner_references:
            record_object(ctx, "v1", "Pod", pod.metadata.name, namespace, reschedule=True)
        ctx.core.delete_namespaced_pod(pod.metadata.name, namespace, grace_period_seconds=0)
    deadline = time.monotonic() + 60
    uids = {p.metadata.uid for p in pods}
    while time.monotonic() < deadline:
        left = [p for p in ctx.core.list_namespaced_pod(namespace).items if p.metadata.uid in uids]
        if not left:
            return
        time.sleep(1)
    raise LabError(f"pods {sorted(p.metadata.name for p in pods)} still exist 60s after deletion", title="Fault did not take")


@FAULTS.register("patch-object")
def patch_object(
    ctx, kind: str, name: str, patch: dict[str, Any], api_version: str = "v1", namespace: str | None = "default"
) -> None:
    """Merge-patch an object (e.g. break a Service selector); reset restores it as it was."""
    if record_object(ctx, api_version, kind, name, namespace) is None:
        raise LabError(f"{kind}/{name} not found in {namespace}", title="Fault cannot apply")
    resource = ctx.resource(api_version, kind)
    resource.patch(
        body=patch, name=name, namespace=namespace if resource.namespaced else None, content_type="application/merge-patch+json"
    )


@FAULTS.register("scale")
def scale(ctx, name: str, replicas: int, kind: str = "Deployment", namespace: str = "default") -> None:
    """Set spec.replicas of a Deployment, StatefulSet or ReplicaSet (kubectl scale)."""
    patch_object(ctx, kind, name, {"spec": {"replicas": replicas}}, api_version="apps/v1", namespace=namespace)


@FAULTS.register("delete-object")
def delete_object(ctx, kind: str, name: str, api_version: str = "v1", namespace: str | None = "default") -> None:
    """Delete an object; reset re-creates it from the recorded manifest."""
    if record_object(ctx, api_version, kind, name, namespace) is None:
        raise LabError(f"{kind}/{name} not found in {namespace}", title="Fault cannot apply")
    resource = ctx.resource(api_version, kind)
    resource.delete(name=name, namespace=namespace if resource.namespaced else None)
