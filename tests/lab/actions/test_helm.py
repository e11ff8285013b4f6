"""helm-release and helm-release-status without a cluster: the command line they run and how a
`helm status` answer grades (the real helm is proven by selftest of helm-release)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from lab.actions.helm import helm_command, helm_release
from lab.checks.helm import helm_release_status
from lab.errors import LabError
from lab.ledger import Ledger


def test_the_command_quotes_every_value_and_creates_the_namespace() -> None:
    command = helm_command("shop", "/root/charts/webapp", "helm-shop", {"image.tag": "1.27; rm -rf /"}, wait=True)
    assert command == (
        "helm --kubeconfig /etc/kubernetes/admin.conf upgrade --install shop /root/charts/webapp "
        "--namespace helm-shop --create-namespace --set-string 'image.tag=1.27; rm -rf /' --wait --timeout 120s"
    )


class Node:
    def __init__(self, answer: subprocess.CompletedProcess[str] | None = None):
        self.scripts: list[str] = []
        self.answer = answer

    def sh(self, script: str, **_):
        self.scripts.append(script)
        return self.answer or subprocess.CompletedProcess([], 0, "", "")

    def run(self, argv: list[str], **_):  # `test -x` of helm on the node: it is there
        return subprocess.CompletedProcess(argv, 0, "", "")


def test_a_release_records_its_namespace_and_refuses_shared_ones(tmp_path: Path, monkeypatch) -> None:
    recorded = []
    monkeypatch.setattr("lab.actions.helm.record_object", lambda ctx, *args: recorded.append(args))
    node = Node()
    ctx = SimpleNamespace(node=lambda name: node, ledger=Ledger(tmp_path / "ledger.json"))
    helm_release(ctx, "shop", "/root/charts/webapp", "helm-shop")
    assert recorded == [("v1", "Namespace", "helm-shop", None)] and "upgrade --install shop" in node.scripts[0]
    with pytest.raises(LabError, match="namespace of its own"):
        helm_release(ctx, "shop", "/root/charts/webapp", "kube-system")


def status(code: int, state: str = "deployed", version: int = 1) -> SimpleNamespace:
    body = json.dumps({"info": {"status": state}, "version": version})
    node = Node(subprocess.CompletedProcess([], code, body if code == 0 else "", "Error: release: not found"))
    return SimpleNamespace(node=lambda name: node)


def test_status_grades_state_and_revision() -> None:
    assert helm_release_status(status(0), "shop", "helm-shop").passed
    assert not helm_release_status(status(1), "shop", "helm-shop").passed
    failed = helm_release_status(status(0, "failed", 2), "shop", "helm-shop")
    assert not failed.passed and failed.message == "Helm release shop is failed (revision 2)"
    assert not helm_release_status(status(0, "deployed", 2), "shop", "helm-shop", min_revision=3).passed
    assert helm_release_status(status(0, "deployed", 3), "shop", "helm-shop", min_revision=3).passed
