"""What `cka-lab offline prepare` builds: the default release always, another only when asked."""

from __future__ import annotations

import pytest

from lab import versions
from lab.errors import LabError
from lab.offline import gobuild, images, prepare
from lab.offline.steps import check_order

UPGRADE = versions.release(versions.UPGRADE_FROM_KUBERNETES_VERSION)


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CKA_LAB_HOME", str(tmp_path))
    monkeypatch.setattr(prepare.engine, "host_lacks_sys_resource", lambda: False)


def names(steps) -> list[str]:
    return [s.name for s in steps]


def test_the_default_plan_builds_helm_and_no_other_release() -> None:
    steps = prepare.plan()
    check_order(steps)
    assert "go-build-helm" in names(steps)
    assert not any(versions.UPGRADE_FROM_KUBERNETES_VERSION in n or n.startswith(("debs-", "apt-")) for n in names(steps))
    # the long build starts first, the debootstraps beside it
    assert names(steps)[1:4] == ["go-build-kubernetes", "rootfs-debian-base", "rootfs-node-rootfs"]


def test_kube_router_is_built_with_its_own_root_filesystem() -> None:
    from lab.offline import addons

    steps = {s.name: s for s in prepare.plan(addon_names=["gateway"])}
    image = steps[f"image-kube-router:{versions.KUBE_ROUTER_VERSION}"]
    assert image.after == ("go-build-kube-router", "rootfs-kube-router-base")
    assert steps["rootfs-kube-router-base"].after == (prepare.ENGINE,)
    # the other add-on images keep the Debian base
    assert steps[f"image-traefik:{versions.TRAEFIK_VERSION}"].after == ("go-build-traefik", prepare.BASE_ROOTFS)
    (recipe,) = [r for r in addons.image_recipes(prepare.bin_dir()) if "kube-router" in r.tags[0]]
    assert recipe.tags == (f"docker.io/cloudnativelabs/kube-router:{versions.KUBE_ROUTER_VERSION}",)
    assert recipe.dockerfile.startswith(f"FROM {addons.KUBE_ROUTER_BASE}\n")
    assert "RUN /iptables-wrapper-installer.sh\n" in recipe.dockerfile
    assert {"iptables", "ipset"} <= set(addons.ROOTFS[addons.KUBE_ROUTER_BASE])
    (build,) = [b for b in addons.builds() if b.name == "kube-router"]
    assert build.packages == ("github.com/cloudnativelabs/kube-router/v2/cmd/kube-router",)
    assert "kube-router" not in addons.OWN_TREE  # its go.mod has no replace or exclude directive


def test_the_upgrade_release_adds_its_builds_images_packages_and_node_image() -> None:
    steps = prepare.plan([UPGRADE])
    check_order(steps)
    added = names(steps)[len(prepare.plan()):]
    v = UPGRADE.kubernetes
    assert f"go-build-kubernetes-{v}" in added and f"node-image-{v}" in added
    assert {"debs-v1.34.0", f"debs-{v}", "apt-repository"} <= set(added)
    assert f"image-kube-apiserver:{v}" in added and "image-etcd:3.5.21-0" in added and "image-coredns:v1.12.0" in added
    assert not any(n.startswith("image-pause") for n in added)  # pause 3.10 is the default build's
    node = next(s for s in steps if s.name == f"node-image-{v}")
    assert "apt-repository" in node.after and "image-kube-apiserver:v1.34.0" in node.after


def test_a_release_builds_into_its_own_bin_dir() -> None:
    assert prepare.bin_dir(UPGRADE.kubernetes) != prepare.bin_dir()
    assert UPGRADE.kubernetes in str(prepare.bin_dir(UPGRADE.kubernetes))


def test_the_staging_modules_follow_the_release() -> None:
    build = gobuild.kubernetes_build(UPGRADE.kubernetes)
    assert build.name == f"kubernetes-{UPGRADE.kubernetes}" and build.version == UPGRADE.kubernetes
    assert dict(build.replaces)["k8s.io/client-go"] == "v0.33.4"
    assert f"gitVersion={UPGRADE.kubernetes}" in build.ldflags
    assert gobuild.kubernetes_build().inputs() == gobuild.kubernetes_build(versions.KUBERNETES_VERSION).inputs()
    assert gobuild.kubernetes_build().name == "kubernetes"  # the default build's cache stays valid


def test_the_release_images_are_what_its_kubeadm_lists(tmp_path) -> None:
    tags = [t for r in images.component_images(tmp_path, UPGRADE) for t in r.tags]
    assert "registry.k8s.io/etcd:3.5.21-0" in tags and "registry.k8s.io/coredns/coredns:v1.12.0" in tags
    assert "registry.k8s.io/pause:3.10" in tags and f"registry.k8s.io/kube-proxy:{UPGRADE.kubernetes}" in tags
    default = [t for r in images.component_images(tmp_path) for t in r.tags]
    assert "registry.k8s.io/pause:3.10.1" in default and "registry.k8s.io/pause:3.10" in default


def test_releases_asked_for() -> None:
    assert prepare.extra_releases(all_releases=True) == [UPGRADE]
    assert prepare.extra_releases([versions.KUBERNETES_VERSION]) == []
    with pytest.raises(LabError, match="v1.99.0"):
        prepare.extra_releases(["v1.99.0"])


def test_an_on_demand_build_without_root_says_what_to_run(monkeypatch) -> None:
    monkeypatch.setattr(prepare.os, "geteuid", lambda: 1000)
    with pytest.raises(LabError) as raised:
        prepare.prepare_release_for(UPGRADE.kubernetes, lambda _: None)
    assert f"cka-lab offline prepare --release {UPGRADE.kubernetes}" in (raised.value.hint or "")


