"""Static pod manifests in /etc/kubernetes/manifests: the control-plane faults of the exam."""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from lab.actions.files import record_file
from lab.cluster.node import CRICTL, Node, file_mode, read_file, write_file
from lab.errors import LabError, TimedOut
from lab.jsonpath import JsonPathError, assign
from lab.ledger import PathState
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
    out = node.run([*CRICTL, "pods", "--namespace", "kube-system", "--name", f"^{pod_name}-", "-q"], check=False)
    return set(out.stdout.split())


def running_containers(node: Node, sandboxes: set[str]) -> set[str] | None:
    """The running containers of these pod sandboxes; None when crictl did not answer (an empty
    answer from a failed call must not pass for "all stopped")."""
    found: set[str] = set()
    for sandbox in sorted(sandboxes):
        out = node.run([*CRICTL, "ps", "--pod", sandbox, "--state", "running", "-q"], check=False)
        if out.returncode != 0:
            return None
        found.update(out.stdout.split())
    return found


def acted_on_edit(node: Node, pod_name: str, before: set[str], running_before: set[str]) -> bool | Pending:
    """True once the kubelet has acted on an edited manifest: the old pod's containers have
    stopped, or a sandbox of the pod exists that was not there `before`. The new pod is not
    waited for: the kubelet starts it only after a back-off of 10-15 s (its pod workers retry a
    static pod blocked by its predecessor's termination on a fixed 10 s period), 40 s for etcd,
    and handing over does not need it (the step's checks are seen failing before that).
    A failed crictl call never counts: it lists no sandbox and no container."""
    if pod_sandboxes(node, pod_name) - before:
        return True
    if running_before:
        still = running_containers(node, before)
        if still is not None and not (still & running_before):
            return True
    return Pending("the old pod still runs and no new pod sandbox exists yet")


GRACE_WAIT = 5.0
"""Seconds the kubelet gets to stop an edited static pod's old containers by itself before they
are stopped for it. The scheduler exits at once on the kubelet's SIGTERM; the API server used
its whole 30 s grace period every time, measured on the lab cluster, which the trainee would
wait out at each start and reset."""


def hasten_replacement(node: Node, pod_name: str, before: set[str], running_before: set[str]) -> bool:
    """After a static pod's manifest changed: give the kubelet GRACE_WAIT seconds to act on it,
    then stop the old containers that still run (2 s timeout). The kubelet's wanted state is
    the file, so stopping early is safe: had it not read the file yet, it restarts the old
    container, and replaces it once it has. True when the kubelet acted within the wait."""
    try:
        wait_until(lambda: acted_on_edit(node, pod_name, before, running_before), timeout=GRACE_WAIT,
                   interval=0.5, what=f"the kubelet to stop the old {pod_name}")
        return True
    except TimedOut:
        for container in sorted(running_before):
            node.run([*CRICTL, "stop", "--timeout", "2", container], check=False, timeout=30)
        return False


def pod_state(node: Node, manifest_text: str) -> tuple[str, set[str], set[str]]:
    """A static pod's name from its manifest, its sandboxes and their running containers."""
    try:
        pod_name = (yaml.safe_load(manifest_text).get("metadata") or {}).get("name", "")
    except (yaml.YAMLError, AttributeError):
        return "", set(), set()
    sandboxes = pod_sandboxes(node, pod_name) if pod_name else set()
    return pod_name, sandboxes, (running_containers(node, sandboxes) or set()) if sandboxes else set()


def new_host_paths(old_text: str, new_text: str) -> list[str]:
    """hostPath paths the edited manifest mounts and the original did not. The kubelet creates a
    missing one (`DirectoryOrCreate`, `FileOrCreate`), so reset must remove it: a trainee of a
    later scenario would find, say, a wrong PKI directory left in /etc/kubernetes."""

    def host_paths(text: str) -> set[str]:
        try:
            volumes = ((yaml.safe_load(text) or {}).get("spec") or {}).get("volumes") or []
        except (yaml.YAMLError, AttributeError):
            return set()
        return {v["hostPath"]["path"] for v in volumes if isinstance(v, dict) and isinstance(v.get("hostPath"), dict)
                and isinstance(v["hostPath"].get("path"), str)}

    return sorted(host_paths(new_text) - host_paths(old_text))


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
    returns once the kubelet has acted on the edited file: the old pod stopped, or the new one
    has a sandbox."""
    target = ctx.node(node)
    path = manifest_path(manifest)
    original = read_file(target, path)
    if original is None:
        raise LabError(f"{path} does not exist on {node}", title="Fault cannot apply")
    text = original.decode()
    new_text = edited_manifest(text, replace, fields, add_flags, remove_flags, container, f"{path} on {node}")
    if new_text == text:
        return
    # recorded before the manifest, so that reset (newest first) removes them once it is back
    for host_path in new_host_paths(text, new_text):
        if target.run(["test", "-e", host_path], check=False).returncode != 0:
            ctx.ledger.record(PathState(node=target.short_name, path=host_path))
    record_file(ctx, target, path)
    pod_name, before, running_before = pod_state(target, text) if wait else ("", set(), set())
    write_file(target, path, new_text.encode(), file_mode(target, path))
    if not (wait and pod_name):
        return
    hasten_replacement(target, pod_name, before, running_before)
    try:
        wait_until(
            lambda: acted_on_edit(target, pod_name, before, running_before),
            timeout=120,
            interval=0.5,
            what=f"the kubelet on {node} to act on the edited {path}",
        )
    except TimedOut as exc:
        raise LabError(
            exc.message,
            title="Fault did not take",
            hint=f"inspect it with: cka-lab ssh {node} -- crictl pods --name {pod_name}",
        ) from None
