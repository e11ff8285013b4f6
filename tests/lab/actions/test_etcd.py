"""lose-etcd-data without a cluster: what it refuses before touching anything, and how it reads
etcdctl's answers (the fault, its repair and its undo on a real HA cluster are proven by
`selftest etcd-quorum --variant member-data-lost`)."""

from __future__ import annotations

import base64
import json
import subprocess
from types import SimpleNamespace

import pytest

from lab.actions import etcd
from lab.errors import LabError

JOINED = """\
    - --initial-cluster=lab-control-plane3=https://10.0.0.3:2380,lab-control-plane=https://10.0.0.1:2380,lab-control-plane2=https://10.0.0.2:2380
    - --initial-cluster-state=existing
"""
FIRST = """\
    - --initial-cluster=lab-control-plane=https://10.0.0.1:2380
"""


class Node:
    def __init__(self, short_name: str, role: str = "control-plane", manifest: str = JOINED):
        self.short_name, self.role, self.manifest = short_name, role, manifest
        self.container = f"lab-{short_name}"
        self.scripts: list[str] = []

    def sh(self, script: str, **_):
        self.scripts.append(script)
        if script.startswith("if [ -e /etc/kubernetes/manifests/etcd.yaml ]; then base64"):
            return subprocess.CompletedProcess([], 0, base64.b64encode(self.manifest.encode()).decode(), "")
        raise AssertionError(f"nothing but the manifest may be read before the checks: {script}")

    def run(self, argv, **_):
        raise AssertionError(f"nothing may run before the checks: {argv}")


def _ctx(node: Node) -> SimpleNamespace:
    recorded: list = []
    return SimpleNamespace(node=lambda _: node, ledger=SimpleNamespace(record=recorded.append), recorded=recorded)


@pytest.mark.parametrize("node", [Node("control-plane", manifest=FIRST), Node("worker", role="worker", manifest="")])
def test_a_member_that_did_not_join_an_existing_cluster_is_refused_untouched(node: Node) -> None:
    ctx = _ctx(node)
    with pytest.raises(LabError, match="runs no etcd member that joined an existing cluster") as caught:
        etcd.lose_etcd_data(ctx, node.short_name)
    assert "control-plane3" in (caught.value.hint or "")
    assert ctx.recorded == [] and len(node.scripts) <= 1


def test_the_initial_cluster_is_counted_from_the_manifest() -> None:
    assert etcd._initial_cluster_size(JOINED) == 3
    assert etcd._initial_cluster_size(FIRST) == 1
    assert etcd._initial_cluster_size("no flags") == 0


def test_members_are_read_from_etcdctls_json(monkeypatch) -> None:
    answer = {"header": {}, "members": [
        {"ID": 12302652060662169748, "name": "lab-control-plane3", "peerURLs": ["https://10.0.0.3:2380"],
         "clientURLs": ["https://10.0.0.3:2379"]},
        {"ID": 7340523785963357337, "peerURLs": ["https://10.0.0.4:2380"]},  # added, not started yet
    ]}
    monkeypatch.setattr(etcd, "etcdctl", lambda node, args, **_: json.dumps(answer))
    started, added = etcd.members(Node("control-plane"))
    assert (started.name, started.hex_id, started.client_urls) == ("lab-control-plane3", "aabbccddeeff0094",
                                                                    ("https://10.0.0.3:2379",))
    assert (added.name, added.client_urls) == ("", ())
