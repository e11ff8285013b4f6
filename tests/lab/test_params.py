"""Parameter types of faults and checks: each rule alone, and that every registered fault and
check uses them (numbers bounded, nodes, paths and services typed)."""

from __future__ import annotations

import types
import typing
from typing import Any

import annotated_types
import pytest
from pydantic import TypeAdapter, ValidationError

import lab.actions  # noqa: F401  (registers the faults)
import lab.checks  # noqa: F401  (registers the checks)
from lab import params
from lab.registry import CHECKS, FAULTS


def ok(kind: Any, value: Any) -> Any:
    return TypeAdapter(kind).validate_python(value)


def rejected(kind: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(kind).validate_python(value)
    return str(info.value)


@pytest.mark.parametrize(("text", "mode"), [("0644", 0o644), ("644", 0o644), ("0755", 0o755), ("0600", 0o600),
                                            ("4755", 0o4755), ("0000", 0), ("7777", 0o7777)])
def test_file_mode_reads_quoted_octal(text: str, mode: int) -> None:
    assert ok(params.FileMode, text) == mode


@pytest.mark.parametrize("value", [644, 420, 0, "0999", "12345", "64", "0o644", "rw-r--r--", " 644", True, 1.5])
def test_file_mode_rejects_numbers_and_other_text(value: Any) -> None:
    message = rejected(params.FileMode, value)
    if isinstance(value, int) and not isinstance(value, bool):
        assert params.MODE_HINT in message


@pytest.mark.parametrize("path", ["/etc/kubernetes/kubelet.conf", "/root/notes-pod.yaml", "/var/lib/etcd-from-backup",
                                  "/process", "/device/x", "/system", "/a"])
def test_node_path_accepts_absolute_normalized_paths(path: str) -> None:
    assert ok(params.NodePath, path) == path


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("etc/passwd", "must be absolute"),
        ("", "must be absolute"),
        ("/", "normalized"),
        ("/etc/../proc/sysrq-trigger", "normalized"),
        ("/etc/./x", "normalized"),
        ("/etc//x", "normalized"),
        ("//etc/x", "normalized"),
        ("/etc/x/", "normalized"),
        ("/proc", "/proc are not allowed"),
        ("/proc/sysrq-trigger", "/proc are not allowed"),
        ("/sys/kernel/x", "/sys are not allowed"),
        ("/dev/sda", "/dev are not allowed"),
        ("/dev", "/dev are not allowed"),
    ],
)
def test_node_path_rejects(path: str, why: str) -> None:
    assert why in rejected(params.NodePath, path)


@pytest.mark.parametrize("name", ["kube-scheduler", "kube-scheduler.yaml", "etcd", "/etc/kubernetes/manifests/etcd.yaml"])
def test_manifest_accepts_names_and_paths_in_the_manifest_folder(name: str) -> None:
    assert ok(params.ManifestName, name) == name


@pytest.mark.parametrize("name", ["../../etc/shadow", "..", ".hidden", "sub/kube-scheduler", "", "-rf",
                                  "/etc/shadow", "/etc/kubernetes/manifests/../admin.conf",
                                  "/etc/kubernetes/manifests/sub/x.yaml", "/etc/kubernetes/manifests/",
                                  "/etc/kubernetes/manifests//x.yaml"])
def test_manifest_rejects_anything_else(name: str) -> None:
    rejected(params.ManifestName, name)


def test_manifest_folder_is_the_one_the_fault_uses() -> None:
    from lab.actions import manifests

    assert params.MANIFEST_DIR == manifests.MANIFEST_DIR


@pytest.mark.parametrize("name", ["kubelet", "containerd", "containerd.service", "getty@tty1.service", "kube_proxy"])
def test_service_accepts_unit_names(name: str) -> None:
    assert ok(params.ServiceName, name) == name


@pytest.mark.parametrize("name", ["*", "kube*", "-kubelet", "--now", "kubelet service", "", "kubelet;reboot", "a/b"])
def test_service_rejects_globs_options_and_spaces(name: str) -> None:
    rejected(params.ServiceName, name)


@pytest.mark.parametrize("name", ["control-plane", "worker", "worker2"])
def test_node_name(name: str) -> None:
    assert ok(params.NodeName, name) == name


@pytest.mark.parametrize("name", ["Worker", "-worker", "worker;reboot", "", "worker 2", "x" * 64])
def test_node_name_rejects(name: str) -> None:
    rejected(params.NodeName, name)


