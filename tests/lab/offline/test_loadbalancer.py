"""kind's API load balancer image, built offline: its name, its inputs, when it is planned."""

from __future__ import annotations

import pytest

from lab import versions
from lab.offline import loadbalancer, prepare
from lab.offline.steps import check_order


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CKA_LAB_HOME", str(tmp_path))
    monkeypatch.setattr(prepare.engine, "host_lacks_sys_resource", lambda: False)


def test_the_image_has_the_name_compiled_into_the_pinned_kind() -> None:
    # kind v0.30.0: pkg/cluster/internal/loadbalancer/const.go
    assert versions.KIND_VERSION == "v0.30.0"
    assert loadbalancer.recipe().tags == ("kindest/haproxy:v20230606-42a2262b",)


def test_it_runs_haproxy_as_kind_drives_it() -> None:
    dockerfile = loadbalancer.recipe().dockerfile
    assert f"COPY haproxy.cfg {loadbalancer.CONFIG_PATH}" in dockerfile
    assert loadbalancer.CONFIG_PATH == "/usr/local/etc/haproxy/haproxy.cfg"  # where kind writes its config
    assert '"-W"' in dockerfile  # master-worker: PID 1 reloads on kind's SIGHUP
    assert "STOPSIGNAL SIGUSR1" in dockerfile
    assert "kill" not in loadbalancer.ROOTFS_PACKAGES and "procps" in loadbalancer.ROOTFS_PACKAGES


def test_the_initial_config_binds_the_api_port() -> None:
    assert "bind 0.0.0.0:6443" in loadbalancer.INITIAL_CONFIG.read_text()


def test_it_is_planned_only_when_asked_for() -> None:
    names = [s.name for s in prepare.plan()]
    assert "image-kind-loadbalancer" not in names and "rootfs-haproxy-rootfs" not in names
    steps = prepare.plan(with_loadbalancer=True)
    check_order(steps)
    by_name = {s.name: s for s in steps}
    assert by_name["rootfs-haproxy-rootfs"].inputs == {"image": loadbalancer.ROOTFS_IMAGE, "packages": ("haproxy", "procps")}
    assert by_name["image-kind-loadbalancer"].after == (prepare.ENGINE, "rootfs-haproxy-rootfs")


def test_the_image_step_is_rebuilt_when_its_base_or_config_changes(monkeypatch) -> None:
    ids = {"id": "sha256:1"}
    step = loadbalancer.image_step(prepare.offline_dir() / "work", "rootfs-haproxy-rootfs", lambda image: ids["id"])
    first = step.key()
    ids["id"] = "sha256:2"
    assert step.key() != first
