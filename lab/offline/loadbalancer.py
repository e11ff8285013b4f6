"""kind's API load balancer image, built offline from Debian's haproxy package.

A cluster with several control-plane nodes gets an `external-load-balancer` container whose image
name is compiled into kind (versions.KIND_LOADBALANCER_IMAGE); without a registry it must exist
locally under that exact name. kind treats it as its own image does: it writes the real
configuration to CONFIG_PATH (`mkdir -p`, `cp /dev/stdin`), then runs `kill -s HUP 1`, which the
haproxy master (PID 1, `-W`) answers by reloading. So the image runs haproxy the same way and
carries cp, mkdir and kill. Built only when an HA scenario first needs it, or by
`cka-lab offline prepare --all`; online kind pulls its own image."""

from __future__ import annotations

from pathlib import Path

from lab import versions
from lab.offline.images import ImageRecipe, build_image, image_present
from lab.offline.steps import Step, file_digest

IMAGE = versions.KIND_LOADBALANCER_IMAGE
CONFIG_PATH = "/usr/local/etc/haproxy/haproxy.cfg"
ROOTFS_IMAGE = "cka-lab/haproxy-rootfs:" + versions.DEBIAN_SUITE
ROOTFS_PACKAGES = ("haproxy", "procps")
"""haproxy itself; procps for `kill` (minbase has coreutils' cp and mkdir). A root filesystem of
its own: adding haproxy to the Debian base would rebuild every image made from that base."""
MAX_CONNECTIONS = 4096
"""Ample for one lab's API traffic; needs about 8200 file descriptors."""
INITIAL_CONFIG = Path(__file__).parent / "haproxy.cfg"
"""Beside this module, not in files/: the node image hashes that whole folder."""


def recipe() -> ImageRecipe:
    dockerfile = (
        f"FROM {ROOTFS_IMAGE}\n"
        f"COPY haproxy.cfg {CONFIG_PATH}\n"
        # kind stops its load balancer with SIGUSR1 (haproxy's soft stop), as its image declares
        "STOPSIGNAL SIGUSR1\n"
        # -W: master-worker, so SIGHUP to PID 1 reloads; -db: stay in the foreground; -n: a
        # connection limit that overrides kind's `maxconn 100000`, for which Debian's haproxy
        # (2.6, stricter than the 2.2 of kind's image) wants 200000 file descriptors and exits
        # where Docker's limit is lower
        f'ENTRYPOINT ["haproxy", "-W", "-db", "-n", "{MAX_CONNECTIONS}", "-f", "{CONFIG_PATH}"]\n'
    )
    return ImageRecipe((IMAGE,), dockerfile, {"haproxy.cfg": INITIAL_CONFIG})


def image_step(work: Path, rootfs_step: str, image_id) -> Step:
    """The image from the haproxy root filesystem (the step `rootfs_step` debootstraps it)."""
    built = recipe()
    return Step(
        "image-kind-loadbalancer",
        lambda: build_image(built, work),
        lambda: {
            **built.inputs(),
            "files": {name: file_digest(path) for name, path in built.files.items()},
            "base": image_id(ROOTFS_IMAGE),
        },
        is_present=lambda: image_present(IMAGE),
        after=(rootfs_step,),
    )


def present() -> bool:
    return image_present(IMAGE)
