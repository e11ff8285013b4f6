"""`cka-lab offline prepare`: every step that makes this machine ready for real kind clusters
without a container registry, each cached by its inputs so a second run takes seconds.

The default release is always built. Another pinned release (the one upgrade scenarios start
from) only on demand: its Kubernetes, the images its kubeadm asks for, the kubeadm, kubelet and
kubectl packages of both releases in an apt repository, and its node image."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from rich.console import Console

from lab import paths, settings, versions
from lab.addons import catalog
from lab.errors import LabBusy, LabError
from lab.lock import lock_for
from lab.offline import addons, debs, engine, gobuild, images, loadbalancer, nodeimage, rootfs
from lab.offline.steps import Step, file_digest, run_steps
from lab.shell import run_build

ENGINE = "docker-engine"
BASE_ROOTFS = "rootfs-debian-base"
NODE_ROOTFS = "rootfs-node-rootfs"


def offline_dir() -> Path:
    return paths.cache_dir() / "offline"


def bin_dir(kubernetes: str = versions.KUBERNETES_VERSION) -> Path:
    """Binaries of a release's builds; the default release's (and kind, helm, crictl) in bin/."""
    if kubernetes == versions.KUBERNETES_VERSION:
        return offline_dir() / "bin"
    return offline_dir() / "releases" / kubernetes / "bin"


def apt_dir() -> Path:
    return offline_dir() / "apt"


def kind_path() -> Path:
    return bin_dir() / "kind"


def extra_releases(release: Iterable[str] = (), all_releases: bool = False) -> list[versions.Release]:
    """The releases asked for besides the default one (a LabError for one that is not pinned)."""
    wanted = [v for v in versions.RELEASES if v != versions.KUBERNETES_VERSION] if all_releases else list(release)
    unknown = [v for v in wanted if v not in versions.RELEASES]
    if unknown:
        raise LabError(
            f"no pinned Kubernetes release {', '.join(unknown)}",
            title="Unknown release",
            hint="pinned releases: " + ", ".join(versions.RELEASES),
        )
    return [versions.RELEASES[v] for v in dict.fromkeys(wanted) if v != versions.KUBERNETES_VERSION]


def _go_step(spec: gobuild.GoBuild, work: Path, bindir: Path) -> Step:
    return Step(
        f"go-build-{spec.name}",
        (lambda: gobuild.build(spec, work, bindir)),
        spec.inputs(),
        is_present=lambda: all((bindir / b).exists() for b in _binaries(spec)),
    )


def _producers(specs: list[gobuild.GoBuild], bindir: Path) -> dict[Path, str]:
    """Which step makes each binary (so a step runs after exactly the builds it reads)."""
    return {bindir / binary: f"go-build-{spec.name}" for spec in specs for binary in _binaries(spec)}


def _image_step(recipe: images.ImageRecipe, work: Path, producers: dict[Path, str]) -> Step:
    return Step(
        f"image-{recipe.tags[0].rsplit('/', 1)[-1]}",
        (lambda: images.build_image(recipe, work)),
        lambda: {
            **recipe.inputs(),
            "files": {name: file_digest(path) for name, path in recipe.files.items()},
            "base": _image_id(images.BASE_IMAGE),
        },
        is_present=lambda: images.image_present(*recipe.tags),
        after=(ENGINE, BASE_ROOTFS, *dict.fromkeys(producers[p] for p in recipe.files.values() if p in producers)),
    )


def _node_image_step(
    kubernetes: str,
    binaries: dict[str, Path],
    preload: list[str],
    shim: bool,
    work: Path,
    after: list[str],
    repo: Path | None = None,
    packaged: list[str] | None = None,
) -> Step:
    image = nodeimage.node_image_name(kubernetes)
    return Step(
        "node-image" if kubernetes == versions.KUBERNETES_VERSION else f"node-image-{kubernetes}",
        lambda: nodeimage.build_node_image(
            work, nodeimage.kind_base_files(gobuild.go_binary()), binaries, preload, shim, kubernetes, repo, packaged
        ),
        lambda: {
            "image": image,
            "preload": [_image_id(i) for i in preload],
            "rootfs": _image_id(nodeimage.NODE_ROOTFS_IMAGE),
            "binaries": {place: file_digest(source) for place, source in binaries.items()},
            "files": file_digest(images.FILES),
            "recipe": file_digest(Path(nodeimage.__file__)),
            "shim": shim,
            **({"repo": file_digest(repo), "packaged": packaged} if repo else {}),
        },
        is_present=lambda: images.image_present(image),
        after=(ENGINE, NODE_ROOTFS, *dict.fromkeys(after)),
    )


def plan(
    releases: Iterable[versions.Release] = (), addon_names: Iterable[str] = (), with_loadbalancer: bool = False
) -> list[Step]:
    """The steps, in the order they start when ready: the long Kubernetes build first, the
    debootstraps beside it, then the other builds and the images as their inputs are there.
    `with_loadbalancer`: also kind's API load balancer image (clusters with three control-plane
    nodes need it)."""
    work = offline_dir() / "work"
    bindir = bin_dir()
    shim = engine.host_lacks_sys_resource()
    builds = gobuild.component_builds()
    go = {spec.name: _go_step(spec, work, bindir) for spec in builds}
    steps: list[Step] = [
        Step(ENGINE, lambda: print(engine.ensure_engine(offline_dir())), always=True),
        go.pop("kubernetes"),
    ]
    for image, packages in (
        (images.BASE_IMAGE, rootfs.BASE_PACKAGES),
        (nodeimage.NODE_ROOTFS_IMAGE, rootfs.NODE_PACKAGES),
        *addons.ROOTFS.items(),
        *([(loadbalancer.ROOTFS_IMAGE, loadbalancer.ROOTFS_PACKAGES)] if with_loadbalancer else []),
    ):
        steps.append(
            Step(
                _rootfs_step(image),
                (lambda image=image, packages=packages: rootfs.build_rootfs_image(image, packages, work)),
                {"image": image, "packages": packages},
                is_present=lambda image=image: images.image_present(image),
                after=(ENGINE,),
            )
        )
    steps += go.values()
    steps.append(
        Step(
            "pause",
            lambda: images.build_pause(_kubernetes_module_dir(), bindir),
            {"version": versions.PAUSE_VERSION, "k8s": versions.KUBERNETES_VERSION},
            is_present=lambda: (bindir / "pause").exists(),
        )
    )
    producers = {**_producers(builds, bindir), bindir / "pause": "pause"}
    preload: list[str] = []
    for recipe in images.component_images(bindir) + images.workload_images():
        preload.extend(recipe.tags)
        steps.append(_image_step(recipe, work, producers))
    image_steps = [s.name for s in steps if s.name.startswith("image-")]
    # the always-on add-ons' images go into the node image, so they are built before it; the
    # others (Traefik is the longest build after Kubernetes) after it
    addon_tags, always_builds = addons.preloaded(bindir)
    addon_steps = addons.steps(work, bindir, [*catalog.ALWAYS, *addon_names])
    for step in addon_steps:
        # an add-on image is made from its binary on the base image (or its own root filesystem)
        if step.name.startswith("image-"):
            name = addons.build_of(step)
            step.after = (f"go-build-{name}", _rootfs_step(addons.base_image(name)))
    preloaded_steps = [s for s in addon_steps if addons.build_of(s) in always_builds]
    steps += preloaded_steps
    # other releases' node images (upgrade scenarios) load the add-ons' images when they start
    release_preload = list(preload)
    placed = nodeimage.node_binaries({name: bindir / name for name in nodeimage.NODE_BINARIES}, packaged=False)
    steps.append(
        _node_image_step(
            versions.KUBERNETES_VERSION, placed, [*preload, *addon_tags], shim, work,
            [*image_steps, *(s.name for s in preloaded_steps if s.name.startswith("image-")),
             *(producers[p] for p in placed.values())],
        )
    )
    steps += [s for s in addon_steps if s not in preloaded_steps]
    if with_loadbalancer:
        lb = loadbalancer.image_step(work, _rootfs_step(loadbalancer.ROOTFS_IMAGE), _image_id)
        lb.after = (ENGINE, *lb.after)
        steps.append(lb)
    default_steps = [s.name for s in steps]
    for release in releases:
        steps += _release_steps(release, release_preload, shim, work, default_steps)
    return steps


def _release_steps(
    release: versions.Release, default_preload: list[str], shim: bool, work: Path, default_steps: list[str]
) -> list[Step]:
    """Another release: its builds into its own bin dir, those of its images the default
    release's do not cover, both releases' packages in the apt repository, and its node image
    with both releases' images preloaded (so `kubeadm upgrade apply` to the default release
    needs no registry)."""
    rbin = bin_dir(release.kubernetes)
    builds = gobuild.release_builds(release)
    steps = [_go_step(spec, work, rbin) for spec in builds]
    producers = _producers(builds, rbin)
    preload = list(default_preload)
    for recipe in images.component_images(rbin, release):
        if set(recipe.tags) <= set(default_preload):
            continue  # the same image as the default release's (pause 3.10, the pod network)
        preload.extend(recipe.tags)
        steps.append(_image_step(recipe, work, producers))
    repo = apt_dir()
    deb_steps = []
    for rel, source in ((versions.DEFAULT_RELEASE, bin_dir()), (release, rbin)):
        deb_steps.append(f"debs-{rel.kubernetes}")
        steps.append(
            Step(
                deb_steps[-1],
                (lambda rel=rel, source=source: debs.build_release_debs(rel, source, work, repo)),
                lambda rel=rel, source=source: {
                    "binaries": file_digest(*(source / p for p in debs.PACKAGES)),
                    "recipe": file_digest(Path(debs.__file__)),
                    "version": rel.deb_version,
                },
                is_present=lambda rel=rel: all((repo / d.filename).exists() for d in debs.debs_of(rel)),
                after=("go-build-kubernetes",) if rel is versions.DEFAULT_RELEASE else (f"go-build-kubernetes-{rel.kubernetes}",),
            )
        )
    steps.append(
        Step(
            "apt-repository",
            lambda: debs.build_repository(repo),
            lambda: {
                "debs": file_digest(*sorted(repo.glob("*.deb"))),
                "recipe": file_digest(Path(debs.__file__)),
            },
            is_present=lambda: all((repo / name).exists() for name in debs.expected_files([versions.DEFAULT_RELEASE, release])),
            after=tuple(deb_steps),
        )
    )
    etcd_tools = rbin if release.etcd != versions.ETCD_VERSION else bin_dir()
    sources = {name: etcd_tools / name for name in ("etcdctl", "etcdutl")}
    sources.update({name: bin_dir() / name for name in ("crictl", "helm")})
    placed = nodeimage.node_binaries(sources, packaged=True)
    image_steps = [s.name for s in steps if s.name.startswith("image-")]
    steps.append(
        _node_image_step(
            release.kubernetes, placed, preload, shim, work,
            [*default_steps[1:], *image_steps, "apt-repository"],
            repo, [d.filename for d in debs.debs_of(release)],
        )
    )
    return steps


def _rootfs_step(image: str) -> str:
    """The step that debootstraps a root filesystem image ("rootfs-debian-base")."""
    return f"rootfs-{image.split('/')[1].split(':')[0]}"


def _binaries(spec: gobuild.GoBuild) -> list[str]:
    """The executables `go build -o <dir>/` writes for the spec's packages: each named after its
    package's last path element, a major-version suffix (`/v2`, `/v12`) dropped, as Go does."""
    names = []
    for package in spec.packages:
        last = package.rstrip("/").split("/")
        name = last[-2] if re.fullmatch(r"v\d+", last[-1]) else last[-1]
        names.append(name)
    return names


