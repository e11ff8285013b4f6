"""helm on the lab's control-plane node, where the trainee runs it (`cka-lab ssh control-plane`).
The offline node images carry it already; onto a node of kind's official image the pinned
release is copied: the offline build's binary where it fits the node, else the release archive,
downloaded once and verified against its published sha256."""

from __future__ import annotations

import hashlib
import io
import os
import platform
import tarfile
import urllib.request
from pathlib import Path

from lab import paths, versions
from lab.cluster.node import Node
from lab.errors import LabError
from lab.shell import run

NODE_PATH = "/usr/local/bin/helm"
_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "amd64": "amd64"}


def go_arch(machine: str) -> str:
    return _ARCH.get(machine.strip(), machine.strip())


def download_url(arch: str, version: str = versions.HELM_VERSION) -> str:
    return f"https://get.helm.sh/helm-{version}-linux-{arch}.tar.gz"


def cached_path(arch: str, version: str = versions.HELM_VERSION) -> Path:
    return paths.cache_dir() / "bin" / f"helm-{version}-linux-{arch}"


def choose_source(node_arch: str, host_system: str, host_arch: str, offline: Path, cached: Path) -> Path | None:
    """The local helm binary that runs on the node, or None (then it is downloaded)."""
    if host_system == "Linux" and host_arch == node_arch and offline.exists():
        return offline
    return cached if cached.exists() else None


def verified(data: bytes, sha256sum: str) -> bytes:
    """data, if its sha256 is the one a `.sha256sum` file names; else a LabError."""
    expected = sha256sum.split()[0].lower() if sha256sum.split() else ""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise LabError(f"helm download checksum mismatch: expected {expected or '(none)'}, got {actual}",
                       title="helm not trusted")
    return data


def extract(archive: bytes, arch: str) -> bytes:
    """The helm binary out of a release archive (linux-<arch>/helm)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            member = tar.extractfile(f"linux-{arch}/helm")
            if member is None:
                raise KeyError(arch)
            return member.read()
    except (KeyError, tarfile.TarError) as exc:
        raise LabError(f"the helm archive holds no linux-{arch}/helm ({exc})", title="helm not found") from None


def _download(arch: str, target: Path) -> None:
    url = download_url(arch)
    try:
        with urllib.request.urlopen(url + ".sha256sum", timeout=30) as response:  # noqa: S310 (fixed https URL)
            expected = response.read().decode()
        with urllib.request.urlopen(url, timeout=300) as response:  # noqa: S310
            archive = verified(response.read(), expected)
    except OSError as exc:
        raise LabError(
            f"could not download helm {versions.HELM_VERSION} ({exc})",
            title="helm not found",
            hint="on a machine without internet run `cka-lab offline prepare`",
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(extract(archive, arch))
    tmp.chmod(0o755)
    os.replace(tmp, target)


def ensure_helm_on_node(node: Node, progress=lambda _: None) -> None:
    """Copy the pinned helm into the node unless it has one already."""
    if node.run(["test", "-x", NODE_PATH], check=False).returncode == 0:
        return
    from lab.offline.prepare import bin_dir

    arch = go_arch(node.run(["uname", "-m"]).stdout)
    source = choose_source(arch, platform.system(), go_arch(platform.machine()), bin_dir() / "helm", cached_path(arch))
    if source is None:
        progress(f"downloading helm {versions.HELM_VERSION}")
        source = cached_path(arch)
        _download(arch, source)
    progress(f"copying helm {versions.HELM_VERSION} into {node.short_name}")
    run(["docker", "cp", str(source), f"{node.container}:{NODE_PATH}"], context="copying helm into the node")
    node.run(["chmod", "0755", NODE_PATH])
