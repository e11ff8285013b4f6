"""Checks on Helm releases, read with the helm on the control-plane node, as the trainee does."""

from __future__ import annotations

import json
import shlex
from typing import Annotated, Literal

from pydantic import Field

from lab.actions.helm import HELM, NamespaceName, ReleaseName, ensure_helm
from lab.checks.result import CheckResult
from lab.params import NodeName
from lab.registry import CHECKS


@CHECKS.register("helm-release-status")
def helm_release_status(
    ctx,
    release: ReleaseName,
    namespace: NamespaceName,
    status: Literal["deployed", "failed", "pending-install", "pending-upgrade", "superseded", "uninstalled"] = "deployed",
    min_revision: Annotated[int, Field(ge=1, le=1000)] = 1,
    node: NodeName = "control-plane",
) -> CheckResult:
    """The release's current revision has `status` (`helm status`), and the release has at
    least `min_revision` revisions (a rollback adds one)."""
    target = ctx.node(node)
    ensure_helm(target)
    out = target.sh(
        f"{HELM} status {shlex.quote(release)} --namespace {shlex.quote(namespace)} -o json", check=False, timeout=30
    )
    if out.returncode != 0:
        return CheckResult(False, f"no Helm release {release} in namespace {namespace}")
    info = json.loads(out.stdout)
    current, revision = info.get("info", {}).get("status"), int(info.get("version", 0))
    if current != status:
        return CheckResult(False, f"Helm release {release} is {current} (revision {revision})")
    if revision < min_revision:
        return CheckResult(False, f"Helm release {release} is at revision {revision}, expected {min_revision} or later")
    return CheckResult(True, f"Helm release {release} is {current} (revision {revision})")
