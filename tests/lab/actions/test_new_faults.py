"""The catalog's engine additions without a cluster: record-path, replace-in-object,
apply-object, the path ledger entry, and how exec checks grade."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.actions.files import record_path
from lab.actions.objects import apply_object, replace_in_object
from lab.checks.pods import _grade
from lab.errors import LabError
from lab.ledger import FileState, Ledger, ObjectState, PathState
from lab.undo import describe


from tests.fakes import FakeCtx, FakeResource, ScriptedNode


def ctx_with(tmp_path: Path, kind: str = "absent", objects: dict | None = None) -> FakeCtx:
    return FakeCtx(Ledger(tmp_path / "ledger.json"), {"control-plane": ScriptedNode(kind)}, FakeResource(objects or {}))


def test_record_path_of_a_missing_path_records_its_absence(tmp_path: Path) -> None:
    ctx = ctx_with(tmp_path, "absent")
    record_path(ctx, "control-plane", "/var/lib/etcd-from-backup")
    [entry] = ctx.ledger.entries()
    assert isinstance(entry, PathState) and (entry.node, entry.path) == ("control-plane", "/var/lib/etcd-from-backup")
    assert describe(ctx.ledger.entries()[0]) == "remove /var/lib/etcd-from-backup on control-plane (did not exist)"


def test_record_path_of_a_file_records_its_bytes(tmp_path: Path) -> None:
    ctx = ctx_with(tmp_path, "file")
    record_path(ctx, "control-plane", "/etc/kubernetes/manifests/etcd.yaml")
    [entry] = ctx.ledger.entries()
    assert isinstance(entry, FileState) and entry.content_b64 == "YQ==" and entry.mode == 0o644


def test_record_path_refuses_existing_directories_and_shallow_paths(tmp_path: Path) -> None:
    ctx = ctx_with(tmp_path, "dir")
    with pytest.raises(LabError, match="existing directory"):
        record_path(ctx, "control-plane", "/var/lib/etcd")
    for bad in ("/", "/opt", "relative/path", "/opt/../etc"):
        with pytest.raises(LabError, match="two levels deep"):
            record_path(ctx, "control-plane", bad)
    assert len(ctx.ledger) == 0


def test_undo_of_a_path_removes_it_recursively(tmp_path: Path) -> None:
    from lab.undo import undo_path

    ctx = ctx_with(tmp_path)
    undo_path(ctx, PathState(node="control-plane", path="/var/lib/etcd-from-backup"))
    assert ctx.nodes["control-plane"].commands == [
        "rm -rf --one-file-system -- /var/lib/etcd-from-backup",
        "test -e /var/lib/etcd-from-backup",
    ]


COREFILE = ".:53 {\n    errors\n    forward . /etc/resolv.conf {\n       max_concurrent 1000\n    }\n}\n"


def test_replace_in_object_records_first_then_replaces_one_field(tmp_path: Path) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "coredns", "resourceVersion": "7"},
          "data": {"Corefile": COREFILE}}
    ctx = ctx_with(tmp_path, objects={"coredns": cm})
    replace_in_object(ctx, kind="ConfigMap", name="coredns", path=".data.Corefile",
                      old="    forward .", new="    forwrd .", namespace="kube-system")
    [entry] = ctx.ledger.entries()
    assert isinstance(entry, ObjectState) and entry.manifest is not None
    assert entry.manifest["data"]["Corefile"] == COREFILE
    assert "resourceVersion" not in entry.manifest["metadata"]
    stored = ctx.resources.objects["coredns"]
    assert "    forwrd . /etc/resolv.conf {" in stored["data"]["Corefile"]
    assert stored["metadata"]["resourceVersion"] == "7"  # optimistic concurrency on the write


def test_replace_in_object_fails_without_the_text(tmp_path: Path) -> None:
    ctx = ctx_with(tmp_path, objects={"coredns": {"metadata": {"name": "coredns"}, "data": {"Corefile": COREFILE}}})
    with pytest.raises(LabError, match="does not contain"):
        replace_in_object(ctx, kind="ConfigMap", name="coredns", path=".data.Corefile", old="nope", new="x")
    with pytest.raises(LabError, match="not found"):
        replace_in_object(ctx, kind="ConfigMap", name="missing", path=".data.Corefile", old="x", new="y")


def test_apply_object_records_absence_so_reset_deletes_it(tmp_path: Path) -> None:
    ctx = ctx_with(tmp_path)
    apply_object(ctx, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after-backup"}, "data": {"a": "b"}})
    [entry] = ctx.ledger.entries()
    assert entry.manifest is None and entry.namespace == "default"
    assert ctx.resources.applied[0]["metadata"] == {"name": "after-backup", "namespace": "default"}
    with pytest.raises(LabError, match="apiVersion, kind and metadata.name"):
        apply_object(ctx, {"kind": "ConfigMap", "metadata": {}})


def test_setup_objects_that_existed_are_recorded_as_they_were(tmp_path: Path) -> None:
    from lab.actions.objects import apply_objects

    existing = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared", "resourceVersion": "9"},
                "data": {"owner": "the cluster"}}
    ctx = ctx_with(tmp_path, objects={"shared": existing})
    apply_objects(ctx, [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"owner": "lab"}},
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "new"}, "data": {}}])
    shared, new = ctx.ledger.entries()
    assert shared.manifest == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"},
                               "data": {"owner": "the cluster"}}  # reset puts it back, never deletes it
    assert new.manifest is None


def test_exec_grading() -> None:
    assert _grade("x", 0, "Address: 10.96.200.200\n", "10.96.200.200", None).passed
    assert not _grade("x", 0, "Server: 10.96.0.10\n", "10.96.200.200", None).passed  # empty nslookup answer
    assert not _grade("x", 1, "bad address", None, None).passed
    assert not _grade("x", None, "", None, None).message.endswith("succeeded")
    assert not _grade("x", 0, "db: ERROR", None, "ERROR").passed


def test_record_object_changes_nothing_and_records_absence_or_the_object(tmp_path: Path) -> None:
    from lab.actions.objects import record_object_fault

    ctx = ctx_with(tmp_path, objects={"node-reader": {"apiVersion": "v1", "kind": "ClusterRole", "metadata": {"name": "node-reader"}}})
    record_object_fault(ctx, "ClusterRole", "node-reader", "rbac.authorization.k8s.io/v1", None)
    record_object_fault(ctx, "Namespace", "shop-prod", "v1", None)
    recorded = {e.name: e.manifest for e in ctx.ledger.entries()}
    assert recorded["shop-prod"] is None and recorded["node-reader"]["metadata"]["name"] == "node-reader"
    assert ctx.resources.applied == []


def test_undo_of_an_absent_object_whose_kind_is_gone_is_done(tmp_path: Path) -> None:
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    from lab.errors import UndoFailed
    from lab.undo import undo_object

    ctx = ctx_with(tmp_path)

    def unserved(api_version: str, kind: str):
        raise ResourceNotFoundError(f"No matches found for {kind}")

    ctx.resource = unserved  # type: ignore[method-assign]
    gone = ObjectState(api_version="training.cka-lab.io/v1", object_kind="Website", namespace="web-team", name="shop", manifest=None)
    undo_object(ctx, gone)  # its CustomResourceDefinition went, and every Website with it
    with pytest.raises(UndoFailed, match="serves no Website"):
        undo_object(ctx, gone.model_copy(update={"manifest": {"kind": "Website"}}))
