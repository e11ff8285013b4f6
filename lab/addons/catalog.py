"""The add-ons a lab cluster can get: what each installs (a manifest under manifests/), which
images it runs, what shows it is ready, and when a cluster already has it of its own."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import yaml

from lab import versions

MANIFESTS = Path(__file__).parent / "manifests"

ALWAYS = ("network-policy", "storage")
"""Installed into every lab cluster (a default kind cluster has both): cheap, and a scenario
on Services or volumes should not need to know."""

KIND_KINDNETD = "kindest/kindnetd"
"""The image of kind's own pod network (online and offline alike). Its policy agent
(kube-network-policies) enforces NetworkPolicy where the kernel has nf_tables' queue expression
(CONFIG_NFT_QUEUE); on a kernel without it, `network-policy` installs kube-router's policy
controller, which needs only iptables, ipset and the NFLOG/REJECT targets."""
LOCAL_PATH = "rancher.io/local-path"
BUSYBOX = "docker.io/library/busybox:1.36"
"""The local-path provisioner's helper pods run this (the offline build has a stand-in)."""


def images() -> dict[str, str]:
    """Image of each add-on component: upstream names (the offline build tags its builds so)."""
    return {
        "kube-router": f"docker.io/cloudnativelabs/kube-router:{versions.KUBE_ROUTER_VERSION}",
        "local-path-provisioner": f"docker.io/rancher/local-path-provisioner:{versions.LOCAL_PATH_PROVISIONER_VERSION}",
        "metrics-server": f"registry.k8s.io/metrics-server/metrics-server:{versions.METRICS_SERVER_VERSION}",
        "traefik": f"docker.io/library/traefik:{versions.TRAEFIK_VERSION}",
    }


@dataclass(frozen=True)
class Workload:
    kind: str
    """Deployment or DaemonSet."""
    namespace: str
    name: str


@dataclass(frozen=True)
class Addon:
    name: str
    summary: str
    manifest: str
    """File under manifests/ (a string.Template: ${image}, ${helper_image})."""
    image: str
    """Key in images()."""
    workloads: tuple[Workload, ...]
    extra_images: tuple[str, ...] = ()
    gateway_crds: bool = False
    """The Gateway API CRDs go in (and must be established) before the manifest."""
    api_service: str | None = None
    """An aggregated API that must report Available."""

    def image_names(self) -> list[str]:
        return [images()[self.image], *self.extra_images]

    def documents(self) -> list[dict[str, Any]]:
        """The manifest rendered with the pinned images, as Kubernetes objects."""
        text = Template((MANIFESTS / self.manifest).read_text()).substitute(
            image=images()[self.image], helper_image=BUSYBOX
        )
        return [doc for doc in yaml.safe_load_all(text) if doc]

    def digest(self) -> str:
        """Changes when anything applied would change (a new pin, an edited manifest)."""
        raw = "\n".join([self.manifest, (MANIFESTS / self.manifest).read_text(), *self.image_names(), BUSYBOX])
        if self.gateway_crds:
            raw += versions.GATEWAY_API_VERSION
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


ADDONS: dict[str, Addon] = {
    a.name: a
    for a in (
        Addon(
            "network-policy",
            f"NetworkPolicy enforcement (kube-router {versions.KUBE_ROUTER_VERSION}, network policy controller only)",
            "network-policy-kube-router.yaml",
            "kube-router",
            (Workload("DaemonSet", "kube-system", "kube-router"),),
        ),
        Addon(
            "storage",
            f"dynamic provisioning for StorageClass standard (local-path-provisioner {versions.LOCAL_PATH_PROVISIONER_VERSION})",
            "local-path.yaml",
            "local-path-provisioner",
            (Workload("Deployment", "local-path-storage", "local-path-provisioner"),),
            extra_images=(BUSYBOX,),
        ),
        Addon(
            "metrics-server",
            f"resource metrics for kubectl top and HPAs (metrics-server {versions.METRICS_SERVER_VERSION})",
            "metrics-server.yaml",
            "metrics-server",
            (Workload("Deployment", "kube-system", "metrics-server"),),
            api_service="v1beta1.metrics.k8s.io",
        ),
        Addon(
            "gateway",
            f"Gateway API {versions.GATEWAY_API_VERSION} CRDs and Traefik {versions.TRAEFIK_VERSION} (Gateway and Ingress controller)",
            "gateway.yaml",
            "traefik",
            (Workload("Deployment", "traefik", "traefik"),),
            gateway_crds=True,
        ),
    )
}


def wanted(declared: list[str] | tuple[str, ...]) -> list[str]:
    """The add-ons a cluster for these declarations gets, in catalog order."""
    chosen = set(ALWAYS) | set(declared)
    unknown = chosen - set(ADDONS)
    if unknown:
        raise ValueError(f"unknown add-on(s): {', '.join(sorted(unknown))}")
    return [name for name in ADDONS if name in chosen]
