"""A worker's membership of the cluster: take it out the way an administrator would (`kubectl
delete node`, `kubeadm reset` on the node) and hand out a join command, for the lifecycle
tasks that join nodes with kubeadm. Reset joins a worker again the way kind joined it."""

from __future__ import annotations

import re
import secrets
import shlex
import string
from typing import Annotated

from pydantic import Field

from lab.errors import CommandError, LabError, TimedOut, UndoFailed
from lab.ledger import MembershipState
from lab.params import NodeName, NodePath
from lab.registry import FAULTS
from lab.wait import Pending, wait_until

KIND_JOIN_CONFIG = "/kind/kubeadm.conf"
"""The kubeadm configuration kind wrote on every node; its JoinConfiguration joined the worker."""
ADMIN_KUBECONFIG = "/etc/kubernetes/admin.conf"
CA_HASH_SCRIPT = (
    "openssl x509 -pubkey -noout -in /etc/kubernetes/pki/ca.crt"
    " | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1"
)
"""The CA certificate's public key hash, computed the way kubeadm's documentation shows."""

BootstrapToken = Annotated[str, Field(pattern=r"^[a-z0-9]{6}\.[a-z0-9]{16}$")]
"""A bootstrap token, `<6 characters>.<16 characters>` of lower-case letters and digits."""
CaCertHash = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]


def _control_plane(ctx):
    return next(n for n in ctx.cluster.nodes() if n.role == "control-plane")


def _node_object_exists(ctx, name: str) -> bool:
    from kubernetes.client.exceptions import ApiException

    try:
        ctx.core.read_node(name)
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


def is_member(ctx, node) -> bool:
    """The node has a Node object and its kubelet has credentials (kubeadm reset removes them)."""
    has_kubeconfig = node.run(["test", "-s", "/etc/kubernetes/kubelet.conf"], check=False).returncode == 0
    return has_kubeconfig and _node_object_exists(ctx, node.container)


@FAULTS.register("reset-node")
def reset_node(ctx, node: NodeName) -> None:
    """Take a worker out of the cluster as `kubectl delete node` and `kubeadm reset` on the
    node do: the container keeps running, but its kubelet has no credentials and the cluster
    no Node object, as a machine that was never joined. Reset joins it again."""
    target = ctx.node(node)
    if target.role == "control-plane":
        raise LabError(f"reset-node takes workers only; {node} is a control-plane node", title="Fault cannot apply")
    if not is_member(ctx, target):
        raise LabError(f"node {node} is not a member of the cluster", title="Fault cannot apply")
    from lab.actions.objects import clean_manifest

    node_object = ctx.api.sanitize_for_serialization(ctx.core.read_node(target.container))
    ctx.ledger.record(MembershipState(node=target.short_name, node_manifest=clean_manifest(node_object)))
    from kubernetes.client.exceptions import ApiException

    try:
        ctx.core.delete_node(target.container)
    except ApiException as exc:
        if exc.status != 404:
            raise
    target.run(["kubeadm", "reset", "--force"], timeout=180)
    try:
        wait_until(
            lambda: not _node_object_exists(ctx, target.container) or Pending("the Node object is still there"),
            timeout=60,
            what=f"node {node} to leave the cluster",
        )
    except TimedOut as exc:
        raise LabError(exc.message, title="Fault did not take") from None


def join_like_kind(ctx, entry: MembershipState) -> None:
    """Undo of reset-node: join the worker again exactly as kind joined it, also when the
    trainee joined it already (their join has other kubelet flags, and the new Node another pod
    CIDR): reset it, put its recorded Node object back (pod CIDR, provider id), and join with
    kind's own join configuration, its bootstrap token made valid again first."""
    node = ctx.node(entry.node)
    config = node.run(["cat", KIND_JOIN_CONFIG]).stdout
    match = re.search(r"token:\s*\"?([a-z0-9]{6})\.([a-z0-9]{16})", config)
    if not match:
        raise UndoFailed(f"{KIND_JOIN_CONFIG} on {entry.node} names no bootstrap token; join it by hand")
    token = f"{match.group(1)}.{match.group(2)}"
    control_plane = _control_plane(ctx)
    kubeadm = f"kubeadm --kubeconfig {ADMIN_KUBECONFIG}"
    control_plane.sh(
        f"{kubeadm} token delete {match.group(1)} >/dev/null 2>&1; {kubeadm} token create {token} --ttl 30m >/dev/null"
    )
    # whatever the trainee joined (or half-joined) is cleaned first, as kubeadm asks
    node.run(["kubeadm", "reset", "--force"], timeout=180)
    _put_back_node_object(ctx, node, entry.node_manifest)
    node.run(["kubeadm", "join", "--config", KIND_JOIN_CONFIG, "--skip-phases=preflight"], timeout=300)
    try:
        wait_until(
            lambda: is_member(ctx, node) or Pending("not registered yet"),
            timeout=120,
            what=f"node {entry.node} to join the cluster again",
        )
    except TimedOut as exc:
        raise UndoFailed(exc.message) from None


