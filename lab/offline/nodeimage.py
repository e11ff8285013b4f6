"""The kind node image of the offline path: kind's own node files (taken from the kind module in
the Go module cache), a Debian root filesystem with containerd, the Kubernetes binaries built
here, and every image the cluster needs preloaded into containerd, as `kind build node-image` does."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from lab import versions
from lab.errors import CommandError
from lab.offline.debs import NODE_APT_DIR, NODE_APT_SOURCE
from lab.offline.images import FILES
from lab.imageref import containerd_name
from lab.shell import BUILD_TIMEOUT, run_build
from lab.wait import wait_until

NODE_ROOTFS_IMAGE = "cka-lab/node-rootfs:" + versions.DEBIAN_SUITE
NODE_WRAPPER_PATH = "/usr/local/sbin/cka-lab-runc"
NODE_BINARIES = ("kubeadm", "kubelet", "kubectl", "crictl", "etcdctl", "etcdutl", "helm")
PACKAGED = ("kubeadm", "kubelet", "kubectl")
"""Installed in /usr/bin, as plain files or (in a node image with the apt repository) by dpkg."""


def node_image_name(kubernetes: str = versions.KUBERNETES_VERSION) -> str:
    return f"cka-lab/node:{kubernetes}"


OFFLINE_NODE_IMAGE = node_image_name()


def node_binaries(sources: dict[str, Path], packaged: bool) -> dict[str, Path]:
    """Where each binary goes in the node image (relative path -> source). With `packaged`,
    kubeadm, kubelet and kubectl come from their packages instead."""
    placed = {}
    for name in NODE_BINARIES:
        if name in PACKAGED:
            if not packaged:
                placed[f"usr/bin/{name}"] = sources[name]
        else:
            placed[f"usr/local/bin/{name}"] = sources[name]
    return placed


def install_packages_script(debs: list[str]) -> str:
    """Install the release's packages with dpkg (so `apt-get install kubeadm=<newer>` upgrades
    them as on a kubeadm node) and hold them, as the upstream install guide does."""
    paths = " ".join(f"{NODE_APT_DIR}/{deb}" for deb in debs)
    names = " ".join(dict.fromkeys(deb.split("_")[0] for deb in debs))
    return f"set -eux\ndpkg -i {paths}\napt-mark hold {names}\n"

# The same clean-up and service set-up as kind's base image Dockerfile.
SETUP_SCRIPT = r"""set -eux
find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete
rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
echo "ReadKMsg=no" >> /etc/systemd/journald.conf
ln -sf "$(command -v systemd)" /sbin/init
systemctl enable kubelet.service containerd.service undo-mount-hacks.service
systemctl mask systemd-binfmt.service
mkdir -p /etc/kubernetes/manifests /opt/cni/bin
# kind's containerd unit runs /usr/local/bin/containerd; Debian installs it in /usr/bin
ln -sf /usr/bin/containerd /usr/local/bin/containerd
ln -sf /usr/bin/ctr /usr/local/bin/ctr
for plugin in host-local loopback ptp portmap bridge; do ln -sf /usr/lib/cni/$plugin /opt/cni/bin/$plugin; done
ctr oci spec \
  | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
  | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json
