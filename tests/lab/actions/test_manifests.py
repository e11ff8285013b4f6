"""The pure part of edit-manifest: how a static pod manifest text is changed."""

from __future__ import annotations

import pytest
import yaml

from lab.actions.manifests import TextReplace, edited_manifest, manifest_path
from lab.errors import LabError

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
    """crictl on a node as the probe sees it: the sandboxes listed, the scripts it ran."""

    def __init__(self, sandboxes: list[set[str]]):
        self.sandboxes, self.scripts = sandboxes, []

    def run(self, argv, check=True, timeout=120):
        from types import SimpleNamespace

        return SimpleNamespace(stdout="\n".join(sorted(self.sandboxes.pop(0))), returncode=0)

    def sh(self, script, check=True, timeout=120):
        self.scripts.append(script)


def test_the_old_static_pod_is_killed_only_after_the_kubelet_had_time_to_read_the_file() -> None:
    from lab.actions.manifests import KILL_AFTER, SandboxReplaced
    from lab.wait import Pending

    now = [0.0]
    node = SandboxNode([{"old"}, {"old"}, {"old"}, {"old", "new"}])
    probe = SandboxReplaced(node, "kube-apiserver-x", {"old"}, clock=lambda: now[0])
    assert isinstance(probe(), Pending) and node.scripts == []  # too early: the kubelet may not have read it
    now[0] = KILL_AFTER
    assert isinstance(probe(), Pending)
    assert len(node.scripts) == 1 and "crictl stop --timeout 0" in node.scripts[0] and "--pod \"$pod\"" in node.scripts[0]
    assert "for pod in old;" in node.scripts[0]
    assert isinstance(probe(), Pending) and len(node.scripts) == 2  # restarted before the kubelet read it: again
    assert probe() is True and len(node.scripts) == 2


def test_a_pod_with_no_sandbox_yet_is_never_killed() -> None:
    from lab.actions.manifests import SandboxReplaced

    node = SandboxNode([set(), {"new"}])
    probe = SandboxReplaced(node, "kube-scheduler-x", set(), clock=lambda: 99.0)
    probe()
    assert probe() is True and node.scripts == []


def test_the_same_pod_in_other_bytes_is_never_killed() -> None:
    """A fix that re-dumped the manifest defines the pod the kubelet already runs: killing its
    containers would only restart a healthy component, again and again."""
    from lab.actions.manifests import SandboxReplaced, same_pod

    kubeadm = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-scheduler\n  namespace: kube-system\n"
    redumped = "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-scheduler, namespace: kube-system}\n"
    assert same_pod(kubeadm, redumped) and not same_pod(kubeadm, redumped.replace("kube-system", "x"))
    assert not same_pod(kubeadm, "{ not yaml")
    node = SandboxNode([{"old"}])
    probe = SandboxReplaced(node, "kube-scheduler-x", {"old"}, clock=lambda: 99.0, kill=False)
    probe()
    assert node.scripts == []
