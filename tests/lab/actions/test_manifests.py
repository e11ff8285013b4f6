"""The pure parts of edit-manifest: how a static pod manifest text is changed, and when the
kubelet counts as having acted on the edit (read from crictl's answers)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from lab.actions.manifests import TextReplace, acted_on_edit, edited_manifest, manifest_path, new_host_paths
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


class CrictlNode:
    """Answers `crictl pods -q` with the given sandbox ids and `crictl ps --pod X -q` with the
    running containers of sandbox X; a return code other than 0 is a failed call."""

    def __init__(self, sandboxes: str, running: dict[str, str] | None = None, returncode: int = 0):
        self.sandboxes, self.running, self.returncode = sandboxes, running or {}, returncode

    def run(self, argv, **_):
        assert argv[:3] == ["crictl", "--timeout", "10s"]  # containerd may be slow to answer
        argv = ["crictl", *argv[3:]]
        if argv[:2] == ["crictl", "pods"]:
            assert "^etcd-" in argv
            return subprocess.CompletedProcess(argv, self.returncode, self.sandboxes, "")
        assert argv[:3] == ["crictl", "ps", "--pod"] and "running" in argv
        return subprocess.CompletedProcess(argv, self.returncode, self.running.get(argv[3], ""), "")


@pytest.mark.parametrize(
    "node",
    [
        CrictlNode("old\n", {"old": "c1\n"}),
        CrictlNode("", returncode=1),
        CrictlNode("old\n", {"old": "c1\nc2\n"}),
    ],
    ids=["old-pod-still-running", "crictl-failed", "one-old-container-still-running"],
)
def test_the_kubelet_has_not_acted_while_the_old_pod_runs(node: CrictlNode) -> None:
    """A failed crictl call lists no sandbox and no container: it must not pass for "stopped"."""
    assert isinstance(acted_on_edit(node, "etcd", {"old"}, {"c1", "c2"}), Pending)


@pytest.mark.parametrize(
    "node",
    [
        CrictlNode("old\n", {"old": ""}),
        CrictlNode(""),
        CrictlNode("old\nnew\n", {"old": "c1\n"}),
        CrictlNode("new\n"),
    ],
    ids=["old-containers-stopped", "old-sandbox-removed", "new-sandbox-beside-the-running-old-one", "only-a-new-sandbox"],
)
def test_the_kubelet_has_acted_once_the_old_pod_stopped_or_a_new_one_exists(node: CrictlNode) -> None:
    assert acted_on_edit(node, "etcd", {"old"}, {"c1"}) is True


def test_a_pod_that_ran_nothing_before_the_edit_waits_for_its_new_sandbox() -> None:
    """Nothing ran to see stop (a crash-looping pod between restarts): only a new sandbox tells."""
    assert isinstance(acted_on_edit(CrictlNode("old\n"), "etcd", {"old"}, set()), Pending)
    assert acted_on_edit(CrictlNode("old\nnew\n"), "etcd", {"old"}, set()) is True


class StoppingNode(CrictlNode):
    """A kubelet that has not acted: the old container runs until `crictl stop` stops it."""

    def __init__(self):
        super().__init__("old\n", {"old": "c1\n"})
        self.stopped: list[list[str]] = []

    def run(self, argv, **kwargs):
        if argv[:4] == ["crictl", "--timeout", "10s", "stop"]:
            self.stopped.append(argv)
            self.running = {"old": ""}
            return subprocess.CompletedProcess(argv, 0, "", "")
        return super().run(argv, **kwargs)


def test_an_old_pod_the_kubelet_leaves_running_is_stopped_for_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API server took its whole 30 s grace period to stop: after a short wait the old
    containers are stopped with a 2 s timeout, and the kubelet then counts as having acted."""
    from lab.actions import manifests

    monkeypatch.setattr(manifests, "GRACE_WAIT", 0.2)
    node = StoppingNode()
    assert manifests.hasten_replacement(node, "etcd", {"old"}, {"c1"}) is False
    assert node.stopped == [["crictl", "--timeout", "10s", "stop", "--timeout", "2", "c1"]]
    assert acted_on_edit(node, "etcd", {"old"}, {"c1"}) is True


def test_an_old_pod_the_kubelet_stopped_in_time_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from lab.actions import manifests

    monkeypatch.setattr(manifests, "GRACE_WAIT", 0.2)
    node = StoppingNode()
    node.running = {"old": ""}
    assert manifests.hasten_replacement(node, "etcd", {"old"}, {"c1"}) is True
    assert node.stopped == []


def test_a_host_path_the_edit_introduces_is_found() -> None:
    edited = SCHEDULER.replace("path: /etc/kubernetes/scheduler.conf", "path: /etc/kubernetes/elsewhere.conf")
    assert new_host_paths(SCHEDULER, edited) == ["/etc/kubernetes/elsewhere.conf"]
    assert new_host_paths(SCHEDULER, SCHEDULER.replace("kube-scheduler\n", "kube-schedulerrrr\n", 1)) == []
    assert new_host_paths(SCHEDULER, "not: [valid") == []
