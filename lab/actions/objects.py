"""Kubernetes objects: apply (setup), patch, scale, delete; pods deleted bare or owned."""

from __future__ import annotations

from typing import Any, Literal

from lab.errors import LabError, TimedOut
from lab.ledger import ObjectState
from lab.params import FieldPath, NodeName, Replicas, SearchText
from lab.registry import FAULTS
from lab.wait import Pending, wait_until

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


def _placement(ctx, manifest: dict[str, Any]) -> tuple[Any, str | None]:
    """The API resource of a manifest and the namespace it goes to (default, when a namespaced
    manifest names none)."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    what = f"the API server to serve {manifest['kind']} ({manifest['apiVersion']})"
    try:
        # a kind whose CustomResourceDefinition was applied a moment ago is served once it is established
        resource = wait_until(lambda: ctx.resource(manifest["apiVersion"], manifest["kind"]), timeout=30,
                              interval=1, what=what, retry_on=(ResourceNotFoundError,))
    except TimedOut as exc:
        raise LabError(exc.message, title="Unknown kind") from None
    return resource, manifest["metadata"].get("namespace", "default") if resource.namespaced else None


def _server_side_apply(resource: Any, manifest: dict[str, Any], namespace: str | None) -> None:
    metadata = manifest["metadata"]
    body = {**manifest, "metadata": {**metadata, **({"namespace": namespace} if namespace else {})}}
    resource.server_side_apply(body=body, name=metadata["name"], namespace=namespace, field_manager="cka-lab", force_conflicts=True)


def apply_objects(ctx, documents: list[dict[str, Any]]) -> None:
    """Create (or update) setup objects. Each is recorded as it was first: absent (reset
    deletes it) or, for one that existed already (say a kube-system ConfigMap), its manifest
    (reset puts it back rather than deleting it)."""
    for doc in documents:
        resource, namespace = _placement(ctx, doc)
        record_object(ctx, doc["apiVersion"], doc["kind"], doc["metadata"]["name"], namespace)
        _server_side_apply(resource, doc, namespace)


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
    uids = {p.metadata.uid for p in pods}

    def gone() -> object:
        left = [p.metadata.name for p in ctx.core.list_namespaced_pod(namespace).items if p.metadata.uid in uids]
        return not left or Pending(f"{len(left)} pod(s) still terminating")

    try:
        wait_until(gone, timeout=60, what=f"the deleted pods in {namespace} to disappear")
    except TimedOut as exc:
        raise LabError(exc.message, title="Fault did not take") from None


PATCH_TYPES = {"merge": "application/merge-patch+json", "strategic": "application/strategic-merge-patch+json"}


@FAULTS.register("patch-object")
def patch_object(
    ctx,
    kind: str,
    name: str,
    patch: dict[str, Any],
    api_version: str = "v1",
    namespace: str | None = "default",
    strategy: Literal["merge", "strategic"] = "merge",
) -> None:
    """Patch an object (e.g. break a Service selector); reset restores it as it was. `merge`
    replaces lists whole; `strategic` merges lists such as containers and env by name, as
    `kubectl patch` does."""
    if record_object(ctx, api_version, kind, name, namespace) is None:
        raise LabError(f"{kind}/{name} not found in {namespace}", title="Fault cannot apply")
    resource = ctx.resource(api_version, kind)
    resource.patch(
        body=patch, name=name, namespace=namespace if resource.namespaced else None, content_type=PATCH_TYPES[strategy]
    )


@FAULTS.register("apply-object")
def apply_object(ctx, manifest: dict[str, Any]) -> None:
    """Create or update one object (server-side apply), e.g. a ConfigMap made after an etcd
    snapshot or a Service under a wrong name; reset restores the object as it was before, or
    deletes it when it did not exist."""
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name") or "apiVersion" not in manifest or "kind" not in manifest:
        raise LabError("apply-object needs a manifest with apiVersion, kind and metadata.name", title="Fault cannot apply")
    resource, namespace = _placement(ctx, manifest)
    record_object(ctx, manifest["apiVersion"], manifest["kind"], metadata["name"], namespace)
    _server_side_apply(resource, manifest, namespace)


@FAULTS.register("replace-in-object")
def replace_in_object(
    ctx,
    kind: str,
    name: str,
    path: FieldPath,
    old: SearchText,
    new: str,
    api_version: str = "v1",
    namespace: str | None = "default",
) -> None:
    """Replace text in a string field of an object, given by path (`.data.Corefile`,
    `.spec.template.spec.containers[name=kube-proxy].command[1]`), every occurrence: break a
    config file in a ConfigMap or one flag of a command without restating the rest. Reset
    restores the object as it was."""
    from lab.jsonpath import JsonPathError, assign, lookup

    current = record_object(ctx, api_version, kind, name, namespace)
    if current is None:
        raise LabError(f"{kind}/{name} not found in {namespace}", title="Fault cannot apply")
    try:
        text = lookup(current, path)
    except JsonPathError as exc:
        raise LabError(f"{kind}/{name}: {exc}", title="Fault cannot apply") from exc
    if not isinstance(text, str) or old not in text:
        raise LabError(f"{kind}/{name} {path} does not contain {old!r}", title="Fault cannot apply")
    assign(current, path, text.replace(old, new))
    body = {k: v for k, v in current.items() if k != "status"}
    resource = ctx.resource(api_version, kind)
    resource.replace(body=body, name=name, namespace=namespace if resource.namespaced else None)


@FAULTS.register("cordon")
def cordon(ctx, node: NodeName, unschedulable: bool = True) -> None:
    """Cordon a node (`kubectl cordon`), or with unschedulable: false uncordon it. Recorded first,
    so reset puts the node's schedulability back; as a fault with unschedulable: false on a
    schedulable node it changes nothing and only records, before a task that cordons."""
    name = ctx.node(node).container
    record_object(ctx, "v1", "Node", name, None)
    ctx.core.patch_node(name, {"spec": {"unschedulable": unschedulable or None}})


@FAULTS.register("scale")
def scale(ctx, name: str, replicas: Replicas, kind: str = "Deployment", namespace: str = "default") -> None:
    """Set spec.replicas of a Deployment, StatefulSet or ReplicaSet (kubectl scale)."""
    patch_object(ctx, kind, name, {"spec": {"replicas": replicas}}, api_version="apps/v1", namespace=namespace)


@FAULTS.register("delete-object")
def delete_object(ctx, kind: str, name: str, api_version: str = "v1", namespace: str | None = "default") -> None:
    """Delete an object; reset re-creates it from the recorded manifest."""
    if record_object(ctx, api_version, kind, name, namespace) is None:
        raise LabError(f"{kind}/{name} not found in {namespace}", title="Fault cannot apply")
    resource = ctx.resource(api_version, kind)
    resource.delete(name=name, namespace=namespace if resource.namespaced else None)


@FAULTS.register("record-object")
def record_object_fault(ctx, kind: str, name: str, api_version: str = "v1", namespace: str | None = "default") -> None:
    """Change nothing, but record the object as it is now, or its absence, so reset puts it
    back or deletes it: use it before a task that creates or edits objects outside the
    scenario's own namespaces (a ClusterRole, a CustomResourceDefinition, a Namespace the
    trainee's manifests create)."""
    record_object(ctx, api_version, kind, name, namespace)


@FAULTS.register("patch-node")
def patch_node(ctx, node: NodeName, patch: dict[str, Any]) -> None:
    """Patch the Node object of a lab node (control-plane, worker, …) with a strategic merge
    patch: labels, taints (`spec.taints`), … The Node is recorded first, so reset puts it back."""
    name = ctx.node(node).container
    record_object(ctx, "v1", "Node", name, None)
    ctx.core.patch_node(name, patch)
