"""Debian root filesystems made with debootstrap and imported into Docker as base images."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from lab import versions
from lab.errors import CommandError
from lab.shell import run_build

NODE_PACKAGES = (
    # what kind's base image installs, with Debian's containerd, runc and CNI plugins
    "systemd", "systemd-sysv", "conntrack", "iptables", "nftables", "iproute2", "ethtool",
    "util-linux", "mount", "kmod", "libseccomp2", "pigz", "fuse-overlayfs", "bash",
    "ca-certificates", "curl", "jq", "procps", "containerd", "runc", "containernetworking-plugins",
    # what a CKA candidate expects on a node
    "less", "vim-tiny", "nano", "iputils-ping", "dnsutils", "netcat-openbsd", "psmisc",
)

BASE_PACKAGES = (
    # one small base for kube-proxy, kindnetd (both exec iptables) and the nginx stand-in
    "iptables", "conntrack", "iproute2", "ca-certificates", "curl", "jq", "nginx-light",
    "busybox-static",
)


def debian_mirror() -> str | None:
    """The mirror apt already uses on this machine (so a local mirror or proxy is honoured);
    None lets debootstrap use its own default."""
    for source in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in source.read_text().splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    sources_list = Path("/etc/apt/sources.list")
    if sources_list.exists():
        for line in sources_list.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[1]:
                return parts[1] if not parts[1].startswith("[") else parts[2]
    return None


def build_rootfs_image(image: str, packages: tuple[str, ...], workdir: Path) -> None:
    """debootstrap a minbase Debian with packages, then `docker import` it as image."""
    ensure_debootstrap()
    target = workdir / image.replace("/", "_").replace(":", "_")
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    run_build(
        [
            "debootstrap", "--variant=minbase", f"--include={','.join(packages)}",
            versions.DEBIAN_SUITE, str(target), *([mirror] if (mirror := debian_mirror()) else []),
        ],
        context=f"debootstrap for {image}",
    )
    # apt lists and caches are dead weight in an image
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (target / junk).glob("*"):
            if path.is_file():
                path.unlink()
    tar = subprocess.Popen(["tar", "-C", str(target), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE)
    try:
        run_import = subprocess.run(
            ["docker", "import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "-", image],
            stdin=tar.stdout,
            capture_output=True,
        )
    finally:
        if tar.stdout:
            tar.stdout.close()
        tar.wait()
    if run_import.returncode != 0:
        raise CommandError(["docker", "import", "-", image], run_import.returncode, run_import.stderr.decode())
    shutil.rmtree(target)


def ensure_debootstrap() -> None:
    if shutil.which("debootstrap"):
        return
    run_build(["apt-get", "update"], context="installing debootstrap")
    run_build(["apt-get", "install", "-y", "debootstrap"], env={"DEBIAN_FRONTEND": "noninteractive"})
