"""Which node leads: the holder of the kube-scheduler and kube-controller-manager Leases."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lab.cluster.leases import holder_node, lease_holders, pick_lease_holder
from lab.errors import LabError


def test_the_node_is_the_identity_before_its_uuid() -> None:
    assert holder_node("cka-ha-control-plane2_0d4c7c5e-8f8a-4b7e-9d1e-1b2c3d4e5f60") == "cka-ha-control-plane2"
    assert holder_node(None) is None and holder_node("") is None


def test_the_schedulers_holder_decides_when_the_leases_differ() -> None:
    assert pick_lease_holder({"kube-scheduler": "cp3", "kube-controller-manager": "cp2"}) == "cp3"
    assert pick_lease_holder({"kube-scheduler": None, "kube-controller-manager": "cp2"}) == "cp2"


def test_nobody_leading_is_an_error_with_a_command() -> None:
    with pytest.raises(LabError) as exc:
        pick_lease_holder({"kube-scheduler": None, "kube-controller-manager": None})
    assert "get lease" in exc.value.hint


def test_lease_holders_reads_both_leases_in_kube_system() -> None:
    read: list[tuple[str, str]] = []

    class Coordination:
        def read_namespaced_lease(self, name, namespace):
            read.append((name, namespace))
            return SimpleNamespace(spec=SimpleNamespace(holder_identity=f"node-{name}_abc"))

    assert lease_holders(Coordination()) == {
        "kube-scheduler": "node-kube-scheduler",
        "kube-controller-manager": "node-kube-controller-manager",
    }
    assert {ns for _, ns in read} == {"kube-system"}
