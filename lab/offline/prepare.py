"""`cka-lab offline prepare`: every step that makes this machine ready for real kind clusters
without a container registry, each cached by its inputs so a second run takes seconds."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from lab import paths, settings, versions
from lab.offline import addons, engine, gobuild, images, nodeimage, rootfs
from lab.offline.steps import Step, file_digest, run_steps
from lab.shell import run_build


def offline_dir() -> Path:
    return paths.cache_dir() / "offline"


def bin_dir() -> Path:
    return offline_dir() / "bin"


def kind_path() -> Path:
    return bin_dir() / "kind"


def plan() -> list[Step]:
    work = offline_dir() / "work"
    bindir = bin_dir()
    shim = engine.host_lacks_sys_resource()
    steps: list[Step] = [
        Step("docker-engine", lambda: print(engine.ensure_engine(offline_dir())), always=True),
    ]
    for spec in gobuild.component_builds():
        steps.append(
            Step(
                f"go-build-{spec.name}",
                (lambda spec=spec: gobuild.build(spec, work, bindir)),
                spec.inputs(),
                is_present=lambda spec=spec: all((bindir / b).exists() for b in _binaries(spec)),
            )
        )
    steps.append(
        Step(
            "pause",
            lambda: images.build_pause(_kubernetes_module_dir(), bindir),
            {"version": versions.PAUSE_VERSION, "k8s": versions.KUBERNETES_VERSION},
            is_present=lambda: (bindir / "pause").exists(),
        )
    )
    for image, packages in (
        (images.BASE_IMAGE, rootfs.BASE_PACKAGES),
        (nodeimage.NODE_ROOTFS_IMAGE, rootfs.NODE_PACKAGES),
    ):
        steps.append(
            Step(
                f"rootfs-{image.split('/')[1].split(':')[0]}",
                (lambda image=image, packages=packages: rootfs.build_rootfs_image(image, packages, work)),
                {"image": image, "packages": packages},
                is_present=lambda image=image: images.image_present(image),
            )
        )
    preload: list[str] = []
    for recipe in images.component_images(bindir) + images.workload_images():
        preload.extend(recipe.tags)
        steps.append(
            Step(
                f"image-{recipe.tags[0].rsplit('/', 1)[-1]}",
                (lambda recipe=recipe: images.build_image(recipe, work)),
                lambda recipe=recipe: {
                    **recipe.inputs(),
                    "files": {name: file_digest(path) for name, path in recipe.files.items()},
                    "base": _image_id(images.BASE_IMAGE),
                },
                is_present=lambda recipe=recipe: images.image_present(*recipe.tags),
            )
        )
    steps.append(
        Step(
            "node-image",
            lambda: nodeimage.build_node_image(
                work, nodeimage.kind_base_files(gobuild.go_binary()), bindir, preload, shim
            ),
            lambda: {
                "image": nodeimage.OFFLINE_NODE_IMAGE,
                "preload": [_image_id(i) for i in preload],
                "rootfs": _image_id(nodeimage.NODE_ROOTFS_IMAGE),
                "binaries": file_digest(*(bindir / b for b in nodeimage.NODE_BINARIES)),
                "files": file_digest(images.FILES),
                "recipe": file_digest(Path(nodeimage.__file__)),
                "shim": shim,
            },
            is_present=lambda: images.image_present(nodeimage.OFFLINE_NODE_IMAGE),
        )
    )
    steps.extend(addons.steps(work, bindir))
    return steps


def _binaries(spec: gobuild.GoBuild) -> list[str]:
    names = []
    for package in spec.packages:
        last = package.rstrip("/").split("/")
        name = last[-2] if last[-1] in ("v2", "v3") else last[-1]
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


def prepare(console: Console | None = None) -> dict[str, float]:
    """Run every step (cached ones are skipped) and point cka-lab's settings at the result."""
    console = console or Console(stderr=True)
    timings = run_steps(plan(), offline_dir() / "stamps", console)
    settings.save(
        {
            "node_image": nodeimage.OFFLINE_NODE_IMAGE,
            "kind_binary": str(kind_path()),
        }
    )
    return timings
