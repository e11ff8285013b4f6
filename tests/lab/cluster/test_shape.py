"""The lab cluster's shape: one control-plane node, or three behind kind's API load balancer."""

from __future__ import annotations

import pytest
import yaml

from lab import settings
from lab.cluster import lab_cluster
from lab.cluster.lab_cluster import LOAD_BALANCER_ROLE, LabCluster, shape_mismatch
from lab.scenario.models import Cluster


def cluster(tmp_path, name: str = "cka-ha") -> LabCluster:
    return LabCluster(settings.Settings(cluster_name=name), tmp_path)


def roles(config: str) -> list[str]:
    return [node["role"] for node in yaml.safe_load(config.split("kubeadmConfigPatches:")[0])["nodes"]]


def test_the_default_shape_has_one_control_plane_node(tmp_path) -> None:
    assert roles(cluster(tmp_path).config_yaml(2)) == ["control-plane", "worker", "worker"]


def test_the_ha_shape_has_three_control_plane_nodes_and_keeps_the_kubeadm_patches(tmp_path) -> None:
    config = cluster(tmp_path).config_yaml(1, control_planes=3)
    assert roles(config) == ["control-plane"] * 3 + ["worker"]
    assert yaml.safe_load(config)["kubeadmConfigPatches"]  # the fast node monitor applies to every member


def test_two_control_plane_nodes_are_refused(tmp_path) -> None:
    # an even etcd membership loses its quorum with one member
    with pytest.raises(ValueError, match="control_planes"):
        cluster(tmp_path).config_yaml(1, control_planes=2)


def test_a_scenario_declares_one_or_three_control_plane_nodes() -> None:
    assert Cluster().control_planes == 1
    assert Cluster(control_planes=3).control_planes == 3
    with pytest.raises(ValueError):
        Cluster(control_planes=2)


def test_shape_mismatch_says_what_is_needed_and_what_is_there() -> None:
    assert shape_mismatch(3, 3) is None and shape_mismatch(1, 1) is None
    assert shape_mismatch(3, 1) == "this scenario needs 3 control-plane nodes; the lab cluster has 1 control-plane node"
    assert shape_mismatch(1, 3) == "this scenario needs 1 control-plane node; the lab cluster has 3 control-plane nodes"


def containers(*rows):
    return lambda self: list(rows)


HA = (
    ("cka-ha-control-plane", "control-plane", "c1"),
    ("cka-ha-control-plane2", "control-plane", "c2"),
    ("cka-ha-control-plane3", "control-plane", "c3"),
    ("cka-ha-external-load-balancer", LOAD_BALANCER_ROLE, "lb"),
    ("cka-ha-worker", "worker", "w1"),
)


def test_the_load_balancer_is_no_node_but_part_of_the_identity(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(LabCluster, "node_containers", containers(*HA))
    c = cluster(tmp_path)
    assert [n.short_name for n in c.nodes()] == ["control-plane", "control-plane2", "control-plane3", "worker"]
    assert c.control_plane_count() == 3
    assert "lb" in c.identity().containers
    assert c.node("control-plane3").container == "cka-ha-control-plane3"
    with pytest.raises(Exception, match="no node named 'external-load-balancer'"):
        c.node("external-load-balancer")


class Recorder:
    def __init__(self):
        self.calls: list[tuple] = []


def test_ensure_recreates_a_cluster_of_another_shape_and_says_why(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(LabCluster, "node_containers", containers(("cka-ha-control-plane", "control-plane", "c1"),
                                                                  ("cka-ha-worker", "worker", "w1")))
    monkeypatch.setattr(LabCluster, "assert_owned", lambda self: None)
    monkeypatch.setattr(LabCluster, "start_stopped_nodes", lambda self, progress: None)
    monkeypatch.setattr(LabCluster, "running_releases", lambda self: {lab_cluster.versions.KUBERNETES_VERSION})
    calls: list[tuple] = []
    monkeypatch.setattr(LabCluster, "delete", lambda self, progress: calls.append(("delete",)))
    monkeypatch.setattr(LabCluster, "create", lambda self, workers, progress, kubernetes, control_planes: calls.append(
        ("create", workers, control_planes)))
    lines: list[str] = []
    assert cluster(tmp_path).ensure(1, lines.append, None, control_planes=3) is True
    assert calls == [("delete",), ("create", 1, 3)]
    assert lines == ["this scenario needs 3 control-plane nodes; the lab cluster has 1 control-plane node: re-creating it"]


def test_ensure_reuses_a_cluster_of_the_same_shape(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(LabCluster, "node_containers", containers(*HA))
    monkeypatch.setattr(LabCluster, "assert_owned", lambda self: None)
    monkeypatch.setattr(LabCluster, "start_stopped_nodes", lambda self, progress: None)
    monkeypatch.setattr(LabCluster, "running_releases", lambda self: {lab_cluster.versions.KUBERNETES_VERSION})
    monkeypatch.setattr(LabCluster, "refresh_kubeconfig", lambda self: None)
    monkeypatch.setattr(LabCluster, "create", lambda *a, **k: pytest.fail("must not re-create"))
    assert cluster(tmp_path).ensure(1, lambda _: None, None, control_planes=3) is False
