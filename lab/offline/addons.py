"""Offline build recipes of the cluster add-ons (lab/addons): each binary from its Go module
through the module proxy, each image FROM scratch or the Debian base, tagged with the upstream
image name the add-on manifests use, so the same manifests serve online and offline."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from lab import versions
from lab.addons import catalog, crds
from lab.offline import gobuild
from lab.offline.gobuild import GoBuild
from lab.offline.images import BASE_IMAGE, SCRATCH_PATH, ImageRecipe, build_image, image_present
from lab.offline.steps import Step, file_digest
from lab.shell import run_build


def builds() -> list[GoBuild]:
    """One Go build per add-on binary; each lands in a folder of its own."""
    return [
        GoBuild(
            "local-path-provisioner",
            "github.com/rancher/local-path-provisioner",
            versions.LOCAL_PATH_PROVISIONER_VERSION,
            ("github.com/rancher/local-path-provisioner",),
            ldflags=f"-s -w -X main.VERSION={versions.LOCAL_PATH_PROVISIONER_VERSION}",
        ),
        GoBuild(
            "metrics-server",
            "sigs.k8s.io/metrics-server",
            versions.METRICS_SERVER_VERSION,
            ("sigs.k8s.io/metrics-server/cmd/metrics-server",),
            ldflags=f"-s -w -X sigs.k8s.io/metrics-server/pkg/version.gitVersion={versions.METRICS_SERVER_VERSION}",
        ),
        GoBuild(
            "kube-router",
            "github.com/cloudnativelabs/kube-router/v2",
            versions.KUBE_ROUTER_VERSION,
            ("github.com/cloudnativelabs/kube-router/v2/cmd/kube-router",),
            ldflags=f"-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version={versions.KUBE_ROUTER_VERSION}",
        ),
        GoBuild(
            "traefik",
            "github.com/traefik/traefik/v3",
            versions.TRAEFIK_VERSION,
            ("./cmd/traefik",),
            ldflags=f"-s -w -X github.com/traefik/traefik/v3/pkg/version.Version={versions.TRAEFIK_VERSION}",
        ),
    ]


BINARIES = {
    # add-on build name -> (binary the build writes, path inside the image)
    "local-path-provisioner": ("local-path-provisioner", "/usr/bin/local-path-provisioner"),
    "metrics-server": ("metrics-server", "/metrics-server"),
    "kube-router": ("kube-router", "/usr/local/bin/kube-router"),
    "traefik": ("traefik", "/usr/local/bin/traefik"),
}


def builds_of(addon: str) -> set[str]:
    """The builds an add-on's images need (its image key names its build; `network-policy`'s
    kube-router is built even where kindnetd will enforce policies itself: which one a cluster
    needs is known only once its nodes are probed).

    Only the always-on add-ons are built by a plain `cka-lab offline prepare`: the others take
    long (Traefik alone is the longest build after Kubernetes) and are built the first time a
    scenario needs them, or by `cka-lab offline prepare --addon NAME`."""
    return {catalog.ADDONS[addon].image}


MODULE_FILES = {
    # upstream's image installs kubernetes-sigs' iptables-wrappers, shipped in its module, so
    # iptables, iptables-save and -restore use the backend (nft or legacy) the node's kubelet
    # and kube-proxy chose, found at their first run
    "kube-router": ("build/image-assets/iptables-wrapper-installer.sh",),
}
"""Files out of a module's tree that its image needs besides the binary (copied beside it)."""

KUBE_ROUTER_BASE = "cka-lab/kube-router-base:" + versions.DEBIAN_SUITE
KUBE_ROUTER_PACKAGES = ("iptables", "ipset")
"""kube-router execs iptables, ip6tables, their -save and -restore, and ipset; the Debian base
image has no ipset, and adding it there would rebuild every image made from that base."""

