"""Every pinned version lives here, so one edit moves the whole lab (and the offline build) together."""

from __future__ import annotations

from dataclasses import dataclass

KIND_VERSION = "v0.30.0"
"""The kind release cka-lab drives; its default node image is the one below."""
KIND_LOADBALANCER_IMAGE = "kindest/haproxy:v20230606-42a2262b"
"""The API load balancer image KIND_VERSION runs in front of several control-plane nodes (its
pkg/cluster/internal/loadbalancer.Image, compiled into kind: a cluster cannot choose another)."""
KINDNETD_IMAGE = "docker.io/kindest/kindnetd:v20250512-df8de77b"
"""kind's pod network daemon as KIND_VERSION's node images run it (pkg/build/nodeimage's
kindnetdImage); the offline build makes it from the same source, under the same name."""

KUBERNETES_VERSION = "v1.34.0"
"""Kubernetes of the lab cluster. 1.34 still runs on cgroup v1 hosts (1.35 refuses them by default)."""

OFFICIAL_NODE_IMAGE = (
    "kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a"
)
"""The node image published with KIND_VERSION for KUBERNETES_VERSION (digest from kind's own defaults)."""

# Components kubeadm v1.34.0 asks for (`kubeadm config images list`); the offline build makes them.
ETCD_VERSION = "v3.6.4"
ETCD_IMAGE_TAG = "3.6.4-0"
COREDNS_VERSION = "v1.12.1"
PAUSE_VERSION = "3.10.1"
CRICTL_VERSION = "v1.34.0"
DEBIAN_SUITE = "bookworm"

HELM_VERSION = "v3.19.5"
"""helm.sh/helm/v3 release put on the nodes (built against the v0.34 Kubernetes libraries)."""

VEGETA_VERSION = "v12.13.0"
"""github.com/tsenart/vegeta/v12 release the game day's traffic generator runs."""

UPGRADE_FROM_KUBERNETES_VERSION = "v1.33.4"
"""The release upgrade scenarios start from (one minor below KUBERNETES_VERSION). v1.33.4 is the
1.33 release kind KIND_VERSION published a node image for."""

UPGRADE_FROM_OFFICIAL_NODE_IMAGE = (
    "kindest/node:v1.33.4@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2"
)
"""The node image published with KIND_VERSION for UPGRADE_FROM_KUBERNETES_VERSION (its release notes)."""

DEB_REVISION = "1.1"
"""Debian revision of the Kubernetes packages, as the upstream package repository names them."""


@dataclass(frozen=True)
class Release:
    """One Kubernetes release the lab can run, with what its kubeadm asks for."""

    kubernetes: str
    official_node_image: str
    etcd: str
    """etcd module version (its image tag is `etcd_image_tag`)."""
    etcd_image_tag: str
    coredns: str
    pause: str

    @property
    def minor(self) -> str:
        """"v1.34" of "v1.34.0"."""
        return ".".join(self.kubernetes.split(".")[:2])

    @property
    def deb_version(self) -> str:
        """"1.34.0-1.1": the version the upstream package repository gives its packages."""
        return f"{self.kubernetes.lstrip('v')}-{DEB_REVISION}"

    @property
    def apt_source(self) -> str:
        """The upstream package repository line for this release's minor (online nodes)."""
        return (
            "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] "
            f"https://pkgs.k8s.io/core:/stable:/{self.minor}/deb/ /"
        )


RELEASES: dict[str, Release] = {
    KUBERNETES_VERSION: Release(
        KUBERNETES_VERSION, OFFICIAL_NODE_IMAGE, ETCD_VERSION, ETCD_IMAGE_TAG, COREDNS_VERSION, PAUSE_VERSION
    ),
    # `kubeadm config images list` of v1.33.4: etcd 3.5.21-0, coredns v1.12.0, pause 3.10
    UPGRADE_FROM_KUBERNETES_VERSION: Release(
        UPGRADE_FROM_KUBERNETES_VERSION, UPGRADE_FROM_OFFICIAL_NODE_IMAGE, "v3.5.21", "3.5.21-0", "v1.12.0", "3.10"
    ),
}
"""Every release a scenario may ask for; the first is the default."""

DEFAULT_RELEASE = RELEASES[KUBERNETES_VERSION]


def release(version: str | None) -> Release:
    """The pinned release `version` names (None: the default), or KeyError."""
    return RELEASES[version or KUBERNETES_VERSION]


# --- cluster add-ons (lab/addons): what `cka-lab start` installs beside kind's own components.
KUBE_ROUTER_VERSION = "v2.1.0"
"""NetworkPolicy agent of clusters whose kernel lacks nf_tables' queue expression (which
kindnetd's own agent, kube-network-policies, needs): kube-router's network policy controller
alone, enforcing with iptables and ipset (what k3s embeds). The only v2 release the module proxy
serves."""
LOCAL_PATH_PROVISIONER_VERSION = "v0.0.30"
"""Dynamic provisioner behind the default StorageClass `standard` (what kind ships)."""
METRICS_SERVER_VERSION = "v0.8.0"
GATEWAY_API_VERSION = "v1.4.0"
"""Gateway API CRDs (standard channel): the version TRAEFIK_VERSION is built against."""
TRAEFIK_VERSION = "v3.6.12"
"""Gateway API and Ingress controller. Not 3.7: its module requires a nested module
(github.com/traefik/traefik/dynamic/ext) that neither its module zip nor the module proxy serves."""
