"""The undo ledger on disk: atomic writes, first record wins, drop-last replay order."""

from __future__ import annotations

import json
import os
from pathlib import Path

from lab.ledger import FileState, Ledger, ObjectState, ServiceState


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


def test_drop_last_replays_newest_first(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json")
    ledger.record(ObjectState(api_version="apps/v1", object_kind="Deployment", namespace="default", name="a", manifest=None))
    ledger.record(ServiceState(node="worker", service="kubelet", active=True, enabled=True))
    ledger.drop_last()
    assert [e.kind for e in ledger.entries()] == ["object"]
    ledger.drop_last()
    ledger.drop_last()  # idempotent on empty
    assert ledger.entries() == []


def test_write_is_atomic_no_temp_file_left(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json")
    ledger.record(ServiceState(node="worker", service="containerd", active=True, enabled=True))
    assert os.listdir(tmp_path) == ["ledger.json"]
    assert json.loads((tmp_path / "ledger.json").read_text())[0]["service"] == "containerd"


def test_a_stale_temp_file_from_a_killed_write_is_ignored(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.json")
    ledger.record(ServiceState(node="worker", service="kubelet", active=True, enabled=True))
    (tmp_path / "ledger.json.tmp").write_text("[{half a")
    assert len(Ledger(tmp_path / "ledger.json")) == 1