chmod 0755 /kind/bin /kind/bin/* /usr/local/bin/* /usr/bin/kubeadm /usr/bin/kubelet /usr/bin/kubectl
"""


def kind_base_files(go: str) -> Path:
    """kind's images/base/files in the module cache (downloaded through the module proxy)."""
    out = run_build([go, "mod", "download", "-json", f"sigs.k8s.io/kind@{versions.KIND_VERSION}"], cwd="/")
    import json

    return Path(json.loads(out.stdout)["Dir"]) / "images" / "base" / "files"


def containerd_config(base_files: Path, with_runtime_shim: bool) -> str:
    config = (base_files / "etc" / "containerd" / "config.toml").read_text()
    if with_runtime_shim:
        # Pods run privileged too (kube-proxy): the node's runc needs the same shim as the host's.
        config = config.replace(
            "SystemdCgroup = true",
            f'SystemdCgroup = true\n    BinaryName = "{NODE_WRAPPER_PATH}"',
        )
        # Lowering oom_score_adj (the kubelet asks -998 for static pods) needs CAP_SYS_RESOURCE
        # too; runc init then dies with "can't get final child's PID from pipe". Clamp it to
        # containerd's own score instead, as containerd does for rootless nodes.
        config = config.replace("restrict_oom_score_adj = false", "restrict_oom_score_adj = true")
    return config


def assemble_tree(
    tree: Path,
    base_files: Path,
    binaries: dict[str, Path],
    with_runtime_shim: bool,
    kubernetes: str = versions.KUBERNETES_VERSION,
    apt_repo: Path | None = None,
) -> None:
    """Lay out the files the node image adds on top of the Debian root filesystem."""
    if tree.exists():
        shutil.rmtree(tree)
    shutil.copytree(base_files, tree, ignore=shutil.ignore_patterns("LICENSES"))
    # the module cache is read-only; the image's files must be writable by root
    for path in [tree, *tree.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (tree / "etc" / "containerd" / "config.toml").write_text(containerd_config(base_files, with_runtime_shim))
    for relative, source in binaries.items():
        (tree / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, tree / relative)
        (tree / relative).chmod(0o755)
    if apt_repo is not None:
        shutil.copytree(apt_repo, tree / NODE_APT_DIR.lstrip("/"))
        sources = tree / "etc" / "apt" / "sources.list.d" / "kubernetes.list"
        sources.parent.mkdir(parents=True, exist_ok=True)
        sources.write_text(NODE_APT_SOURCE)
    if with_runtime_shim:
        sbin = tree / "usr" / "local" / "sbin"
        sbin.mkdir(parents=True, exist_ok=True)
        shutil.copy2(FILES / "runc-wrapper.sh", sbin / Path(NODE_WRAPPER_PATH).name)
        (sbin / Path(NODE_WRAPPER_PATH).name).chmod(0o755)
    kind_dir = tree / "kind"
    (kind_dir / "version").write_text(kubernetes)
    manifests = kind_dir / "manifests"
    manifests.mkdir(parents=True, exist_ok=True)
    cni = (FILES / "default-cni.yaml").read_text().replace("{{IMAGE}}", versions.KINDNETD_IMAGE)
    (manifests / "default-cni.yaml").write_text(cni)
    shutil.copy2(FILES / "default-storage.yaml", manifests / "default-storage.yaml")


def build_node_image(
    workdir: Path,
    base_files: Path,
    binaries: dict[str, Path],
    preload: list[str],
    with_runtime_shim: bool,
    kubernetes: str = versions.KUBERNETES_VERSION,
    apt_repo: Path | None = None,
    debs: list[str] | None = None,
) -> None:
    """The node image of `kubernetes`; with `apt_repo`, the repository is inside it and `debs`
    (files of that repository) are installed with dpkg."""
    image = node_image_name(kubernetes)
    context = workdir / f"node-image-{kubernetes}"
    tree = context / "tree"
    assemble_tree(tree, base_files, binaries, with_runtime_shim, kubernetes, apt_repo)
    (context / "setup.sh").write_text(SETUP_SCRIPT)
    install = ""
    if debs:
        (context / "packages.sh").write_text(install_packages_script(debs))
        install = "COPY packages.sh /tmp/packages.sh\nRUN bash /tmp/packages.sh && rm /tmp/packages.sh\n"
    (context / "Dockerfile").write_text(
        f"FROM {NODE_ROOTFS_IMAGE}\n"
        "COPY tree/ /\n"
        + install
        + "COPY setup.sh /tmp/setup.sh\n"
        "RUN bash /tmp/setup.sh && rm /tmp/setup.sh\n"
        "ENV container=docker\n"
        "STOPSIGNAL SIGRTMIN+3\n"
        'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]\n'
    )
    stage = image + "-stage"
    run_build(["docker", "build", "-q", "-t", stage, str(context)], context=f"building the node image {image}")
    preload_images(stage, preload, image)
    run_build(["docker", "rmi", stage], check=False)
    shutil.rmtree(context)


def preload_images(stage: str, images: list[str], image: str = OFFLINE_NODE_IMAGE) -> None:
    """Import images into the node's containerd (content only, unpacked on first use), commit
    the result as `image`."""
    name = "cka-lab-node-preload-" + image.rsplit(":", 1)[-1].replace(".", "-")
    run_build(["docker", "rm", "-f", name], check=False)
    run_build(["docker", "run", "-d", "--name", name, "--privileged", "--entrypoint", "containerd", stage])
    try:
        wait_until(lambda: run_build(["docker", "exec", name, "ctr", "version"], check=False).returncode == 0,
                   timeout=60, what="containerd in the preload container")
        save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "exec", "-i", name, "ctr", "--namespace=k8s.io", "images", "import",
             "--all-platforms", "--no-unpack", "--digests", "-"],
            stdin=save.stdout,
            capture_output=True,
            timeout=BUILD_TIMEOUT,
        )
        if save.stdout:
            save.stdout.close()
        save.wait()
        if load.returncode != 0 or save.returncode != 0:
            raise CommandError(["docker", "save", *images, "|", "ctr", "images", "import", "-"],
                               load.returncode or save.returncode, load.stderr.decode())
        listed = run_build(["docker", "exec", name, "ctr", "--namespace=k8s.io", "images", "list", "-q"]).stdout
        missing = [i for i in images if containerd_name(i) not in listed.split()]
        if missing:
            raise CommandError(["ctr", "images", "list"], 1, f"images missing after import: {missing}")
        run_build(["docker", "stop", "-t", "30", name])
        run_build(["docker", "commit", "--change", 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
             "--change", "CMD []", name, image])
    finally:
        run_build(["docker", "rm", "-f", name], check=False)