def _image_id(image: str) -> str | None:
    """The image's ID, so a rebuilt input image rebuilds what depends on it."""
    out = run_build(["docker", "image", "inspect", "--format", "{{.Id}}", image], check=False)
    return out.stdout.strip() if out.returncode == 0 else None


def _kubernetes_module_dir() -> Path:
    out = run_build(
        [gobuild.go_binary(), "mod", "download", "-json", f"k8s.io/kubernetes@{versions.KUBERNETES_VERSION}"], cwd="/"
    )
    return Path(json.loads(out.stdout)["Dir"])


def prepare(
    console: Console | None = None,
    releases: Iterable[versions.Release] = (),
    addon_names: Iterable[str] = (),
    with_loadbalancer: bool = False,
) -> dict[str, float]:
    """Run every step (cached ones are skipped) and point cka-lab's settings at the result.
    `addon_names`: add-ons to build besides the always-on ones; `with_loadbalancer`: kind's API
    load balancer image too."""
    console = console or Console(stderr=True)
    releases = list(releases)
    with _one_build_at_a_time(console):
        timings = run_steps(plan(releases, addon_names, with_loadbalancer), offline_dir() / "stamps", console)
    configured = settings.load()
    node_images = dict(configured.node_images)
    node_images.update({r.kubernetes: nodeimage.node_image_name(r.kubernetes) for r in releases})
    settings.save(
        {
            "node_image": nodeimage.OFFLINE_NODE_IMAGE,
            "kind_binary": str(kind_path()),
            **({"node_images": node_images} if node_images else {}),
        }
    )
    return timings


