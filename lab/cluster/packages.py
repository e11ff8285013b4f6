"""The Kubernetes packages of an upgrade scenario's nodes on a machine with a registry.

The official kindest/node images carry kubeadm, kubelet and kubectl as plain files, not as
packages, and no package repository for them. A kubeadm node in the exam has both: the packages
installed from the upstream repository (pkgs.k8s.io) and held. So a cluster at an older pinned
release gets, on every node, the upstream repositories of its own minor and of every newer pinned
minor, and its release's packages installed over the image's files (the same binaries) and held:
`apt-get install kubeadm=<newer>` then upgrades it as on any kubeadm node. The offline node image
has all this built in (a local repository), so this is for official images only."""

from __future__ import annotations

from lab import versions

KEYRING = "/etc/apt/keyrings/kubernetes-apt-keyring.asc"
"""apt reads an ASCII-armoured key named *.asc directly: the node needs no gpg to dearmour it."""
SOURCES = "/etc/apt/sources.list.d/kubernetes.list"
PACKAGES = ("kubeadm", "kubelet", "kubectl")


def needs_upstream_packages(kubernetes: str | None, node_image: str) -> bool:
    """An upgrade scenario's cluster (a release other than the default) on an official node image."""
    return kubernetes not in (None, versions.KUBERNETES_VERSION) and node_image.startswith("kindest/node:")


def repository_lines(kubernetes: str) -> list[str]:
    """One upstream repository per pinned minor from the node's own upwards (oldest first)."""
    own = versions.release(kubernetes)
    minors = sorted(
        {r.minor for r in versions.RELEASES.values() if _minor_key(r.minor) >= _minor_key(own.minor)}, key=_minor_key
    )
    return [f"deb [signed-by={KEYRING}] https://pkgs.k8s.io/core:/stable:/{minor}/deb/ /" for minor in minors]


def install_script(kubernetes: str) -> str:
    """Shell run as root on each node: repositories, the release's packages, held."""
    release = versions.release(kubernetes)
    pinned = " ".join(f"{name}={release.deb_version}" for name in PACKAGES)
    sources = "\n".join(repository_lines(kubernetes))
    # every minor's repository is signed with the same key; --force-confold keeps kind's own
    # kubelet unit and kubeadm drop-in where the packages would bring theirs
    return (
        "set -eu\n"
        "export DEBIAN_FRONTEND=noninteractive\n"
        "mkdir -p /etc/apt/keyrings\n"
        f"curl -fsSL https://pkgs.k8s.io/core:/stable:/{release.minor}/deb/Release.key -o {KEYRING}\n"
        f"cat > {SOURCES} <<'SOURCES'\n{sources}\nSOURCES\n"
        "apt-get update -q\n"
        f"apt-get install -y -q -o Dpkg::Options::=--force-confold {pinned}\n"
        f"apt-mark hold {' '.join(PACKAGES)}\n"
    )


def _minor_key(minor: str) -> tuple[int, int]:
    major, number = minor.lstrip("v").split(".")
    return int(major), int(number)