def test_progress_lines_of_a_console() -> None:
    lines: list[str] = []
    sink = prepare._Lines(lines.append)
    sink.write("[1/2] a: done")
    sink.write(" in 3s\n[2/2] b: cached\n")
    assert lines == ["[1/2] a: done in 3s", "[2/2] b: cached"]


def test_another_etcd_release_writes_its_wrapper_main_where_its_package_is(monkeypatch, tmp_path) -> None:
    commands = []
    monkeypatch.setattr(gobuild, "go_binary", lambda: "/usr/bin/go")
    monkeypatch.setattr(gobuild, "run_build", lambda argv, **_: commands.append(argv))
    spec = gobuild.etcd_builds(UPGRADE.etcd)[0]
    assert spec.name == f"etcd-{UPGRADE.etcd}"
    gobuild.build(spec, tmp_path / "work", tmp_path / "bin")
    assert (tmp_path / "work" / spec.name / "cmd" / "etcd" / "main.go").exists()
    assert commands[-1][-1] == "./cmd/etcd"
    assert f"require go.etcd.io/etcd/server/v3 {UPGRADE.etcd}" in (tmp_path / "work" / spec.name / "go.mod").read_text()


def test_the_default_plan_builds_only_the_always_on_addons() -> None:
    built = names(prepare.plan())
    assert {"go-build-kube-router", "go-build-local-path-provisioner"} <= set(built)
    assert not {"go-build-traefik", "go-build-metrics-server", "gateway-api-crds"} & set(built)


def test_an_addon_asked_for_adds_its_build_image_and_crds() -> None:
    steps = prepare.plan(addon_names=["gateway"])
    check_order(steps)
    added = set(names(steps)) - set(names(prepare.plan()))
    assert added == {"go-build-traefik", f"image-traefik:{versions.TRAEFIK_VERSION}", "gateway-api-crds"}


def test_addons_asked_for() -> None:
    assert prepare.extra_addons(["gateway", "storage", "gateway"]) == ["gateway"]
    assert set(prepare.extra_addons(all_addons=True)) == {"metrics-server", "gateway"}
    with pytest.raises(LabError, match="no add-on ingress") as raised:
        prepare.extra_addons(["ingress"])
    assert "gateway" in (raised.value.hint or "")


def test_an_on_demand_addon_build_without_root_says_what_to_run(monkeypatch) -> None:
    monkeypatch.setattr(prepare.os, "geteuid", lambda: 1000)
    with pytest.raises(LabError) as raised:
        prepare.prepare_addons_for(["metrics-server"], lambda _: None)
    assert "cka-lab offline prepare --addon metrics-server" in (raised.value.hint or "")


def test_a_built_tool_counts_as_present_under_the_name_go_gives_it() -> None:
    from lab.offline import gobuild
    from lab.offline.prepare import _binaries

    # a major-version suffix is no binary name: a step looking for `v12` rebuilt vegeta every run
    assert _binaries(gobuild.vegeta_build()) == ["vegeta"]
    assert _binaries(gobuild.helm_build()) == ["helm"]


def test_the_node_image_preloads_the_always_on_addon_images(monkeypatch) -> None:
    # a cold start spent 24 s of 81 s loading them into the nodes
    monkeypatch.setattr(prepare, "_image_id", lambda image: f"id-of:{image}")
    monkeypatch.setattr(prepare, "file_digest", lambda path: "digest")
    steps = prepare.plan(releases=[UPGRADE], addon_names=["gateway"])
    check_order(steps)
    by_name = {s.name: s for s in steps}
    node = by_name["node-image"]
    preload = node.inputs()["preload"]
    for image in ("kindnetd", "local-path-provisioner", "kube-router"):  # kind's CNI, and network-policy where it cannot
        assert any(f"/{image}:" in p for p in preload), (image, preload)
        assert any(a.startswith(f"image-{image}:") for a in node.after)
    assert not any("traefik" in p for p in preload)
    # the long on-demand build does not hold the node image up; the older release loads them at start
    assert names(steps).index("go-build-traefik") > names(steps).index("node-image")
    upgrade = by_name[f"node-image-{UPGRADE.kubernetes}"].inputs()["preload"]
    assert not any("local-path-provisioner" in p for p in upgrade)


def test_a_second_build_waits_for_the_first_then_finds_its_steps_done(monkeypatch) -> None:
    import io
    import threading

    from rich.console import Console

    from lab.lock import lock_for

    ran: list[str] = []
    monkeypatch.setattr(prepare, "plan", lambda *a, **k: [])
    monkeypatch.setattr(prepare, "run_steps", lambda steps, stamps, console: ran.append("steps") or {})
    monkeypatch.setattr(prepare.settings, "save", lambda values: None)
    holding, release = threading.Event(), threading.Event()

    def first_build() -> None:
        with lock_for(prepare.offline_dir()).hold("offline prepare"):
            holding.set()
            release.wait(10)
            ran.append("first done")

    first = threading.Thread(target=first_build)
    first.start()
    holding.wait(10)
    out = io.StringIO()
    second = threading.Thread(target=lambda: prepare.prepare(Console(file=out)))
    second.start()
    second.join(1.0)
    assert second.is_alive() and ran == []  # waiting, not building beside it
    assert "waiting for `cka-lab offline prepare`" in out.getvalue()
    release.set()
    first.join(10)
    second.join(10)
    assert ran == ["first done", "steps"]