def _put_back_node_object(ctx, node, manifest: dict | None) -> None:
    from kubernetes.client.exceptions import ApiException

    try:
        ctx.core.delete_node(node.container)
    except ApiException as exc:
        if exc.status != 404:
            raise
    wait_until(lambda: not _node_object_exists(ctx, node.container) or Pending("still there"), timeout=60,
               what=f"the Node object of {node.short_name} to go")
    if manifest is not None:
        ctx.core.create_node(manifest)


def _random_token() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(6)) + "." + "".join(secrets.choice(alphabet) for _ in range(16))


def _bootstrap_token_secret(token: str) -> dict:
    token_id, _, token_secret = token.partition(".")
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"bootstrap-token-{token_id}", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "stringData": {
            "token-id": token_id,
            "token-secret": token_secret,
            "usage-bootstrap-authentication": "true",
            "usage-bootstrap-signing": "true",
            "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
            "description": "join command handed out by the lab",
        },
    }


def control_plane_endpoint(ctx) -> str:
    """host:port the nodes join at (the kubeadm ClusterConfiguration's controlPlaneEndpoint)."""
    import yaml

    config = ctx.core.read_namespaced_config_map("kubeadm-config", "kube-system").data["ClusterConfiguration"]
    endpoint = (yaml.safe_load(config) or {}).get("controlPlaneEndpoint")
    if not endpoint:
        raise LabError("the kubeadm-config ConfigMap names no controlPlaneEndpoint", title="Fault cannot apply")
    return endpoint


@FAULTS.register("write-join-command")
def write_join_command(
    ctx,
    node: NodeName,
    path: NodePath,
    token: BootstrapToken | None = None,
    ca_cert_hash: CaCertHash | None = None,
) -> None:
    """Write a `kubeadm join` command for this cluster into a file on the node, as an
    instructor hands one out: the real control-plane endpoint, the CA certificate's real hash
    unless `ca_cert_hash` gives another (a wrong one), and `token` as given (say, one that no
    longer exists) or a fresh bootstrap token, which reset deletes again like the file."""
    from lab.actions.files import record_file
    from lab.actions.objects import _placement, _server_side_apply, record_object
    from lab.cluster.node import write_file

    target = ctx.node(node)
    if token is None:
        token = _random_token()
        secret = _bootstrap_token_secret(token)
        resource, namespace = _placement(ctx, secret)
        record_object(ctx, "v1", "Secret", secret["metadata"]["name"], namespace)
        _server_side_apply(resource, secret, namespace)
    if ca_cert_hash is None:
        digest = _control_plane(ctx).sh(CA_HASH_SCRIPT).stdout.strip()
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise CommandError(["sh", "-c", CA_HASH_SCRIPT], 0, digest, context="hashing the cluster CA's public key")
        ca_cert_hash = f"sha256:{digest}"
    command = (
        f"kubeadm join {shlex.quote(control_plane_endpoint(ctx))} --token {token} "
        f"--discovery-token-ca-cert-hash {ca_cert_hash}\n"
    )
    record_file(ctx, target, path, ())
    write_file(target, path, command.encode(), 0o600)



@FAULTS.register("join-node", solution_only=True)
def join_node(ctx, node: NodeName) -> None:
    """Join a worker as a trainee would: `kubeadm token create --print-join-command` on the
    control plane, then that command on the node (with --ignore-preflight-errors=all, since lab
    nodes are containers). For reference solutions: the token it makes is not recorded."""
    target = ctx.node(node)
    command = _control_plane(ctx).sh(f"kubeadm --kubeconfig {ADMIN_KUBECONFIG} token create --print-join-command").stdout
    argv = shlex.split(command.strip())
    if argv[:2] != ["kubeadm", "join"]:
        raise LabError(f"kubeadm printed no join command: {command.strip()[:200]}", title="Join failed")
    target.run([*argv, "--ignore-preflight-errors=all"], timeout=300)
