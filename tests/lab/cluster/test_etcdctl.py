"""The one etcdctl command line the checks and the etcd faults share."""

from __future__ import annotations

from lab.checks.controlplane import ETCDCTL
from lab.cluster.etcd import etcdctl_command


def test_etcdctl_runs_in_the_nodes_etcd_container_with_the_members_certificates() -> None:
    command = etcdctl_command("member list -w json", container="abc123", endpoint="https://10.0.0.3:2379")
    assert command.startswith("crictl --timeout 10s exec abc123 etcdctl --endpoints=https://10.0.0.3:2379 ")
    for flag in ("--cacert=/etc/kubernetes/pki/etcd/ca.crt", "--cert=/etc/kubernetes/pki/etcd/server.crt",
                 "--key=/etc/kubernetes/pki/etcd/server.key", "--command-timeout=5s"):
        assert flag in command
    assert command.endswith(" member list -w json")


def test_the_health_check_asks_the_running_container_of_the_node_it_runs_on() -> None:
    assert ETCDCTL.startswith("crictl --timeout 10s exec $(crictl --timeout 10s ps -q --state running --name '^etcd$' | head -1) etcdctl "
                              "--endpoints=https://127.0.0.1:2379 ")
    assert "--command-timeout=3s" in ETCDCTL and ETCDCTL.endswith(" endpoint health --cluster")
