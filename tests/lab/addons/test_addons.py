"""Add-ons without a cluster: the manifests render with the pinned images, the install decision,
the record tied to the cluster's node containers, the Gateway API CRDs out of a module tree."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from lab import versions
from lab.addons import crds
from lab.addons.catalog import ADDONS, ALWAYS, BUSYBOX, images, wanted
from lab.addons.install import Observed, builtin, plan, read_record, write_record
from lab.scenario.models import Cluster, Scenario

KINDNETD = versions.KINDNETD_IMAGE
OFFLINE = Observed(kindnet_image=KINDNETD, standard_provisioner="kubernetes.io/host-path", nft_queue=False)
"""An offline node image (kind's kindnetd built here, kind's legacy host-path class) on a kernel
without nf_tables' queue expression, as on the development machine."""
KIND = Observed(kindnet_image=KINDNETD, standard_provisioner="rancher.io/local-path",
               local_path_image="docker.io/kindest/local-path-provisioner:v20250214-acbabc1a", nft_queue=True)


def digests() -> dict[str, str]:
    return {name: addon.digest() for name, addon in ADDONS.items()}


def test_the_scenario_field_names_exactly_the_catalog() -> None:
    (literal,) = get_args(Cluster.model_fields["addons"].annotation)
    assert set(get_args(literal)) == set(ADDONS)


def test_a_scenario_declares_addons_and_rejects_unknown_ones() -> None:
    base = {"id": "x", "title": "t", "summary": "s", "domain": "Storage", "difficulty": "easy",
            "steps": [{"title": "a", "task": "b", "solution": "c", "checks": [{"type": "node-ready", "node": "worker"}]}]}
    scenario = Scenario.model_validate({**base, "cluster": {"addons": ["metrics-server", "gateway"]}})
    assert scenario.cluster.addons == ["metrics-server", "gateway"]
    assert Scenario.model_validate(base).cluster.addons == []
    with pytest.raises(ValueError, match="addons"):
        Scenario.model_validate({**base, "cluster": {"addons": ["istio"]}})


@pytest.mark.parametrize("addon", ADDONS.values(), ids=lambda a: f"{a.name}:{a.manifest}")
def test_every_manifest_renders_with_the_pinned_images(addon) -> None:
    documents = addon.documents()
    text = repr(documents)
    assert "${" not in text
    for doc in documents:
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"]
    containers = [c for d in documents if d["kind"] in ("Deployment", "DaemonSet")
                  for c in d["spec"]["template"]["spec"]["containers"]]
    assert [c["image"] for c in containers] == [images()[addon.image]]
    for workload in addon.workloads:
        assert any(d["kind"] == workload.kind and d["metadata"]["name"] == workload.name
                   and d["metadata"]["namespace"] == workload.namespace for d in documents)


