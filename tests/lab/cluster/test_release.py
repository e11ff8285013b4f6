"""Which node image a release runs, and whether the lab cluster serves a scenario's release."""

from __future__ import annotations

import pytest

from lab import settings, versions
from lab.cluster.lab_cluster import image_release, kubelet_version, release_mismatch
from lab.scenario.models import Cluster

UPGRADE = versions.UPGRADE_FROM_KUBERNETES_VERSION


def test_online_each_release_runs_its_official_image() -> None:
    s = settings.Settings()
    assert s.node_image_for(None) == versions.OFFICIAL_NODE_IMAGE
    assert s.node_image_for(versions.KUBERNETES_VERSION) == versions.OFFICIAL_NODE_IMAGE
    assert s.node_image_for(UPGRADE) == versions.UPGRADE_FROM_OFFICIAL_NODE_IMAGE
    assert not s.is_offline()


def test_offline_the_built_images_are_used() -> None:
    s = settings.Settings(node_image="cka-lab/node:v1.34.0", node_images={UPGRADE: f"cka-lab/node:{UPGRADE}"})
    assert s.node_image_for(None) == "cka-lab/node:v1.34.0"
    assert s.node_image_for(UPGRADE) == f"cka-lab/node:{UPGRADE}"
    assert s.is_offline()


def test_the_release_images_survive_the_settings_file(tmp_path) -> None:
    path = tmp_path / "config.toml"
    settings.save({"node_image": "cka-lab/node:v1.34.0", "node_images": {UPGRADE: f"cka-lab/node:{UPGRADE}"}}, path)
    settings.save({"kind_binary": "/opt/kind"}, path)
    loaded = settings.load(path)
    assert loaded.node_images == {UPGRADE: f"cka-lab/node:{UPGRADE}"} and loaded.kind_binary == "/opt/kind"


def test_a_scenario_names_only_a_pinned_release() -> None:
    assert Cluster().kubernetes is None
    assert Cluster(kubernetes=UPGRADE).kubernetes == UPGRADE
    with pytest.raises(ValueError, match="pinned"):
        Cluster(kubernetes="v1.29.0")


@pytest.mark.parametrize(
    ("output", "version"),
    [("Kubernetes v1.34.0\n", "v1.34.0"), ("", None), ("kubelet: not found", None)],
)
def test_kubelet_version(output: str, version: str | None) -> None:
    assert kubelet_version(output) == version


@pytest.mark.parametrize(
    ("image", "version"),
    [
        (versions.UPGRADE_FROM_OFFICIAL_NODE_IMAGE, "v1.33.4"),
        ("cka-lab/node:v1.34.0", "v1.34.0"),
        ("registry.local:5000/node", None),
        ("my/node:latest", None),
    ],
)
def test_image_release(image: str, version: str | None) -> None:
    assert image_release(image) == version


def test_release_decision() -> None:
    assert release_mismatch("v1.34.0", {"v1.34.0"}) is None
    assert release_mismatch("v1.34.0", {None}) is None  # a node image of one's own: reused
    assert release_mismatch(UPGRADE, {"v1.34.0"}) == (
        f"this scenario needs Kubernetes {UPGRADE}; the lab cluster runs v1.34.0"
    )
    # half upgraded by the trainee: re-created for the next upgrade scenario
    assert "runs v1.33.4 and v1.34.0" in release_mismatch(UPGRADE, {"v1.33.4", "v1.34.0"})