ROOTFS = {KUBE_ROUTER_BASE: KUBE_ROUTER_PACKAGES}
"""Root filesystems of add-on images that need more than the Debian base (debootstrapped by
`cka-lab offline prepare` like the base)."""

BASES = {"kube-router": KUBE_ROUTER_BASE}
"""The image an add-on's image is made from, when not the Debian base (or scratch)."""


def base_image(name: str) -> str:
    return BASES.get(name, BASE_IMAGE)


OWN_TREE = ("traefik",)
"""Built inside the module's own tree: Traefik's go.mod replaces two dependencies by forks and
excludes a broken version, and a dependent module would not honour either."""

_GO_ENV = {"CGO_ENABLED": "0", "GOFLAGS": "-mod=mod -buildvcs=false"}


def build(spec: GoBuild, work: Path, outdir: Path) -> None:
    if spec.name not in OWN_TREE:
        gobuild.build(spec, work, outdir)
        for name in MODULE_FILES.get(spec.name, ()):
            shutil.copy(_module_dir(spec) / name, outdir / Path(name).name)
        return
    go = gobuild.go_binary()
    tree = work / spec.name
    if tree.exists():
        shutil.rmtree(tree)
    # the module cache is read-only; the build writes nothing there, but the copy must be removable
    shutil.copytree(_module_dir(spec), tree, copy_function=shutil.copy)
    for path in [tree, *tree.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    env = {**_GO_ENV, "PATH": f"{Path(go).parent}:{os.environ.get('PATH', '')}"}
    outdir.mkdir(parents=True, exist_ok=True)
    run_build([go, "build", "-trimpath", "-ldflags", spec.ldflags, "-o", str(outdir) + "/", *spec.packages],
              cwd=tree, env=env, context=f"building {spec.name}")
    shutil.rmtree(tree)


def _module_dir(spec: GoBuild) -> Path:
    out = run_build([gobuild.go_binary(), "mod", "download", "-json", f"{spec.module}@{spec.version}"], cwd="/",
                    context=f"downloading {spec.module}@{spec.version}")
    return Path(json.loads(out.stdout)["Dir"])


def outputs(bindir: Path, name: str) -> list[Path]:
    """What an add-on's build step leaves in its folder: the binary and its module files."""
    return [binary(bindir, name), *(bindir / "addons" / name / Path(f).name for f in MODULE_FILES.get(name, ()))]


def binary(bindir: Path, name: str) -> Path:
    return bindir / "addons" / name / BINARIES[name][0]


def image_recipes(bindir: Path) -> list[ImageRecipe]:
    """The add-on images, tagged as the manifests name them."""
    images = catalog.images()

    def scratch(name: str, tag: str, entrypoint: bool) -> ImageRecipe:
        path = binary(bindir, name)
        dest = BINARIES[name][1]
        lines = ["FROM scratch", SCRATCH_PATH, f"COPY {path.name} {dest}"]
        if entrypoint:
            lines.append(f'ENTRYPOINT ["{dest}"]')
        return ImageRecipe((tag,), "\n".join(lines) + "\n", {path.name: path})

    return [
        # the provisioner's helper pods run the busybox stand-in; it needs only its own binary
        ImageRecipe(
            (images["local-path-provisioner"],),
            f"FROM {BASE_IMAGE}\nCOPY local-path-provisioner /usr/bin/local-path-provisioner\n"
            'CMD ["local-path-provisioner"]\n',
            {"local-path-provisioner": binary(bindir, "local-path-provisioner")},
        ),
        scratch("metrics-server", images["metrics-server"], entrypoint=True),
        # upstream's image is Alpine with these tools; here the Debian packages, the same
        # iptables-wrappers choosing the node's backend, and no BGP, IPVS or CNI extras (the
        # lab runs only the network policy controller)
        ImageRecipe(
            (images["kube-router"],),
            f"FROM {KUBE_ROUTER_BASE}\nCOPY kube-router /usr/local/bin/kube-router\n"
            "COPY iptables-wrapper-installer.sh /\nRUN /iptables-wrapper-installer.sh\n"
            'ENTRYPOINT ["/usr/local/bin/kube-router"]\n',
            {"kube-router": binary(bindir, "kube-router"),
             "iptables-wrapper-installer.sh": bindir / "addons" / "kube-router" / "iptables-wrapper-installer.sh"},
        ),
        ImageRecipe(
            (images["traefik"],),
            f"FROM {BASE_IMAGE}\nCOPY traefik /usr/local/bin/traefik\nEXPOSE 80\n"
            'ENTRYPOINT ["/usr/local/bin/traefik"]\n',
            {"traefik": binary(bindir, "traefik")},
        ),
    ]


def steps(work: Path, bindir: Path, addons: Iterable[str] = catalog.ALWAYS) -> list[Step]:
    """The steps of `cka-lab offline prepare` for these add-ons: their Go builds, their images,
    and the Gateway API CRDs out of the module cache. The always-on add-ons' images are also
    preloaded into the node image (see `preloaded`); the others stay in the Docker engine, and
    `cka-lab start` loads them into the nodes of a cluster that gets the add-on."""
    addons = set(addons)
    unknown = addons - set(catalog.ADDONS)
    if unknown:
        raise ValueError(f"unknown add-on(s): {', '.join(sorted(unknown))}")
    chosen = {build for name in addons for build in builds_of(name)}
    result: list[Step] = []
    if "gateway" in addons:
        result.append(
            Step(
                "gateway-api-crds",
                lambda: crds.save_from_module_cache(gobuild.go_binary()),
                {"version": versions.GATEWAY_API_VERSION},
                is_present=lambda: crds.cache_file().exists(),
            )
        )
    recipes = dict(zip([spec.name for spec in builds()], image_recipes(bindir), strict=True))
    # each image right after its binary, Traefik (the longest build by far) last: a failed
    # build leaves the add-ons before it ready
    for spec in builds():
        if spec.name not in chosen:
            continue
        outdir = bindir / "addons" / spec.name
        recipe = recipes[spec.name]
        result.append(
            Step(
                f"go-build-{spec.name}",
                (lambda spec=spec, outdir=outdir: build(spec, work, outdir)),
                {**spec.inputs(), **({"module_files": MODULE_FILES[spec.name]} if spec.name in MODULE_FILES else {})},
                is_present=lambda spec=spec: all(p.exists() for p in outputs(bindir, spec.name)),
            )
        )
        result.append(
            Step(
                f"image-{recipe.tags[0].rsplit('/', 1)[-1]}",
                (lambda recipe=recipe: build_image(recipe, work)),
                lambda recipe=recipe, spec=spec: {
                    **recipe.inputs(),
                    "files": {name: file_digest(path) for name, path in recipe.files.items()},
                    "base": _image_id(base_image(spec.name)),
                },
                is_present=lambda recipe=recipe: image_present(*recipe.tags),
            )
        )
    return result


def preloaded(bindir: Path) -> tuple[list[str], set[str]]:
    """The always-on add-ons' images and the builds that make them. They go into the node image
    because every cluster gets them: loading them into a new cluster's nodes took 24 s of a 81 s
    cold start (`kind load` of 180 MB and 188 MB images into two nodes)."""
    chosen = {build for name in catalog.ALWAYS for build in builds_of(name)}
    recipes = dict(zip([spec.name for spec in builds()], image_recipes(bindir), strict=True))
    return [tag for name, recipe in recipes.items() if name in chosen for tag in recipe.tags], chosen


def build_of(step: Step) -> str:
    """The add-on build a step of `steps` belongs to (its Go build or its image)."""
    return step.name.removeprefix("image-").removeprefix("go-build-").split(":")[0]


def _image_id(image: str) -> str | None:
    out = run_build(["docker", "image", "inspect", "--format", "{{.Id}}", image], check=False)
    return out.stdout.strip() if out.returncode == 0 else None