@contextmanager
def _one_build_at_a_time(console: Console) -> Iterator[None]:
    """Hold the build cache's lock: two builds of one step at once share its work folder (one
    removing the tree the other compiles from), so a second `prepare` (another lab's `start`
    building an add-on on demand, a test run beside a trainee's) waits, then finds the steps
    done. A killed holder's lock goes with it (flock)."""
    lock = lock_for(offline_dir())
    with ExitStack() as stack:
        try:
            stack.enter_context(lock.hold("offline prepare", wait=0))
        except LabBusy:
            console.print(f"waiting for {lock.holder()}, which is building this machine's images")
            stack.enter_context(lock.hold("offline prepare", wait=None))
        yield


class _Lines:
    """A file for a rich Console that hands each printed line to a progress callback."""

    def __init__(self, progress: Callable[[str], None]):
        self.progress = progress
        self.buffer = ""

    def write(self, text: str) -> int:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            if line.strip():
                self.progress(line.strip())
        return len(text)

    def flush(self) -> None:
        pass


def _require_root_build(message: str, title: str, command: str) -> None:
    """An on-demand build runs debootstrap and apt: refused, with the command to run, without root."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise LabError(message, title=title, hint=f"run `sudo {command}` once, then start the scenario again")


def prepare_release_for(kubernetes: str, progress: Callable[[str], None]) -> str:
    """Build a pinned release's node image because a scenario needs it; returns the image."""
    release = versions.release(kubernetes)
    command = f"cka-lab offline prepare --release {kubernetes}"
    _require_root_build(
        f"this scenario needs Kubernetes {kubernetes}, whose node image is not built on this machine, "
        "and building it needs root and apt-get",
        "Node image missing",
        command,
    )
    progress(f"this scenario needs Kubernetes {kubernetes}: building its node image once ({command})")
    prepare(Console(file=_Lines(progress), force_terminal=False, width=200), [release])
    return nodeimage.node_image_name(kubernetes)


