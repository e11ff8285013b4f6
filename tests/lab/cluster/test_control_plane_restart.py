"""The script that restarts static pods by stopping their containers, run by a real shell
against a crictl that answers like the node's: it stops exactly the running containers of the
components asked for, with the grace asked for, on control-plane nodes only."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lab.cluster.lab_cluster import LabCluster

CRICTL = """#!/bin/sh
# cka-lab gives every call its own connection timeout first
[ "$1 $2" = "--timeout 10s" ] || { echo "no --timeout 10s: $*" >&2; exit 9; }
shift 2
echo "$*" >> "$CRICTL_LOG"
case "$1" in
  ps) case "$*" in
        *'^kube-apiserver$'*) echo api1; echo api2 ;;
        *'^kube-scheduler$'*) echo sched1 ;;
      esac ;;
  stop) [ -n "$CRICTL_FAIL" ] && exit 1 ;;
esac
exit 0
"""


@dataclass
class ShellNode:
    role: str
    env: dict[str, str]
    short_name: str = "control-plane"
    scripts: list[str] = field(default_factory=list)

    def sh(self, script: str, *, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        self.scripts.append(script)
        return subprocess.run(["sh", "-c", script], env=self.env, check=check, timeout=timeout,
                              capture_output=True, text=True)


@pytest.fixture
def crictl(tmp_path: Path):
    binary = tmp_path / "bin" / "crictl"
    binary.parent.mkdir()
    binary.write_text(CRICTL)
    binary.chmod(0o755)
    log = tmp_path / "crictl.log"
    log.touch()
    env = {"PATH": f"{binary.parent}:/usr/bin:/bin", "CRICTL_LOG": str(log)}
    return env, log


def _cluster(nodes: list[ShellNode]) -> LabCluster:
    cluster = LabCluster.__new__(LabCluster)
    cluster.nodes = lambda: nodes  # type: ignore[method-assign]
    return cluster


def test_only_running_containers_of_the_named_components_are_stopped_with_the_grace(crictl) -> None:
    env, log = crictl
    control_plane, worker = ShellNode("control-plane", env), ShellNode("worker", env)
    _cluster([control_plane, worker]).stop_control_plane_containers(
        ["kube-apiserver", "kube-controller-manager", "kube-scheduler"], grace=0, check=True
    )
    calls = log.read_text().splitlines()
    assert calls == [
        "ps -q --state running --name ^kube-apiserver$",
        "stop --timeout 0 api1 api2",
        "ps -q --state running --name ^kube-controller-manager$",
        "ps -q --state running --name ^kube-scheduler$",
        "stop --timeout 0 sched1",
    ]
    assert worker.scripts == []


def test_a_failing_stop_raises_only_when_checked(crictl) -> None:
    env, _ = crictl
    node = ShellNode("control-plane", {**env, "CRICTL_FAIL": "1"})
    with pytest.raises(subprocess.CalledProcessError):  # the first component's failure, not the last's success
        _cluster([node]).stop_control_plane_containers(["kube-apiserver", "etcd"], grace=2, check=True)
    _cluster([node]).restart_api_servers()  # the health wait's restart never fails the wait
    assert node.scripts[-1].count("--timeout 2") == 1
