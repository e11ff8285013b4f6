"""Static pod manifests in /etc/kubernetes/manifests: the control-plane faults of the exam."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from lab.actions.files import record_file
from lab.cluster.node import Node, file_mode, write_file
from lab.errors import LabError, TimedOut
from lab.jsonpath import JsonPathError, assign
from lab.params import ContainerIndex, FieldPath, ManifestName, NodeName, Occurrences, SearchText
from lab.registry import FAULTS
from lab.wait import Pending, wait_until

MANIFEST_DIR = "/etc/kubernetes/manifests"


class TextReplace(BaseModel):
    """Replace `old` with `new` in the manifest text (formatting kept as kubeadm wrote it)."""

    model_config = ConfigDict(extra="forbid")

    old: SearchText
    """Text to find; the fault fails if it is not there."""
    new: str
    """Replacement text."""
    count: Occurrences = 0
    """How many occurrences to replace, first ones first; 0 means all."""


def manifest_path(manifest: str) -> str:
    return manifest if manifest.startswith("/") else f"{MANIFEST_DIR}/{manifest.removesuffix('.yaml')}.yaml"


def pod_sandboxes(node: Node, pod_name: str) -> set[str]:
    out = node.run(["crictl", "pods", "--namespace", "kube-system", "--name", f"^{pod_name}-", "-q"], check=False)
    return set(out.stdout.split())


def recreated(node: Node, pod_name: str, before: set[str]) -> bool | Pending:
    """True once the node has a sandbox of the pod that was not there `before`. A different set
    is not enough: the kubelet removes the old pod's sandbox some seconds before it creates the
    new one, and a crictl call that fails lists none at all."""
    if pod_sandboxes(node, pod_name) - before:
        return True
    return Pending("no new pod sandbox yet")


def edited_manifest(
    text: str,
    replace: list[TextReplace],
    set_fields: dict[str, Any],
    add_flags: list[str],
    remove_flags: list[str],
    container: int,
    where: str,
) -> str:
    """Pure function: the manifest text after the edits (text edits first, then structured ones)."""
    for edit in replace:
        if edit.old not in text:
            raise LabError(f"{where} does not contain {edit.old!r}", title="Fault cannot apply")
        text = text.replace(edit.old, edit.new, edit.count or -1)
    if not (set_fields or add_flags or remove_flags):
        return text
    doc = yaml.safe_load(text)
    for path, value in set_fields.items():
        try:
            assign(doc, path, value)
        except (JsonPathError, KeyError, IndexError, TypeError) as exc:
            raise LabError(f"{where}: cannot set {path}: {exc}", title="Fault cannot apply") from exc
    command = doc["spec"]["containers"][container].setdefault("command", [])
    for flag in remove_flags:
        name = flag.split("=")[0]
        kept = [arg for arg in command if arg != name and not arg.startswith(name + "=")]
        if len(kept) == len(command):
            raise LabError(f"{where}: no flag {name} to remove", title="Fault cannot apply")
        command[:] = kept
    command.extend(add_flags)
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


@FAULTS.register("edit-manifest")
def edit_manifest(
    ctx,
    manifest: ManifestName,
    node: NodeName = "control-plane",
    replace: list[TextReplace] = [],  # noqa: B006  (pydantic copies defaults)
    fields: dict[FieldPath, Any] = {},  # noqa: B006
    add_flags: list[str] = [],  # noqa: B006
    remove_flags: list[str] = [],  # noqa: B006
    container: ContainerIndex = 0,
    wait: bool = True,
) -> None:
    """Edit a static pod manifest on a node (`kube-scheduler` means
    /etc/kubernetes/manifests/kube-scheduler.yaml): replace text, set `fields` by path
    (`.spec.volumes[name=k8s-certs].hostPath.path`), add or remove command flags. With wait,
    returns once the kubelet has re-created the static pod from the edited file."""
    target = ctx.node(node)
    path = manifest_path(manifest)
    original = record_file(ctx, target, path)
    if original is None:
        raise LabError(f"{path} does not exist on {node}", title="Fault cannot apply")
    text = original.decode()
    new_text = edited_manifest(text, replace, fields, add_flags, remove_flags, container, f"{path} on {node}")
    if new_text == text:
        return
    pod_name = (yaml.safe_load(text).get("metadata") or {}).get("name", "")
    before = pod_sandboxes(target, pod_name) if wait and pod_name else set()
    write_file(target, path, new_text.encode(), file_mode(target, path))
    if not (wait and pod_name):
        return
    try:
        wait_until(
            lambda: recreated(target, pod_name, before),
            timeout=120,
            what=f"the kubelet on {node} to re-create {pod_name}",
        )
    except TimedOut as exc:
        raise LabError(
            exc.message,
            title="Fault did not take",
            hint=f"inspect it with: cka-lab ssh {node} -- crictl pods --name {pod_name}",
        ) from None
