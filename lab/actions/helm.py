"""Helm releases, installed with the helm on the control-plane node (where the trainee runs it),
each in a namespace of its own: Helm keeps a release's history as Secrets in its namespace, so
reset, which deletes the namespace, removes the release with every revision."""

from __future__ import annotations

import shlex
from typing import Annotated

from pydantic import Field

from lab.actions.objects import record_object
from lab.errors import LabError
from lab.params import NodeName, NodePath
from lab.registry import FAULTS

ReleaseName = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", max_length=53)]
NamespaceName = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", max_length=63)]
ValueKey = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\[\]-]+$", max_length=200)]
HELM = "helm --kubeconfig /etc/kubernetes/admin.conf"


def ensure_helm(node) -> None:
    """helm on the node (copied in where its image has none), before a Helm task uses it."""
    from lab.cluster.helmbin import ensure_helm_on_node

    ensure_helm_on_node(node)


def helm_command(release: str, chart: str, namespace: str, values: dict[str, str], wait: bool) -> str:
    """The `helm upgrade --install` command line (pure, for the tests)."""
    parts = [HELM, "upgrade", "--install", shlex.quote(release), shlex.quote(chart),
             "--namespace", shlex.quote(namespace), "--create-namespace"]
    for key, value in values.items():
        parts += ["--set-string", shlex.quote(f"{key}={value}")]
    if wait:
        parts += ["--wait", "--timeout", "120s"]
    return " ".join(parts)


@FAULTS.register("helm-release")
def helm_release(
    ctx,
    release: ReleaseName,
    chart: NodePath,
    namespace: NamespaceName,
    values: dict[ValueKey, str] = {},  # noqa: B006  (pydantic copies defaults)
    node: NodeName = "control-plane",
    wait: bool = False,
) -> None:
    """Install or upgrade a Helm release from a chart directory on the node (`helm upgrade
    --install … --set-string key=value`), as a revision of its history: two in a row make a
    release to roll back. The release's namespace is recorded first, so reset deletes it with
    the release; the chart's objects must all live in that namespace."""
    if namespace in ("default", "kube-system", "kube-public", "kube-node-lease"):
        raise LabError(f"helm-release needs a namespace of its own, not {namespace}", title="Fault cannot apply")
    record_object(ctx, "v1", "Namespace", namespace, None)
    target = ctx.node(node)
    ensure_helm(target)
    target.sh(helm_command(release, chart, namespace, values, wait), timeout=180)
