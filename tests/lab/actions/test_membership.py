"""reset-node and write-join-command without a cluster: what they record for undo and what they
refuse (the real join and reset are proven by selftest of join-worker on the real cluster)."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from lab.actions import membership
from lab.errors import LabError
from lab.ledger import Ledger, MembershipState
from lab.undo import describe


@dataclass
class Node:
    role: str
    short_name: str
    member: bool = True
    commands: list[str] = field(default_factory=list)

    @property
    def container(self) -> str:
        return f"lab-{self.short_name}"

    def run(self, argv, **_):
        self.commands.append(" ".join(argv))
        if argv[:2] == ["test", "-s"]:
            return subprocess.CompletedProcess(argv, 0 if self.member else 1, "", "")
        if argv[:2] == ["kubeadm", "reset"]:
            self.member = False
        if argv[:2] == ["kubeadm", "join"]:
            self.member = True
        if argv == ["cat", membership.KIND_JOIN_CONFIG]:
            return subprocess.CompletedProcess(argv, 0, 'bootstrapToken:\n    token: "abcdef.0123456789abcdef"\n', "")
        return subprocess.CompletedProcess(argv, 0, "", "")

    def sh(self, script, **_):
        self.commands.append(script)
        return subprocess.CompletedProcess([], 0, "", "")


class Core:
    def __init__(self, nodes):
        self.nodes = nodes
        self.deleted: list[str] = []
        self.created: list[dict] = []

    def read_node(self, name):
        from kubernetes.client.exceptions import ApiException

        if name in self.deleted:
            raise ApiException(status=404)
        return {"metadata": {"name": name, "uid": "1", "resourceVersion": "7"}, "spec": {"podCIDR": "10.244.1.0/24"},
                "status": {"phase": "Running"}}

    def delete_node(self, name):
        self.deleted.append(name)

    def create_node(self, manifest):
        self.created.append(manifest)
        self.deleted.remove(manifest["metadata"]["name"])


def ctx_for(tmp_path: Path, worker: Node):
    control_plane = Node("control-plane", "control-plane")
    nodes = {"worker": worker, "control-plane": control_plane}
    return SimpleNamespace(
        ledger=Ledger(tmp_path / "ledger.json"),
        node=lambda name: nodes[name],
        core=Core(nodes),
        api=SimpleNamespace(sanitize_for_serialization=lambda obj: obj),
        cluster=SimpleNamespace(nodes=lambda: list(nodes.values())),
    )


def test_reset_node_records_membership_before_it_acts(tmp_path: Path) -> None:
    worker = Node("worker", "worker")
    ctx = ctx_for(tmp_path, worker)
    membership.reset_node(ctx, "worker")
    [entry] = ctx.ledger.entries()
    # the Node as it can be created again: its pod CIDR, without server fields or status
    assert entry.node_manifest == {"metadata": {"name": "lab-worker"}, "spec": {"podCIDR": "10.244.1.0/24"}}
    assert ctx.core.deleted == ["lab-worker"] and "kubeadm reset --force" in worker.commands
    assert describe(ctx.ledger.entries()[0]) == "join worker to the cluster again, as kind joined it"


def test_reset_node_refuses_a_control_plane_and_a_node_that_is_not_a_member(tmp_path: Path) -> None:
    ctx = ctx_for(tmp_path, Node("worker", "worker", member=False))
    with pytest.raises(LabError, match="not a member"):
        membership.reset_node(ctx, "worker")
    with pytest.raises(LabError, match="workers only"):
        membership.reset_node(ctx, "control-plane")
    assert len(ctx.ledger) == 0


def test_undo_joins_again_the_way_kind_did_with_the_node_object_put_back(tmp_path: Path) -> None:
    worker = Node("worker", "worker")  # joined by the trainee: kubelet flags and pod CIDR of their own
    ctx = ctx_for(tmp_path, worker)
    manifest = {"metadata": {"name": "lab-worker"}, "spec": {"podCIDR": "10.244.1.0/24"}}
    membership.join_like_kind(ctx, MembershipState(node="worker", node_manifest=manifest))
    assert ctx.core.created == [manifest]
    assert worker.commands.index("kubeadm reset --force") < worker.commands.index(
        f"kubeadm join --config {membership.KIND_JOIN_CONFIG} --skip-phases=preflight"
    )
    token = ctx.cluster.nodes()[1].commands  # the control plane made kind's token valid again
    assert any("token create abcdef.0123456789abcdef" in c for c in token)


def test_a_fresh_token_has_the_bootstrap_form_and_its_secret_the_kubeadm_groups() -> None:
    token = membership._random_token()
    assert re.fullmatch(r"[a-z0-9]{6}\.[a-z0-9]{16}", token)
    secret = membership._bootstrap_token_secret(token)
    assert secret["metadata"] == {"name": f"bootstrap-token-{token[:6]}", "namespace": "kube-system"}
    assert secret["type"] == "bootstrap.kubernetes.io/token"
    assert secret["stringData"]["token-secret"] == token[7:]
    assert secret["stringData"]["auth-extra-groups"] == "system:bootstrappers:kubeadm:default-node-token"


def test_the_loader_checks_token_and_hash_forms() -> None:
    from pydantic import ValidationError

    from lab.registry import FAULTS

    model = FAULTS.get("write-join-command").params
    model(type="write-join-command", node="worker", path="/root/join.sh", token="abcdef.0123456789abcdef")
    for bad in ({"token": "abcdef0123456789abcdef"}, {"token": "ABCDEF.0123456789abcdef"}, {"ca_cert_hash": "sha256:xyz"}):
        with pytest.raises(ValidationError):
            model(type="write-join-command", node="worker", path="/root/join.sh", **bad)
    assert FAULTS.get("join-node").solution_only
