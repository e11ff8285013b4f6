"""kind's pod network on the offline path: its source (kind's nested module, which no proxy
serves) is built as shipped, its image takes kind's name, and the node image's CNI manifest is
kind's own. That it routes, masquerades and writes the CNI config is proven by every e2e test on
the real cluster (DNS and HTTP across nodes, the network-failure scenario's CNI faults)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from lab import versions
from lab.offline import gobuild, images, nodeimage


def _spec() -> gobuild.GoBuild:
    return next(s for s in gobuild.component_builds() if s.name == "kindnetd")


def test_the_shipped_module_is_kinds_at_the_pinned_release() -> None:
    source = gobuild.KINDNETD_SOURCE
    assert (source / "go.mod").read_text().startswith("module sigs.k8s.io/kind/images/kindnetd\n")
    assert (source / "go.sum").stat().st_size > 0 and (source / "LICENSE").exists()
    mains = [p for p in (source / "cmd" / "kindnetd").glob("*.go") if "func main()" in p.read_text()]
    assert [p.name for p in mains] == ["main.go"]
    assert _spec().version == versions.KIND_VERSION


def test_it_is_built_as_shipped_with_every_dependency_pinned(monkeypatch, tmp_path: Path) -> None:
    commands = []
    monkeypatch.setattr(gobuild, "go_binary", lambda: "/usr/bin/go")
    monkeypatch.setattr(gobuild, "run_build", lambda argv, **kw: commands.append((argv, kw)))
    gobuild.build(_spec(), tmp_path / "work", tmp_path / "bin")
    (argv, kw), = commands  # no `go mod tidy`: it would move the pins
    assert argv[:2] == ["/usr/bin/go", "build"] and argv[-1] == "./cmd/kindnetd"
    assert "-mod=readonly" in kw["env"]["GOFLAGS"]
    copied = tmp_path / "work" / "kindnetd"
    assert (copied / "go.sum").read_bytes() == (gobuild.KINDNETD_SOURCE / "go.sum").read_bytes()


def test_an_edited_source_file_rebuilds_it(monkeypatch, tmp_path: Path) -> None:
    import shutil

    tree = tmp_path / "kindnetd"
    shutil.copytree(gobuild.KINDNETD_SOURCE, tree)
    before = gobuild.GoBuild("kindnetd", "m", "v", ("./cmd/kindnetd",), source_tree=tree).inputs()
    (tree / "cmd" / "kindnetd" / "routes.go").write_text("package main\n")
    assert gobuild.GoBuild("kindnetd", "m", "v", ("./cmd/kindnetd",), source_tree=tree).inputs() != before


def test_its_image_takes_kinds_name() -> None:
    (recipe,) = [r for r in images.component_images(Path("/bin")) if versions.KINDNETD_IMAGE in r.tags]
    assert recipe.files["kindnetd"] == Path("/bin/kindnetd")
    assert 'CMD ["/bin/kindnetd"]' in recipe.dockerfile
    assert re.fullmatch(r"docker\.io/kindest/kindnetd:v\d{8}-[0-9a-f]{8}", versions.KINDNETD_IMAGE)


def test_the_node_image_carries_kinds_cni_manifest_with_that_image(tmp_path: Path) -> None:
    base = tmp_path / "base"
    (base / "etc" / "containerd").mkdir(parents=True)
    (base / "etc" / "containerd" / "config.toml").write_text("SystemdCgroup = true\n")
    (base / "kind").mkdir()  # kind's base image files: /kind holds the version and the manifests
    tree = tmp_path / "tree"
    nodeimage.assemble_tree(tree, base, {}, with_runtime_shim=False)
    text = (tree / "kind" / "manifests" / "default-cni.yaml").read_text()
    # kind templates the pod subnet in only when the file says so
    assert "# would you kindly template this file" in text
    documents = [d for d in yaml.safe_load_all(text.replace("{{ .PodSubnet }}", "10.244.0.0/16")) if d]
    daemonset = next(d for d in documents if d["kind"] == "DaemonSet")
    (container,) = daemonset["spec"]["template"]["spec"]["containers"]
    assert container["image"] == versions.KINDNETD_IMAGE
    assert {e["name"] for e in container["env"]} == {"HOST_IP", "POD_IP", "POD_SUBNET"}
    role = next(d for d in documents if d["kind"] == "ClusterRole")
    # its policy agent watches these (kube-network-policies inside kindnetd)
    assert {r for rule in role["rules"] for r in rule["resources"]} >= {"nodes", "pods", "namespaces", "networkpolicies"}