def extra_addons(names: Iterable[str] = (), all_addons: bool = False) -> list[str]:
    """The add-ons asked for besides the always-on ones (a LabError for an unknown name)."""
    wanted = list(catalog.ADDONS) if all_addons else list(names)
    unknown = [n for n in wanted if n not in catalog.ADDONS]
    if unknown:
        raise LabError(
            f"no add-on {', '.join(unknown)}",
            title="Unknown add-on",
            hint="add-ons: " + ", ".join(catalog.ADDONS),
        )
    return [n for n in dict.fromkeys(wanted) if n not in catalog.ALWAYS]


def prepare_addons_for(names: Iterable[str], progress: Callable[[str], None]) -> None:
    """Build add-on images a scenario needs and this machine lacks (offline), once."""
    names = list(names)
    command = "cka-lab offline prepare " + " ".join(f"--addon {n}" for n in names)
    _require_root_build(
        f"this scenario needs the add-on(s) {', '.join(names)}, whose images are not built on this "
        "machine, and building them needs root and apt-get",
        "Add-on images missing",
        command,
    )
    progress(f"this scenario needs {', '.join(names)}: building the add-on images once ({command})")
    prepare(Console(file=_Lines(progress), force_terminal=False, width=200), addon_names=names)


def prepare_loadbalancer_for(progress: Callable[[str], None]) -> None:
    """Build kind's API load balancer image because a scenario needs three control-plane nodes."""
    command = "cka-lab offline prepare --all"
    _require_root_build(
        "this scenario needs three control-plane nodes behind kind's API load balancer, whose image "
        f"({loadbalancer.IMAGE}) is not built on this machine, and building it needs root and apt-get",
        "Load balancer image missing",
        command,
    )
    progress(f"this scenario needs an HA control plane: building kind's load balancer image {loadbalancer.IMAGE} once")
    prepare(Console(file=_Lines(progress), force_terminal=False, width=200), with_loadbalancer=True)
