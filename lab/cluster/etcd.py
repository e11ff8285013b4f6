"""`etcdctl` as it runs on a kubeadm control-plane node: inside the node's etcd container (the
node itself has no etcdctl), with the member's own server certificate, as a trainee runs it."""

from __future__ import annotations

from lab.cluster.node import CRICTL_SHELL

LOCAL_ENDPOINT = "https://127.0.0.1:2379"
RUNNING_ETCD = f"$({CRICTL_SHELL} ps -q --state running --name '^etcd$' | head -1)"
"""Shell for the id of the node's running etcd container."""
_PKI = "/etc/kubernetes/pki/etcd"


def etcdctl_command(args: str, *, container: str = RUNNING_ETCD, endpoint: str = LOCAL_ENDPOINT,
                    command_timeout: str = "5s") -> str:
    """The shell command running `etcdctl <args>` in `container` (an id, or shell that names
    one) against `endpoint`."""
    return (
        f"{CRICTL_SHELL} exec {container} etcdctl --endpoints={endpoint} --cacert={_PKI}/ca.crt"
        f" --cert={_PKI}/server.crt --key={_PKI}/server.key --command-timeout={command_timeout} {args}"
    )
