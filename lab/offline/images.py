"""Container images of the offline path, built with `docker build` from local binaries and the
Debian base image: the control-plane images kubeadm asks for, kind's pod network, and the
workload stand-ins (nginx, busybox) tagged with the names the scenarios use."""

from __future__ import annotations

import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from lab import versions
from lab.shell import run_build

FILES = Path(__file__).parent / "files"
BASE_IMAGE = "cka-lab/debian-base:" + versions.DEBIAN_SUITE
WORKLOAD_IMAGES = ("nginx:1.27", "busybox:1.36")
PAUSE_SOURCE = "build/pause/linux/pause.c"
# Images FROM scratch have no PATH of their own; kubeadm's manifests run commands by name.
SCRATCH_PATH = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class ImageRecipe:
    """A Dockerfile and the files its context needs (mode 0755 for binaries)."""

    tags: tuple[str, ...]
    dockerfile: str
    files: dict[str, Path] = field(default_factory=dict)

    def inputs(self) -> dict:
        return {"tags": self.tags, "dockerfile": self.dockerfile, "files": sorted(self.files)}


def _scratch_binary(tag: str, binary: Path, dest: str, entrypoint: bool = False) -> ImageRecipe:
    lines = ["FROM scratch", SCRATCH_PATH, f"COPY {binary.name} {dest}"]
    if entrypoint:
        lines.append(f'ENTRYPOINT ["{dest}"]')
    return ImageRecipe((tag,), "\n".join(lines) + "\n", {binary.name: binary})


KIND_SANDBOX_IMAGE = "registry.k8s.io/pause:3.10"
"""The sandbox image kind's containerd config pins."""


def component_images(bindir: Path, release: versions.Release = versions.DEFAULT_RELEASE) -> list[ImageRecipe]:
    """Images `kubeadm config images list` names for `release` (binaries from `bindir`), plus
    the pod network."""
    k8s = release.kubernetes
    recipes = [
        _scratch_binary(f"registry.k8s.io/{name}:{k8s}", bindir / name, f"/usr/local/bin/{name}")
        for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
    ]
    recipes.append(
        ImageRecipe(
            (f"registry.k8s.io/kube-proxy:{k8s}",),
            f"FROM {BASE_IMAGE}\nCOPY kube-proxy /usr/local/bin/kube-proxy\n",
            {"kube-proxy": bindir / "kube-proxy"},
        )
    )
    recipes.append(
        ImageRecipe(
            (f"registry.k8s.io/etcd:{release.etcd_image_tag}",),
            f"FROM scratch\n{SCRATCH_PATH}\nCOPY etcd etcdctl etcdutl /usr/local/bin/\n"
            'ENTRYPOINT ["/usr/local/bin/etcd"]\n',
            {"etcd": bindir / "etcd", "etcdctl": bindir / "etcdctl", "etcdutl": bindir / "etcdutl"},
        )
    )
    recipes.append(
        ImageRecipe(
            (f"registry.k8s.io/coredns/coredns:{release.coredns}",),
            'FROM scratch\nCOPY coredns /coredns\nEXPOSE 53 53/udp\nENTRYPOINT ["/coredns"]\n',
            {"coredns": bindir / "coredns"},
        )
    )
    recipes.append(
        ImageRecipe(
            # the sandbox image kubeadm names and the one kind's containerd config pins
            tuple(dict.fromkeys((f"registry.k8s.io/pause:{release.pause}", KIND_SANDBOX_IMAGE))),
            'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n',
            {"pause": bindir / "pause"},
        )
    )
    recipes.append(
        ImageRecipe(
            # kind's image is distroless with iptables; the base image has iptables too
            (versions.KINDNETD_IMAGE,),
            f'FROM {BASE_IMAGE}\nCOPY kindnetd /bin/kindnetd\nCOPY LICENSE /LICENSES/kindnetd\nCMD ["/bin/kindnetd"]\n',
            {"kindnetd": bindir / "kindnetd", "LICENSE": FILES / "kindnetd" / "LICENSE"},
        )
    )
    return recipes


def workload_images() -> list[ImageRecipe]:
    """Stand-ins for the Docker Hub images the scenarios run, from Debian packages."""
    nginx = (
        f"FROM {BASE_IMAGE}\n"
        # log to the container's stdout/stderr like the official image, so `kubectl logs` works
        "RUN ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log"
        " && printf '<!DOCTYPE html>\\n<html><head><title>Welcome to nginx!</title></head>"
        "<body><h1>Welcome to nginx!</h1></body></html>\\n' > /var/www/html/index.html"
        " && cp /var/www/html/index.html /var/www/html/index.nginx-debian.html\n"
        "EXPOSE 80\nSTOPSIGNAL SIGQUIT\n"
        'CMD ["nginx", "-g", "daemon off;"]\n'
    )
    busybox = (
        f"FROM {BASE_IMAGE} AS source\n"
        "RUN mkdir -p /out/bin /out/tmp /out/etc && cp /bin/busybox /out/bin/busybox"
        " && for applet in $(/bin/busybox --list); do ln -s busybox /out/bin/$applet; done"
        " && chmod 1777 /out/tmp"
        " && echo 'root:x:0:0:root:/root:/bin/sh' > /out/etc/passwd"
        " && echo 'nobody:x:65534:65534:nobody:/home:/bin/false' >> /out/etc/passwd"
        " && echo 'root:x:0:' > /out/etc/group\n"
        "FROM scratch\nCOPY --from=source /out/ /\n"
        'CMD ["sh"]\n'
    )
    return [ImageRecipe(("nginx:1.27",), nginx), ImageRecipe(("busybox:1.36",), busybox)]


def build_image(recipe: ImageRecipe, workdir: Path) -> None:
    context = workdir / recipe.tags[0].replace("/", "_").replace(":", "_")
    if context.exists():
        shutil.rmtree(context)
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text(recipe.dockerfile)
    for name, source in recipe.files.items():
        target = context / name
        shutil.copy2(source, target)
        # the classic builder keeps file modes and COPY --chmod needs BuildKit
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    argv = ["docker", "build", "-q"]
    for tag in recipe.tags:
        argv += ["-t", tag]
    run_build([*argv, str(context)], context=f"building image {recipe.tags[0]}")
    shutil.rmtree(context)


def image_present(*tags: str) -> bool:
    return all(run_build(["docker", "image", "inspect", tag], check=False).returncode == 0 for tag in tags)


def build_pause(kubernetes_module_dir: Path, bindir: Path) -> None:
    """Compile the pause binary from the C source shipped in the k8s.io/kubernetes module."""
    source = kubernetes_module_dir / PAUSE_SOURCE
    run_build(
        ["gcc", "-Os", "-static", "-Wall", f'-DVERSION=v{versions.PAUSE_VERSION}', "-o", str(bindir / "pause"), str(source)],
        context="compiling pause",
    )