@pytest.mark.parametrize("image", ["nginx:1.27", "busybox:1.36", "registry.k8s.io/pause:3.10",
                                   "localhost:5000/app@sha256:" + "a" * 64])
def test_image_ref(image: str) -> None:
    assert ok(params.ImageRef, image) == image


@pytest.mark.parametrize("image", ["nginx 1.27", "-v", "--privileged", "", "nginx\n:1"])
def test_image_ref_rejects(image: str) -> None:
    rejected(params.ImageRef, image)


@pytest.mark.parametrize("path", [".spec.replicas", "{.status.phase}", ".spec.volumes[name=k8s-certs].hostPath.path",
                                  ".spec.template.spec.containers[name=kube-proxy].command[1]", "spec.replicas"])
def test_field_path_accepts_what_jsonpath_reads(path: str) -> None:
    assert ok(params.FieldPath, path) == path


@pytest.mark.parametrize("path", ["", ".spec..replicas", ".data[", "spec selector", ".a[name=x"])
def test_field_path_rejects_what_jsonpath_cannot_read(path: str) -> None:
    assert "cannot read path" in rejected(params.FieldPath, path)


@pytest.mark.parametrize("text", ["\x1b[2J", "a\x07", "\x9b", "\u202e", "x\ry"])
def test_text_rejects_control_characters(text: str) -> None:
    assert "control character" in rejected(params.Text, text)


def test_text_keeps_tabs_newlines_and_unicode() -> None:
    assert ok(params.Text, "a\tb\nc ✔ ü") == "a\tb\nc ✔ ü"


# --- every registered fault and check uses the rules ------------------------------------------


def _is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_int(a) for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _is_int(typing.get_args(annotation)[0])
    return False


def _entries() -> list[tuple[str, Any]]:
    return [(f"{registry.kind} {name}", registry.get(name)) for registry in (FAULTS, CHECKS) for name in registry.names()]


@pytest.mark.parametrize(("label", "entry"), _entries(), ids=[label for label, _ in _entries()])
def test_every_parameter_follows_the_rules(label: str, entry: Any) -> None:
    from lab.actions.manifests import TextReplace

    models = [entry.params]
    if entry.name == "edit-manifest":
        models.append(TextReplace)
    for model in models:
        for field_name, field in model.model_fields.items():
            where = f"{label}: {field_name}"
            kind = typing.Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            if _is_int(field.annotation) and field_name != "mode":
                schema = model.model_json_schema()["properties"][field_name]
                bounds = [schema, *schema.get("anyOf", [])]
                assert any("minimum" in b and "maximum" in b for b in bounds), f"{where}: numbers need bounds (lab/params.py)"
            if field_name == "node":
                rejected(kind, "Bad;Node")
            if field_name == "service":
                rejected(kind, "*")
            if field_name == "path" and entry.name not in ("field-equals", "replace-in-object"):
                rejected(kind, "/proc/sysrq-trigger")
            if field_name in ("path", "fields") and entry.name in ("field-equals", "replace-in-object", "edit-manifest"):
                rejected(kind, {".a..b": 1} if field_name == "fields" else ".a..b")
            if field_name == "restart":
                rejected(kind, ["*"])
            if field_name == "mode":
                rejected(kind, 644)


def test_run_on_node_is_solution_only() -> None:
    assert FAULTS.get("run-on-node").solution_only
    assert "run-on-node" in FAULTS.names()
    assert "run-on-node" not in FAULTS.names(include_solution_only=False)
    assert [name for name in FAULTS.names() if FAULTS.get(name).solution_only] == ["join-node", "run-on-node", "start-stopped-nodes"]


def test_bounds_are_real_ranges() -> None:
    for kind in (params.Count, params.Replicas, params.Seconds, params.CommandTimeout, params.HttpTimeout,
                 params.Occurrences, params.ContainerIndex):
        ge = next(m.ge for m in typing.get_args(kind)[1:] for m in getattr(m, "metadata", [m]) if isinstance(m, annotated_types.Ge))
        le = next(m.le for m in typing.get_args(kind)[1:] for m in getattr(m, "metadata", [m]) if isinstance(m, annotated_types.Le))
        assert 0 <= ge < le
        rejected(kind, ge - 1)
        rejected(kind, le + 1)
        assert ok(kind, ge) == ge
