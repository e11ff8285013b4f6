"""helm for nodes of kind's official image (the pure parts; copying runs on real clusters)."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from lab import versions
from lab.cluster import helmbin
from lab.errors import LabError


def test_download_url_is_the_pinned_linux_release() -> None:
    assert helmbin.download_url("arm64") == f"https://get.helm.sh/helm-{versions.HELM_VERSION}-linux-arm64.tar.gz"


def test_the_offline_build_is_used_only_where_it_runs_on_the_node(tmp_path) -> None:
    offline, cached = tmp_path / "helm", tmp_path / "cached"
    offline.write_text("x")
    assert helmbin.choose_source("amd64", "Linux", "amd64", offline, cached) == offline
    assert helmbin.choose_source("amd64", "Darwin", "amd64", offline, cached) is None  # a macOS binary
    assert helmbin.choose_source("arm64", "Linux", "amd64", offline, cached) is None
    cached.write_text("y")
    assert helmbin.choose_source("arm64", "Linux", "amd64", offline, cached) == cached


def test_a_download_is_verified_against_its_published_sum() -> None:
    data = b"archive"
    good = f"{hashlib.sha256(data).hexdigest()}  helm.tar.gz\n"
    assert helmbin.verified(data, good) == data
    with pytest.raises(LabError, match="checksum mismatch"):
        helmbin.verified(b"tampered", good)
    with pytest.raises(LabError):
        helmbin.verified(data, "")


def test_the_binary_is_taken_out_of_the_archive() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("linux-amd64/helm")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"\x7fELF"))
    assert helmbin.extract(buffer.getvalue(), "amd64") == b"\x7fELF"
    with pytest.raises(LabError, match="linux-arm64/helm"):
        helmbin.extract(buffer.getvalue(), "arm64")


def test_machine_names() -> None:
    assert helmbin.go_arch("x86_64\n") == "amd64" and helmbin.go_arch("aarch64") == "arm64"
