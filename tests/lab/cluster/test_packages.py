"""The upstream packages of an upgrade scenario's nodes on official images (the offline node
image has its own repository): which clusters get them, and the script every node runs."""

from __future__ import annotations

import subprocess

from lab import versions
from lab.cluster.packages import KEYRING, install_script, needs_upstream_packages, repository_lines

OLD, NEW = versions.UPGRADE_FROM_KUBERNETES_VERSION, versions.KUBERNETES_VERSION


def test_only_an_older_release_on_an_official_image_needs_them() -> None:
    assert needs_upstream_packages(OLD, versions.UPGRADE_FROM_OFFICIAL_NODE_IMAGE)
    assert not needs_upstream_packages(OLD, f"cka-lab/node:{OLD}")  # offline: built in
    assert not needs_upstream_packages(None, versions.OFFICIAL_NODE_IMAGE)
    assert not needs_upstream_packages(NEW, versions.OFFICIAL_NODE_IMAGE)


def test_the_node_gets_its_own_minor_and_every_newer_pinned_one() -> None:
    lines = repository_lines(OLD)
    assert [line.split()[2] for line in lines] == [
        "https://pkgs.k8s.io/core:/stable:/v1.33/deb/", "https://pkgs.k8s.io/core:/stable:/v1.34/deb/"]
    assert all(f"[signed-by={KEYRING}]" in line for line in lines)
    assert len(repository_lines(NEW)) == 1


def test_the_script_installs_the_release_held_and_is_valid_shell() -> None:
    script = install_script(OLD)
    assert "apt-get install -y -q -o Dpkg::Options::=--force-confold kubeadm=1.33.4-1.1 kubelet=1.33.4-1.1 kubectl=1.33.4-1.1" in script
    assert script.rstrip().endswith("apt-mark hold kubeadm kubelet kubectl")
    assert "core:/stable:/v1.33/deb/Release.key" in script
    subprocess.run(["sh", "-n"], input=script, text=True, check=True)