def test_manifest_details_the_lab_depends_on() -> None:
    storage = {d["kind"]: d for d in ADDONS["storage"].documents()}
    assert storage["StorageClass"]["metadata"]["name"] == "standard"
    assert storage["StorageClass"]["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert storage["StorageClass"]["provisioner"] == "rancher.io/local-path"
    assert 'mkdir -m 0777 -p "$VOL_DIR"' in storage["ConfigMap"]["data"]["setup"]
    assert BUSYBOX in storage["ConfigMap"]["data"]["helperPod.yaml"]
    assert BUSYBOX in ADDONS["storage"].image_names()
    metrics = next(d for d in ADDONS["metrics-server"].documents() if d["kind"] == "Deployment")
    args = metrics["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--kubelet-insecure-tls" in args and "--kubelet-preferred-address-types=InternalIP" in args
    assert images()["metrics-server"] == f"registry.k8s.io/metrics-server/metrics-server:{versions.METRICS_SERVER_VERSION}"


def test_kube_router_runs_only_its_policy_controller_on_every_node() -> None:
    documents = {d["kind"]: d for d in ADDONS["network-policy"].documents()}
    pod = documents["DaemonSet"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert {"--run-firewall=true", "--run-router=false", "--run-service-proxy=false", "--enable-cni=false"} <= set(container["args"])
    assert container["image"] == f"docker.io/cloudnativelabs/kube-router:{versions.KUBE_ROUTER_VERSION}"
    assert pod["hostNetwork"] and container["securityContext"]["privileged"]
    assert pod["tolerations"] == [{"operator": "Exists"}]  # the control plane's pods are protected too
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/lib/modules", "/run/xtables.lock"}
    assert pod["serviceAccountName"] == documents["ServiceAccount"]["metadata"]["name"]
    granted = {(g, r) for rule in documents["ClusterRole"]["rules"] for g in rule["apiGroups"] for r in rule["resources"]
               if {"list", "watch"} <= set(rule["verbs"])}
    # the informers kube-router's controllers start, all of which must sync before it enforces
    assert granted >= {("", "namespaces"), ("", "pods"), ("", "services"), ("", "nodes"), ("", "endpoints"),
                       ("discovery.k8s.io", "endpointslices"), ("networking.k8s.io", "networkpolicies")}


def test_kindnetd_enforces_policies_itself_only_where_the_kernel_lets_it() -> None:
    assert builtin("network-policy", KIND)
    assert not builtin("network-policy", OFFLINE)  # kube-router instead
    assert not builtin("network-policy", Observed(kindnet_image=KINDNETD))  # the kernel was not probed
    # another pod network (a node image of one's own): kube-router, whatever the kernel
    assert not builtin("network-policy", Observed(kindnet_image="example/podnet:v1", nft_queue=True))


def test_wanted_adds_the_always_on_addons_in_catalog_order() -> None:
    assert wanted([]) == list(ALWAYS)
    assert wanted(["gateway", "metrics-server", "storage"]) == ["network-policy", "storage", "metrics-server", "gateway"]
    with pytest.raises(ValueError):
        wanted(["nope"])


def test_offline_cluster_gets_everything_and_the_legacy_class_replaced() -> None:
    decided = plan(["metrics-server"], OFFLINE, {}, digests())
    assert decided.apply == ["network-policy", "storage", "metrics-server"]
    assert decided.builtin == [] and decided.current == []
    assert decided.replace_storage_class


def test_kind_default_cluster_has_policy_and_storage_of_its_own() -> None:
    decided = plan(["metrics-server", "gateway"], KIND, {}, digests())
    assert decided.builtin == ["network-policy", "storage"]
    assert decided.apply == ["metrics-server", "gateway"]
    assert not decided.replace_storage_class
    # the same official node image on a kernel without nf_tables' queue expression
    lacking = Observed(**{**KIND.__dict__, "nft_queue": False})
    assert plan([], lacking, {}, digests()).apply == ["network-policy"]


def test_installed_addons_are_only_checked_until_their_manifests_change() -> None:
    installed = {"network-policy": digests()["network-policy"], "storage": digests()["storage"]}
    after = Observed(kindnet_image=KINDNETD, standard_provisioner="rancher.io/local-path",
                     local_path_image=images()["local-path-provisioner"])
    decided = plan([], after, installed, digests())
    assert decided.current == ["network-policy", "storage"] and decided.apply == []
    stale = {**installed, "storage": "0" * 16}
    decided = plan([], after, stale, digests())
    assert decided.apply == ["storage"] and not decided.replace_storage_class


def test_our_own_provisioner_is_never_taken_for_kinds() -> None:
    # applied once, its record lost (a start that failed before the record was written)
    ours = Observed(kindnet_image=KINDNETD, standard_provisioner="rancher.io/local-path",
                    local_path_image=images()["local-path-provisioner"])
    decided = plan([], ours, {}, digests())
    assert decided.apply == ["network-policy", "storage"] and not decided.replace_storage_class
    # kind's class without its provisioner: installed
    assert "storage" in plan([], Observed(standard_provisioner="rancher.io/local-path"), {}, digests()).apply


def test_a_class_with_no_provisioner_yet_is_simply_created() -> None:
    decided = plan([], Observed(), {}, digests())
    assert decided.apply == ["network-policy", "storage"] and not decided.replace_storage_class


def test_the_record_belongs_to_the_cluster_it_was_written_for(tmp_path: Path) -> None:
    write_record(tmp_path, ["b", "a"], {"storage": "x"})
    assert read_record(tmp_path, ["a", "b"]) == {"storage": "x"}
    assert read_record(tmp_path, ["a", "c"]) == {}  # re-created cluster: nothing installed there
    (tmp_path / "addons.json").write_text("{not json")
    assert read_record(tmp_path, ["a", "b"]) == {}


def test_a_changed_manifest_changes_the_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    before = ADDONS["metrics-server"].digest()
    monkeypatch.setattr(versions, "METRICS_SERVER_VERSION", "v9.9.9")
    assert ADDONS["metrics-server"].digest() != before


def test_gateway_crds_come_from_the_module_standard_channel(tmp_path: Path) -> None:
    folder = tmp_path / "config" / "crd" / "standard"
    folder.mkdir(parents=True)
    (folder / "b.yaml").write_text("kind: CustomResourceDefinition\nmetadata: {name: b}\n")
    (folder / "a.yaml").write_text("kind: CustomResourceDefinition\nmetadata: {name: a}\n")
    (tmp_path / "config" / "crd" / "experimental").mkdir()
    (tmp_path / "config" / "crd" / "experimental" / "x.yaml").write_text("kind: X\n")
    text = crds.from_module_dir(tmp_path)
    assert text.index("name: a") < text.index("name: b") and "kind: X" not in text


class _Settings:
    def __init__(self, offline: bool):
        self.offline = offline

    def is_offline(self) -> bool:
        return self.offline


class _Cluster:
    def __init__(self, offline: bool):
        self.settings = _Settings(offline)


@pytest.mark.parametrize("offline", [True, False])
def test_only_an_offline_machine_builds_the_addon_images_it_lacks(monkeypatch, offline) -> None:
    from lab.addons import install
    from lab.offline import images as offline_images
    from lab.offline import prepare

    built: list[list[str]] = []
    present = set(ADDONS["storage"].image_names())
    monkeypatch.setattr(offline_images, "image_present", lambda *tags: set(tags) <= present)
    monkeypatch.setattr(prepare, "prepare_addons_for", lambda names, progress: built.append(names))
    install._build_missing_offline(_Cluster(offline), dict(ADDONS), ["storage", "metrics-server"], lambda _: None)
    assert built == ([["metrics-server"]] if offline else [])


def test_a_daemon_set_whose_status_predates_its_spec_is_not_ready() -> None:
    from types import SimpleNamespace

    from lab.addons.catalog import Workload
    from lab.addons.install import workload_ready

    def clients(generation: int, observed: int, ready: int = 2, updated: int = 2):
        status = SimpleNamespace(desired_number_scheduled=2, number_ready=ready, updated_number_scheduled=updated,
                                 number_unavailable=2 - ready, observed_generation=observed)
        ds = SimpleNamespace(metadata=SimpleNamespace(generation=generation), status=status)
        return SimpleNamespace(apps=SimpleNamespace(read_namespaced_daemon_set=lambda name, ns: ds))

    workload = Workload("DaemonSet", "kube-system", "kube-router")
    assert workload_ready(clients(2, 2), workload) is True
    # applied a moment ago: the old pods still count as ready and updated
    assert workload_ready(clients(3, 2), workload) is not True
    assert workload_ready(clients(3, 3, ready=1), workload) is not True
