"""Go-built tools of the offline path: kind, Kubernetes, etcd, CoreDNS, crictl and helm, each from
its Go module through the module proxy, in a small wrapper module of its own."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from lab import versions
from lab.offline.steps import file_digest
from lab.shell import run_build

_GO_ENV = {"CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false"}


@dataclass(frozen=True)
class GoBuild:
    """Packages built out of one wrapper module that requires `module@version`."""

    name: str
    module: str
    version: str
    packages: tuple[str, ...]
    ldflags: str = "-s -w"
    main_source: str | None = None
    """Source of a wrapper main package, for modules that ship no buildable main."""
    replaces: tuple[tuple[str, str], ...] = ()
    unchecked_sums: bool = False
    """The module's version is served by the module proxy but missing from the checksum
    database this machine reaches; its hashes are then recorded in go.sum unverified."""
    source_tree: Path | None = None
    """A whole module shipped with cka-lab (its go.mod and go.sum pin every dependency), built
    as it is instead of a wrapper: for a module no proxy serves (kind's kindnetd is a nested
    module of kind's repository, never published on its own)."""

    def inputs(self) -> dict:
        return {
            "module": self.module,
            "version": self.version,
            "packages": self.packages,
            "ldflags": self.ldflags,
            "main": self.main_source,
            "replaces": self.replaces,
            "unchecked_sums": self.unchecked_sums,
            "source_tree": file_digest(self.source_tree) if self.source_tree else None,
        }


def _staging_version(version: str = versions.KUBERNETES_VERSION) -> str:
    """The published twin of a Kubernetes release's staging modules (v1.34.0 -> v0.34.0)."""
    return "v0." + ".".join(version.lstrip("v").split(".")[1:])


def kubernetes_build(version: str = versions.KUBERNETES_VERSION) -> GoBuild:
    """All components of one Kubernetes release; the default release's build keeps its name,
    another release's is named after its version (it builds into its own bin dir)."""
    major, minor = version.lstrip("v").split(".")[:2]
    staging = _staging_version(version)
    pkg = "k8s.io/component-base/version"
    client = "k8s.io/client-go/pkg/version"
    ldflags = " ".join(
        [
            "-s -w",
            *(
                f"-X {p}.{k}={v}"
                for p in (pkg, client)
                for k, v in (
                    ("gitVersion", version),
                    ("gitMajor", major),
                    ("gitMinor", minor),
                    ("gitTreeState", "clean"),
                    ("buildDate", "1970-01-01T00:00:00Z"),
                )
            ),
        ]
    )
    return GoBuild(
        name="kubernetes" if version == versions.KUBERNETES_VERSION else f"kubernetes-{version}",
        module="k8s.io/kubernetes",
        version=version,
        packages=tuple(
            f"k8s.io/kubernetes/cmd/{c}"
            for c in (
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "kube-proxy",
                "kubelet",
                "kubeadm",
                "kubectl",
            )
        ),
        ldflags=ldflags,
        # k8s.io/kubernetes points its staging modules at ./staging with replace directives,
        # which a dependent module cannot follow: pin each to its published v0.x twin instead.
        replaces=tuple((m, staging) for m in _STAGING_MODULES),
    )


_STAGING_MODULES = (
    "k8s.io/api", "k8s.io/apiextensions-apiserver", "k8s.io/apimachinery", "k8s.io/apiserver",
    "k8s.io/cli-runtime", "k8s.io/client-go", "k8s.io/cloud-provider", "k8s.io/cluster-bootstrap",
    "k8s.io/code-generator", "k8s.io/component-base", "k8s.io/component-helpers",
    "k8s.io/controller-manager", "k8s.io/cri-api", "k8s.io/cri-client", "k8s.io/csi-translation-lib",
    "k8s.io/dynamic-resource-allocation", "k8s.io/endpointslice", "k8s.io/externaljwt", "k8s.io/kms",
    "k8s.io/kube-aggregator", "k8s.io/kube-controller-manager", "k8s.io/kube-proxy",
    "k8s.io/kube-scheduler", "k8s.io/kubectl", "k8s.io/kubelet", "k8s.io/metrics",
    "k8s.io/mount-utils", "k8s.io/pod-security-admission", "k8s.io/sample-apiserver",
    "k8s.io/sample-cli-plugin", "k8s.io/sample-controller",
)

ETCD_MAIN = """package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
"""


def etcd_builds(version: str = versions.ETCD_VERSION) -> list[GoBuild]:
    """etcd, etcdctl and etcdutl of one etcd release (named after it unless it is the default's)."""
    suffix = "" if version == versions.ETCD_VERSION else f"-{version}"
    return [
        GoBuild("etcd" + suffix, "go.etcd.io/etcd/server/v3", version, ("./cmd/etcd",), main_source=ETCD_MAIN),
        GoBuild("etcdctl" + suffix, "go.etcd.io/etcd/etcdctl/v3", version, ("go.etcd.io/etcd/etcdctl/v3",)),
        # etcd 3.6 restores snapshots with etcdutl (etcdctl snapshot restore is gone)
        GoBuild("etcdutl" + suffix, "go.etcd.io/etcd/etcdutl/v3", version, ("go.etcd.io/etcd/etcdutl/v3",)),
    ]


def coredns_build(version: str = versions.COREDNS_VERSION) -> GoBuild:
    suffix = "" if version == versions.COREDNS_VERSION else f"-{version}"
    return GoBuild("coredns" + suffix, "github.com/coredns/coredns", version, ("github.com/coredns/coredns",))


def helm_build() -> GoBuild:
    internal = "helm.sh/helm/v3/internal/version"
    return GoBuild(
        "helm",
        "helm.sh/helm/v3",
        versions.HELM_VERSION,
        ("helm.sh/helm/v3/cmd/helm",),
        ldflags=f"-s -w -X {internal}.version={versions.HELM_VERSION} -X {internal}.gitTreeState=clean",
    )


def vegeta_build() -> GoBuild:
    """The load tool of the game day's traffic generator (one static binary copied into a node)."""
    return GoBuild("vegeta", "github.com/tsenart/vegeta/v12", versions.VEGETA_VERSION, ("github.com/tsenart/vegeta/v12",))


def release_builds(release: versions.Release) -> list[GoBuild]:
    """What another release needs beyond the default release's builds (its own Kubernetes, and
    the etcd and CoreDNS its kubeadm asks for when they differ)."""
    builds = [kubernetes_build(release.kubernetes)]
    if release.etcd != versions.ETCD_VERSION:
        builds += etcd_builds(release.etcd)
    if release.coredns != versions.COREDNS_VERSION:
        builds.append(coredns_build(release.coredns))
    return builds


KINDNETD_SOURCE = Path(__file__).parent / "files" / "kindnetd"
"""kind's own pod network daemon, `images/kindnetd` of kind's repository at the pinned kind
release, unchanged (Apache-2.0, its LICENSE beside it): the CNI of kind's official node images,
so an offline cluster's pod network is the one an online cluster gets."""


def component_builds() -> list[GoBuild]:
    return [
        GoBuild("kind", "sigs.k8s.io/kind", versions.KIND_VERSION, ("sigs.k8s.io/kind",)),
        GoBuild("kindnetd", "sigs.k8s.io/kind/images/kindnetd", versions.KIND_VERSION, ("./cmd/kindnetd",),
                source_tree=KINDNETD_SOURCE),
        kubernetes_build(),
        *etcd_builds(),
        coredns_build(),
        helm_build(),
        vegeta_build(),
        GoBuild(
            "crictl",
            "sigs.k8s.io/cri-tools",
            versions.CRICTL_VERSION,
            ("sigs.k8s.io/cri-tools/cmd/crictl",),
            # cri-tools v1.34.0 requires the v0.34.0 release candidates of the staging modules,
            # which the checksum database lacks: build it against the v0.34.0 releases instead.
            replaces=tuple((m, _staging_version()) for m in _STAGING_MODULES),
            unchecked_sums=True,
        ),
    ]


def go_binary() -> str:
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if not go:
        from lab.errors import LabError

        raise LabError(
            "the Go toolchain is needed to build kind and Kubernetes offline, and none is on PATH",
            title="Go not found",
            hint="install Go (e.g. `apt-get install golang-go`, or from the Go site) and run again",
        )
    return go


def build(spec: GoBuild, workdir: Path, bindir: Path) -> None:
    """Write the wrapper module (or copy the shipped module), resolve it through the module
    proxy, build into bindir."""
    src = workdir / spec.name
    if src.exists():
        shutil.rmtree(src)
    go = go_binary()
    env = {**_GO_ENV, "PATH": f"{Path(go).parent}:{os.environ.get('PATH', '')}"}
    if spec.source_tree is not None:
        shutil.copytree(spec.source_tree, src)
        # its go.sum pins every dependency: no `go mod tidy`, which would move the pins
        env["GOFLAGS"] = "-mod=readonly -buildvcs=false"
    else:
        _write_wrapper(spec, src)
        if spec.unchecked_sums:
            env["GONOSUMDB"] = spec.module
        run_build([go, "mod", "tidy"], cwd=src, env=env, context=f"resolving {spec.module}@{spec.version}")
    bindir.mkdir(parents=True, exist_ok=True)
    run_build(
        [go, "build", "-trimpath", "-ldflags", spec.ldflags, "-o", str(bindir) + "/", *spec.packages],
        cwd=src,
        env=env,
        context=f"building {spec.name}",
    )


def _write_wrapper(spec: GoBuild, src: Path) -> None:
    src.mkdir(parents=True)
    lines = ["module ckalab.build/" + spec.name, "", "go 1.24.0", "", f"require {spec.module} {spec.version}"]
    if spec.replaces:
        lines += ["", "replace ("] + [f"\t{m} => {m} {v}" for m, v in spec.replaces] + [")"]
    (src / "go.mod").write_text("\n".join(lines) + "\n")
    imports = [p for p in spec.packages if not p.startswith("./")]
    tools = "//go:build tools\n\npackage tools\n\nimport (\n" + "".join(f'\t_ "{p}"\n' for p in imports) + ")\n"
    if imports:
        (src / "tools.go").write_text(tools)
    if spec.main_source:
        # the wrapper main lives where its package path says (./cmd/etcd builds the binary etcd)
        main_dir = src / next(p for p in spec.packages if p.startswith("./"))
        main_dir.mkdir(parents=True)
        (main_dir / "main.go").write_text(spec.main_source)
