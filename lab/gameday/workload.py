"""The service a game day keeps up: a small web Deployment behind a Service, in a namespace of
its own, and what the game day itself occupies, so that no fault drawn for it takes away the
service's own objects or the node the traffic generator runs on."""

from __future__ import annotations

from typing import Any

from lab.exam.blueprint import Candidate, compatible

NAMESPACE = "gameday"
NAME = "web"
IMAGE = "busybox:1.36"
"""The image the catalog's workloads use already (built offline like them)."""
REPLICAS = 2
PORT = 80
CLUSTER_DNS = ("kube-dns", "kube-system")
"""The cluster DNS Service (name, namespace) the traffic generator resolves the service's name at."""
LOAD_NODE = "control-plane"
"""Where the traffic generator runs: in the node's own network namespace, through the Service's
name and ClusterIP as any client in the cluster would, and outside every pod, so that neither an API
fault nor a fault on the worker stops the measurement."""

OWN = Candidate(
    scenario="(game day)",
    variant=None,
    domain="",
    points=0,
    breaks=frozenset({f"namespace:{NAMESPACE}", f"object:{NAMESPACE}/Deployment/{NAME}",
                      f"object:{NAMESPACE}/Service/{NAME}"}),
    needs=frozenset({f"node:{LOAD_NODE}"}),
)
"""The game day as a task of its own in the blueprint's terms: it owns its namespace and objects
and needs its traffic generator's node intact."""


def url() -> str:
    """The service as its clients reach it: by its cluster DNS name."""
    return f"http://{NAME}.{NAMESPACE}.svc.cluster.local:{PORT}/"


def fits(candidate: Candidate) -> bool:
    """The fault can run during a game day without breaking the measurement itself."""
    return compatible(candidate, OWN)


def manifests() -> list[dict[str, Any]]:
    labels = {"app": NAME, "app.kubernetes.io/part-of": "cka-lab-gameday"}
    # busybox's httpd serves a one-line page; the readiness probe keeps a pod that stopped
    # answering out of the Service's endpoints, as a real service's would
    serve = "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
            "spec": {
                "replicas": REPLICAS,
                "selector": {"matchLabels": {"app": NAME}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "terminationGracePeriodSeconds": 2,
                        "containers": [{
                            "name": "web",
                            "image": IMAGE,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["sh", "-c", serve],
                            "ports": [{"containerPort": 8080}],
                            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 2},
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
            "spec": {"selector": {"app": NAME}, "ports": [{"port": PORT, "targetPort": 8080}]},
        },
    ]
