"""The undo ledger on disk: atomic writes, first record wins, drop by id, the cluster it belongs
to, unreadable files, and two processes writing at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab.errors import StateError
from lab.ledger import ClusterIdentity, ContainerState, EtcdMemberState, FileState, Ledger, ObjectState, ServiceState


def test_records_survive_a_new_process_view(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json")
    ledger.record(FileState(node="control-plane", path="/etc/x", content_b64="YQ==", mode=0o600))
    ledger.record(ServiceState(node="worker", service="kubelet", active=True, enabled=True))
    again = Ledger(tmp_path / "ledger.json").entries()
    assert [e.kind for e in again] == ["file", "service"]
    assert again[0].mode == 0o600


def test_first_record_of_a_target_holds_the_baseline(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json")
    ledger.record(FileState(node="control-plane", path="/etc/x", content_b64="b3JpZ2luYWw="))
    ledger.record(FileState(node="control-plane", path="/etc/x", content_b64="YnJva2Vu"))
    assert len(ledger) == 1
    assert ledger.entries()[0].content_b64 == "b3JpZ2luYWw="


def test_a_node_switched_off_or_an_etcd_member_emptied_twice_keeps_its_first_record(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json")
    assert ledger.record(ContainerState(node="worker", container="lab-worker"))
    assert not ledger.record(ContainerState(node="worker", container="lab-worker"))
    first = EtcdMemberState(node="control-plane3", name="lab-control-plane3", member_id=2**63 + 5,
                            peer_url="https://10.0.0.3:2380", aside="/state/etcd-data/control-plane3")
    assert ledger.record(first)
    assert not ledger.record(first.model_copy(update={"id": "other", "member_id": 7}))
    (kept,) = [e for e in Ledger(tmp_path / "ledger.json").entries() if e.kind == "etcd-member"]
    assert kept.member_id == 2**63 + 5  # an etcd member id is a full uint64
    assert [e.kind for e in ledger.entries()] == ["container", "etcd-member"]


def test_drop_removes_the_entry_it_names_wherever_it_stands(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json")
    first = ObjectState(api_version="apps/v1", object_kind="Deployment", namespace="default", name="a", manifest=None)
    second = ServiceState(node="worker", service="kubelet", active=True, enabled=True)
    ledger.record(first)
    ledger.record(second)
    ledger.drop(first.id)  # not the last one: a newer entry recorded meanwhile must survive
    assert [e.id for e in ledger.entries()] == [second.id]
    ledger.drop(first.id)  # idempotent
    ledger.drop(second.id)
    assert ledger.entries() == []
    assert not ledger.path.exists()


def test_the_first_entry_stamps_the_cluster_identity(tmp_path: Path) -> None:
    identity = ClusterIdentity(name="cka-lab", containers=["abc", "def"])
    ledger = Ledger(tmp_path / "ledger.json", identity=lambda: identity)
    ledger.record(ServiceState(node="worker", service="kubelet", active=True, enabled=True))
    assert Ledger(tmp_path / "ledger.json").identity() == identity


def test_state_files_are_private_and_no_temp_file_is_left(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json")
    ledger.record(ServiceState(node="worker", service="containerd", active=True, enabled=True))
    assert sorted(os.listdir(tmp_path)) == ["ledger.json", "lock"]
    assert (tmp_path / "ledger.json").stat().st_mode & 0o777 == 0o600
    assert json.loads((tmp_path / "ledger.json").read_text())["entries"][0]["service"] == "containerd"


def test_an_unreadable_ledger_is_moved_aside_and_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    path.write_text('{"version": 2, "entries": [{"kind": "fi')
    with pytest.raises(StateError) as info:
        Ledger(path).entries()
    backups = list(tmp_path.glob("ledger.json.corrupt-*"))
    assert len(backups) == 1 and str(path) in info.value.message and str(backups[0]) in info.value.message
    assert Ledger(path).entries() == []  # the next command starts clean, the old file is kept


def test_a_ledger_of_the_previous_format_is_read_and_dropped_by_position(tmp_path: Path) -> None:
    path = tmp_path / "ledger.json"
    old = [
        {"kind": "service", "node": "worker", "service": "kubelet", "active": True, "enabled": True},
        {"kind": "path", "node": "control-plane", "path": "/var/lib/x"},
    ]
    path.write_text(json.dumps(old))
    ledger = Ledger(path)
    newest = ledger.entries()[-1]
    ledger.drop(newest.id)
    assert [e.kind for e in ledger.entries()] == ["service"]


WRITER = """
import sys
from pathlib import Path
from lab.ledger import Ledger, PathState
ledger = Ledger(Path(sys.argv[1]))
for i in range(int(sys.argv[3])):
    ledger.record(PathState(node=sys.argv[2], path=f"/tmp/x/{i}"))
"""


def test_two_processes_writing_at_once_lose_no_entry(tmp_path: Path) -> None:
    """Before the state lock, two writers of 100 records each lost 81 of 200 entries."""
    path = tmp_path / "ledger.json"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), node, "100"]) for node in ("control-plane", "worker")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    entries = Ledger(path).entries()
    assert len(entries) == 200
    assert {(e.node, e.path) for e in entries} == {(n, f"/tmp/x/{i}") for n in ("control-plane", "worker") for i in range(100)}
