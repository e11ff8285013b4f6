"""The pure parts of edit-manifest: how a static pod manifest text is changed, and when the
kubelet counts as having re-created the pod (read from crictl's answers)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from lab.actions.manifests import TextReplace, edited_manifest, manifest_path, recreated
from lab.errors import LabError
from lab.wait import Pending

SCHEDULER = """\
apiVersion: v1
kind: Pod
metadata:
  name: kube-scheduler
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-scheduler
    - --kubeconfig=/etc/kubernetes/scheduler.conf
    - --leader-elect=true
    image: registry.k8s.io/kube-scheduler:v1.34.0
    name: kube-scheduler
  volumes:
  - hostPath:
      path: /etc/kubernetes/scheduler.conf
      type: FileOrCreate
    name: kubeconfig
"""


def edit(**kwargs):
    args = {"replace": [], "set_fields": {}, "add_flags": [], "remove_flags": [], "container": 0, "where": "m"}
    args.update(kwargs)
    return edited_manifest(SCHEDULER, **args)


def test_text_replace_keeps_formatting() -> None:
    out = edit(replace=[TextReplace(old="- kube-scheduler", new="- kube-schedulerrrr", count=1)])
    assert out == SCHEDULER.replace("    - kube-scheduler\n", "    - kube-schedulerrrr\n")


def test_missing_text_is_an_error_not_a_silent_noop() -> None:
    with pytest.raises(LabError, match="does not contain"):
        edit(replace=[TextReplace(old="--no-such-flag", new="x")])


def test_set_field_by_path_with_list_match() -> None:
    out = yaml.safe_load(edit(set_fields={".spec.volumes[name=kubeconfig].hostPath.path": "/wrong"}))
    assert out["spec"]["volumes"][0]["hostPath"]["path"] == "/wrong"
    assert out["spec"]["containers"][0]["name"] == "kube-scheduler"


def test_add_and_remove_flags() -> None:
    out = yaml.safe_load(edit(remove_flags=["--leader-elect"], add_flags=["--v=9"]))
    command = out["spec"]["containers"][0]["command"]
    assert "--leader-elect=true" not in command
    assert command[-1] == "--v=9"


def test_removing_an_absent_flag_is_an_error() -> None:
    with pytest.raises(LabError, match="no flag --port"):
        edit(remove_flags=["--port"])


def test_manifest_names_map_to_the_manifest_directory() -> None:
    assert manifest_path("kube-scheduler") == "/etc/kubernetes/manifests/kube-scheduler.yaml"
    assert manifest_path("etcd.yaml") == "/etc/kubernetes/manifests/etcd.yaml"
    assert manifest_path("/tmp/x.yaml") == "/tmp/x.yaml"


class SandboxNode:
    """Answers `crictl pods -q` with the given sandbox ids."""

    def __init__(self, answer: str, returncode: int = 0):
        self.answer, self.returncode = answer, returncode

    def run(self, argv, **_):
        assert argv[:2] == ["crictl", "pods"] and "^etcd-" in argv
        return subprocess.CompletedProcess(argv, self.returncode, self.answer, "")


@pytest.mark.parametrize(
    ("answer", "returncode"),
    [("old\n", 0), ("", 0), ("", 1)],
    ids=["old-sandbox-still-there", "old-sandbox-removed-new-not-yet-created", "crictl-failed"],
)
def test_the_pod_counts_as_recreated_only_with_a_new_sandbox(answer: str, returncode: int) -> None:
    """The kubelet removes the old sandbox seconds before creating the new one (seen on the real
    cluster for etcd: 13 s apart, then 27 s more): neither that gap nor a failed crictl call may
    pass for the re-created pod."""
    assert isinstance(recreated(SandboxNode(answer, returncode), "etcd", {"old"}), Pending)


def test_a_new_sandbox_beside_the_old_one_is_the_recreated_pod() -> None:
    assert recreated(SandboxNode("old\nnew\n"), "etcd", {"old"}) is True
    assert recreated(SandboxNode("new\n"), "etcd", {"old"}) is True
