"""The Kubernetes packages and their flat apt repository (the pure parts; the offline build
runs dpkg-deb and dpkg-scanpackages for real)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from lab import versions
from lab.offline import debs
from lab.offline.nodeimage import install_packages_script, node_binaries


def test_packages_are_versioned_as_upstream_names_them() -> None:
    assert versions.DEFAULT_RELEASE.deb_version == "1.34.0-1.1"
    assert versions.release(versions.UPGRADE_FROM_KUBERNETES_VERSION).deb_version == "1.33.4-1.1"
    names = [d.filename for d in debs.debs_of(versions.DEFAULT_RELEASE, "amd64")]
    assert names == ["kubeadm_1.34.0-1.1_amd64.deb", "kubelet_1.34.0-1.1_amd64.deb", "kubectl_1.34.0-1.1_amd64.deb"]


def test_control_files() -> None:
    kubelet, kubeadm = (debs.Deb(p, versions.DEFAULT_RELEASE, "amd64") for p in ("kubelet", "kubeadm"))
    control = kubelet.control(1234)
    fields = dict(line.split(": ", 1) for line in control.splitlines() if not line.startswith(" "))
    assert fields["Package"] == "kubelet" and fields["Version"] == "1.34.0-1.1"
    assert fields["Architecture"] == "amd64" and fields["Installed-Size"] == "1234"
    # only packages the node's root filesystem has, so dpkg -i and apt-get install succeed offline
    from lab.offline.rootfs import NODE_PACKAGES

    assert all(dep.strip() in NODE_PACKAGES for dep in fields["Depends"].split(","))
    assert control.endswith("\n") and control.splitlines()[-1].startswith(" ")
    assert "Depends" not in kubeadm.control(1)


def test_architecture_names() -> None:
    assert debs.deb_architecture("x86_64") == "amd64"
    assert debs.deb_architecture("aarch64") == "arm64"


def test_release_file_lists_every_index_with_size_and_hashes() -> None:
    indexes = {"Packages": b"Package: kubeadm\n", "Packages.gz": b"\x1f\x8b"}
    text = debs.release_file(indexes, "amd64", datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    assert "Architectures: amd64" in text
    assert "Date: Thu, 02 Jan 2025 03:04:05 GMT" in text
    sha = hashlib.sha256(b"Package: kubeadm\n").hexdigest()
    md5 = hashlib.md5(b"\x1f\x8b").hexdigest()
    assert f" {sha} 17 Packages\n" in text and f" {md5} 2 Packages.gz\n" in text
    assert text.index("MD5Sum:") < text.index("SHA256:")


def test_the_repository_expects_both_releases_packages() -> None:
    upgrade = versions.release(versions.UPGRADE_FROM_KUBERNETES_VERSION)
    files = debs.expected_files([versions.DEFAULT_RELEASE, upgrade])
    assert {"Packages", "Packages.gz", "Release"} <= set(files)
    assert len([f for f in files if f.endswith(".deb")]) == 6


def test_the_node_source_line_is_a_trusted_flat_file_repository() -> None:
    assert debs.NODE_APT_SOURCE == "deb [trusted=yes] file:/opt/cka-lab/apt ./\n"


def test_the_upstream_repository_line_names_the_minor() -> None:
    assert "https://pkgs.k8s.io/core:/stable:/v1.34/deb/ /" in versions.DEFAULT_RELEASE.apt_source


def test_a_packaged_node_gets_kubeadm_kubelet_kubectl_from_dpkg_only(tmp_path) -> None:
    sources = {name: tmp_path / name for name in ("kubeadm", "kubelet", "kubectl", "crictl", "etcdctl", "etcdutl", "helm")}
    plain = node_binaries(sources, packaged=False)
    assert plain["usr/bin/kubelet"] == tmp_path / "kubelet" and plain["usr/local/bin/helm"] == tmp_path / "helm"
    packaged = node_binaries({k: v for k, v in sources.items() if k not in debs.PACKAGES}, packaged=True)
    assert not any(place.startswith("usr/bin/") for place in packaged)
    assert "usr/local/bin/crictl" in packaged


def test_the_packages_are_installed_with_dpkg_and_held() -> None:
    script = install_packages_script(["kubeadm_1.33.4-1.1_amd64.deb", "kubelet_1.33.4-1.1_amd64.deb"])
    assert "dpkg -i /opt/cka-lab/apt/kubeadm_1.33.4-1.1_amd64.deb /opt/cka-lab/apt/kubelet_1.33.4-1.1_amd64.deb" in script
    assert "apt-mark hold kubeadm kubelet" in script
