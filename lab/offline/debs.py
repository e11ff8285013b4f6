"""The Kubernetes packages of the upgrade scenarios: kubeadm, kubelet and kubectl as real `.deb`
files named and versioned as the upstream package repository names them (1.34.0-1.1), and a
flat apt repository holding every release's packages, so `apt-get install kubeadm=<version>`
works on a node with no network."""

from __future__ import annotations

import gzip
import hashlib
import platform
import shutil
from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, timezone
from pathlib import Path

from lab import versions
from lab.shell import run_build

PACKAGES = ("kubeadm", "kubelet", "kubectl")
NODE_APT_DIR = "/opt/cka-lab/apt"
"""Where the node image holds the repository."""
NODE_APT_SOURCE = f"deb [trusted=yes] file:{NODE_APT_DIR} ./\n"
"""/etc/apt/sources.list.d/kubernetes.list of the node image."""

_DESCRIPTIONS = {
    "kubeadm": "Command-line utility for administering a Kubernetes cluster",
    "kubelet": "Node agent for Kubernetes clusters",
    "kubectl": "Command-line utility for interacting with a Kubernetes cluster",
}
# Only what the node's root filesystem has as packages (upstream's kubelet also names
# kubernetes-cni, cri-tools, socat and ebtables, which the node carries as plain files or not at all).
_DEPENDS = {"kubelet": "iptables, iproute2, mount, util-linux, conntrack, ethtool"}


def deb_architecture(machine: str | None = None) -> str:
    machine = machine or platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


@dataclass(frozen=True)
class Deb:
    package: str
    release: versions.Release
    arch: str

    @property
    def version(self) -> str:
        return self.release.deb_version

    @property
    def filename(self) -> str:
        return f"{self.package}_{self.version}_{self.arch}.deb"

    def control(self, installed_kib: int) -> str:
        """The DEBIAN/control file. The kubelet package carries the binary only: the node
        image's own systemd unit and kubeadm drop-in stay as they are."""
        lines = [
            f"Package: {self.package}",
            f"Version: {self.version}",
            f"Architecture: {self.arch}",
            "Maintainer: cka-lab offline build <cka-lab@localhost>",
            f"Installed-Size: {installed_kib}",
        ]
        if self.package in _DEPENDS:
            lines.append(f"Depends: {_DEPENDS[self.package]}")
        lines += [
            "Section: admin",
            "Priority: optional",
            "Homepage: https://kubernetes.io",
            f"Description: {_DESCRIPTIONS[self.package]}",
            f" {self.package} {self.release.kubernetes}, built from the k8s.io/kubernetes module.",
        ]
        return "\n".join(lines) + "\n"


def debs_of(release: versions.Release, arch: str | None = None) -> list[Deb]:
    return [Deb(p, release, arch or deb_architecture()) for p in PACKAGES]


def build_deb(deb: Deb, binary: Path, workdir: Path, outdir: Path) -> Path:
    """`dpkg-deb --build` a package holding /usr/bin/<package>."""
    root = workdir / f"deb-{deb.package}-{deb.version}"
    if root.exists():
        shutil.rmtree(root)
    (root / "DEBIAN").mkdir(parents=True)
    (root / "usr" / "bin").mkdir(parents=True)
    target = root / "usr" / "bin" / deb.package
    shutil.copyfile(binary, target)
    target.chmod(0o755)
    (root / "DEBIAN" / "control").write_text(deb.control(-(-binary.stat().st_size // 1024)))
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / deb.filename
    run_build(
        # gzip -1: a tenth of the default level's time for a 15% larger package
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "-z1", "--build", str(root), str(out)],
        context=f"building the {deb.package} package",
    )
    shutil.rmtree(root)
    return out


def build_release_debs(release: versions.Release, bindir: Path, workdir: Path, outdir: Path) -> None:
    for deb in debs_of(release):
        build_deb(deb, bindir / deb.package, workdir, outdir)


def release_file(indexes: dict[str, bytes], arch: str, date: datetime | None = None) -> str:
    """The Release file of a flat repository: its index files with sizes and hashes (apt checks
    them even for a `trusted=yes` source)."""
    date = date or datetime.now(timezone.utc)
    lines = [
        "Origin: cka-lab",
        "Label: cka-lab offline Kubernetes packages",
        f"Architectures: {arch}",
        f"Date: {format_datetime(date, usegmt=True)}",
    ]
    for field, algorithm in (("MD5Sum", hashlib.md5), ("SHA256", hashlib.sha256)):
        lines.append(f"{field}:")
        lines += [f" {algorithm(data).hexdigest()} {len(data)} {name}" for name, data in sorted(indexes.items())]
    return "\n".join(lines) + "\n"


def build_repository(repo: Path) -> None:
    """Index every .deb in `repo` (all versions of a package) as a flat repository."""
    ensure_scanpackages()
    packages = run_build(
        ["dpkg-scanpackages", "--multiversion", ".", "/dev/null"], cwd=repo, context="indexing the packages"
    ).stdout.encode()
    gz = gzip.compress(packages, mtime=0)
    (repo / "Packages").write_bytes(packages)
    (repo / "Packages.gz").write_bytes(gz)
    (repo / "Release").write_text(release_file({"Packages": packages, "Packages.gz": gz}, deb_architecture()))


def expected_files(releases: list[versions.Release]) -> list[str]:
    return ["Packages", "Packages.gz", "Release", *(d.filename for r in releases for d in debs_of(r))]


def ensure_scanpackages() -> None:
    if shutil.which("dpkg-scanpackages"):
        return
    run_build(["apt-get", "update"], context="installing dpkg-dev")
    run_build(["apt-get", "install", "-y", "dpkg-dev"], env={"DEBIAN_FRONTEND": "noninteractive"},
              context="installing dpkg-dev")
