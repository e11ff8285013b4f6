"""Waiting for a node container started again to boot: its systemd done starting, its runtime
and kubelet active where enabled (a unit a fault disabled is left to that fault's undo)."""

from __future__ import annotations

import subprocess

import pytest

from lab.cluster.node import NodeUnreachable, wait_until_booted
from lab.errors import TimedOut


class BootingNode:
    """A stand-in node answering systemctl from a script of states, one poll at a time."""

    short_name = "worker"

    def __init__(self, system: list[str], units: dict[str, list[tuple[str, str]]], unreachable: int = 0):
        self.system = system
        self.units = units
        self.unreachable = unreachable
        self.polls = 0

    def run(self, argv: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        if self.unreachable:
            self.unreachable -= 1
            raise NodeUnreachable("docker exec failed: container is restarting")
        if argv[1] == "is-system-running":
            self.polls += 1
            state = self.system[min(self.polls - 1, len(self.system) - 1)]
            return subprocess.CompletedProcess(argv, 0, state + "\n", "")
        states = self.units[argv[2]]
        active, enabled = states[min(self.polls - 1, len(states) - 1)]
        return subprocess.CompletedProcess(argv, 0, (active if argv[1] == "is-active" else enabled) + "\n", "")


def test_it_waits_for_the_boot_and_the_kubelet_to_come_up() -> None:
    node = BootingNode(["starting", "starting", "running"],
                       {"containerd": [("active", "enabled")],
                        "kubelet": [("inactive", "enabled"), ("inactive", "enabled"), ("activating", "enabled"),
                                    ("active", "enabled")]},
                       unreachable=1)
    wait_until_booted(node, timeout=30)  # type: ignore[arg-type]
    assert node.polls == 4


def test_a_unit_a_fault_disabled_is_not_waited_for() -> None:
    node = BootingNode(["degraded"], {"containerd": [("active", "enabled")], "kubelet": [("inactive", "disabled")]})
    wait_until_booted(node, timeout=30)  # type: ignore[arg-type]
    assert node.polls == 1


def test_a_kubelet_that_never_comes_up_is_named() -> None:
    node = BootingNode(["running"], {"containerd": [("active", "enabled")], "kubelet": [("failed", "enabled")]})
    with pytest.raises(TimedOut, match="kubelet not active yet"):
        wait_until_booted(node, timeout=2)  # type: ignore[arg-type]
