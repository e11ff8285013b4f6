"""Which scenario files may run: the built-in catalog, and files trusted by their exact bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab import trust
from lab.scenario import loader


@pytest.fixture(autouse=True)
def own_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CKA_LAB_CONFIG", str(tmp_path / "config" / "config.toml"))


def test_the_builtin_catalog_is_trusted_a_copy_elsewhere_is_not(tmp_path: Path) -> None:
    builtin = loader.find("control-plane-failure")
    assert trust.is_builtin(builtin) and trust.is_trusted(builtin, builtin.read_bytes())
    copy = tmp_path / "control-plane-failure.yaml"
    copy.write_bytes(builtin.read_bytes())
    assert not trust.is_trusted(copy, copy.read_bytes())


def test_trust_is_by_content_an_edit_needs_trusting_again(tmp_path: Path) -> None:
    mine = tmp_path / "rollout-rollback.yaml"
    mine.write_bytes(loader.find("rollout-rollback").read_bytes())
    trust.trust(mine, mine.read_bytes())
    assert trust.is_trusted(mine, mine.read_bytes())
    mine.write_text(mine.read_text() + "# one more line\n")
    assert not trust.is_trusted(mine, mine.read_bytes())
    assert (trust.store_path().stat().st_mode & 0o777) == 0o600


def test_the_refusal_says_what_the_file_may_do_and_names_the_flag(tmp_path: Path) -> None:
    source = loader.find("etcd-backup-restore")
    mine = tmp_path / "etcd-backup-restore.yaml"
    mine.write_bytes(source.read_bytes())
    scenario = loader.load_file(mine)
    with pytest.raises(trust.UntrustedScenario) as info:
        trust.require_trusted(mine, mine.read_bytes(), scenario)
    message = info.value.message
    assert "runs shell commands as root on nodes: control-plane" in message
    assert "edits static pod manifests: control-plane:etcd" in message
    assert "--trust" in str(info.value)
