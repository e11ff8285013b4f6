"""`cka-lab setup`: make this machine ready for the lab the quickest way it allows.

Where a container registry answers, the pinned official kind node image and the workload images
are pulled (seconds to minutes, no root, works with Docker Desktop on macOS and Windows). Only
where none answers is everything built locally from the package registries (`cka-lab offline
prepare`: root, apt, Go). The decision is a pure function of what was found, so it is
unit-tested; `setup` prints which path it took and why."""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from lab import settings, versions
from lab.errors import LabError

REGISTRY_PROBE = "https://registry-1.docker.io/v2/"
"""Docker Hub's API root: any HTTP answer (401 included) means the registry is reachable."""
WORKLOAD_IMAGES = ("nginx:1.27", "busybox:1.36")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Machine:
    """What setup found."""

    docker_answers: bool
    registry_answers: bool
    node_image_present: bool
    """The configured node image is in the local Docker engine already."""
    offline_configured: bool
    """The settings point at a locally built node image."""
    can_build_offline: bool
    """root, apt-get and Go are here: the offline build can run."""


@dataclass(frozen=True)
class Plan:
    action: Literal["ready", "pull", "offline", "impossible"]
    reason: str


def decide(machine: Machine) -> Plan:
    if machine.offline_configured and machine.node_image_present:
        return Plan("ready", "the locally built node image is configured and present")
    if machine.registry_answers:
        if not machine.docker_answers and not machine.can_build_offline:
            return Plan("impossible", "no Docker engine answers; start Docker (or Docker Desktop) and run setup again")
        return Plan("pull", "a container registry answers: pulling the pinned official images is fastest")
    if machine.can_build_offline:
        return Plan("offline", "no container registry answers: building kind, Kubernetes and the images locally")
    return Plan(
        "impossible",
        "no container registry answers and this machine cannot build offline (needs root, apt-get and Go)",
    )


def probe_registry(timeout: float = 5.0) -> bool:
    try:
        urllib.request.urlopen(REGISTRY_PROBE, timeout=timeout)  # noqa: S310  (fixed https URL)
        return True
    except urllib.error.HTTPError:
        return True  # 401 Unauthorized: the registry is there
    except (OSError, ValueError):
        return False


def survey() -> Machine:
    from lab.offline import nodeimage
    from lab.offline.engine import docker_answers
    from lab.offline.images import image_present

    configured = settings.load()
    answers = docker_answers() if shutil.which("docker") else False
    return Machine(
        docker_answers=answers,
        registry_answers=probe_registry(),
        node_image_present=answers and image_present(configured.node_image),
        offline_configured=configured.node_image == nodeimage.OFFLINE_NODE_IMAGE,
        can_build_offline=os.geteuid() == 0 and bool(shutil.which("apt-get")) and bool(shutil.which("go")),
    )


def pull(progress: Progress) -> None:
    from lab.cluster.kindbin import ensure_kind
    from lab.shell import run

    for image in (versions.OFFICIAL_NODE_IMAGE, *WORKLOAD_IMAGES):
        progress(f"pulling {image}")
        run(["docker", "pull", image], timeout=1800, context=f"pulling {image}")
    progress(f"kind {versions.KIND_VERSION}: {ensure_kind(None)}")
    settings.save({"node_image": versions.OFFICIAL_NODE_IMAGE})


def run_setup(progress: Progress, console=None) -> Plan:
    from lab.offline.engine import docker_answers

    found = survey()
    plan = decide(found)
    progress(f"setup: {plan.reason}")
    if plan.action == "impossible":
        raise LabError(plan.reason, title="Cannot set up")
    if plan.action == "pull":
        if not found.docker_answers and found.can_build_offline:
            from lab.offline.engine import ensure_engine
            from lab.offline.prepare import offline_dir

            progress(ensure_engine(offline_dir()))
        if not docker_answers():
            raise LabError("no Docker engine answers", title="Cannot set up", hint="start Docker and run setup again")
        pull(progress)
    elif plan.action == "offline":
        from lab.offline.prepare import prepare

        prepare(console)
    else:
        from lab.offline.prepare import prepare

        if found.can_build_offline:
            prepare(console)  # cached steps take seconds; starts the Docker engine if needed
    return plan
