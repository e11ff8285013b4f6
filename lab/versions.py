"""Every pinned version lives here, so one edit moves the whole lab (and the offline build) together."""

KIND_VERSION = "v0.30.0"
"""The kind release cka-lab drives; its default node image is the one below."""

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

# --- cluster add-ons (lab/addons): what `cka-lab start` installs beside kind's own components.
KUBE_NETWORK_POLICIES_VERSION = "v0.8.0"
"""NetworkPolicy agent of offline clusters (nfqueue; what kind's kindnetd embeds for policy)."""
LOCAL_PATH_PROVISIONER_VERSION = "v0.0.30"
"""Dynamic provisioner behind the default StorageClass `standard` (what kind ships)."""
METRICS_SERVER_VERSION = "v0.8.0"
GATEWAY_API_VERSION = "v1.4.0"
"""Gateway API CRDs (standard channel): the version TRAEFIK_VERSION is built against."""
TRAEFIK_VERSION = "v3.6.12"
"""Gateway API and Ingress controller. Not 3.7: its module requires a nested module
(github.com/traefik/traefik/dynamic/ext) that neither its module zip nor the module proxy serves."""
