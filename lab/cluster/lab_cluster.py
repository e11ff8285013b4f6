"""The one kind cluster cka-lab creates and owns.

Every command goes through cka-lab's own kubeconfig file (in its state directory): kind writes
it there with --kubeconfig, and the Kubernetes client reads only that file. The user's
~/.kube/config and current context are never read or changed."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab import paths, versions
from lab.atomic import write_atomic
from lab.cluster import kindbin, packages
from lab.cluster.api import is_ready, transient_api_errors
from lab.cluster.node import CRICTL, CRICTL_SHELL, Node, wait_until_booted
from lab.errors import ClusterError, CommandError, LabError, SafetyError, TimedOut
from lab.imageref import containerd_name
from lab.ledger import ClusterIdentity
from lab.settings import Settings
from lab.shell import run
from lab.wait import Pending, wait_until

STALE_AGGREGATION = 45.0
"""Seconds an aggregated API (metrics-server's) may stay unavailable while its backend is
Ready before the API server is restarted. Seen after an etcd restore: the restarted API server
dialled the Service's cluster IP while kube-proxy's rules were being rebuilt; un-NATed, the
connection went down the default route to whatever answers there (on the development machine a
proxy answering every 443 with 404), the API server kept reusing it and the APIService stayed
FailedDiscoveryCheck, so every later namespace deletion hung. Longer than the aggregator's own
re-check, so a normal recovery is never cut short."""

KIND_CLUSTER_LABEL = "io.x-k8s.kind.cluster"
KIND_ROLE_LABEL = "io.x-k8s.kind.role"
LOAD_BALANCER_ROLE = "external-load-balancer"
"""kind's role label of the haproxy container in front of several control-plane nodes: part of
the cluster (its identity, `down`), never a node (no kubelet, no systemd, no shell tools)."""
CONTROL_PLANE_SHAPES = (1, 3)
"""One control-plane node, or three with stacked etcd behind kind's API load balancer (an odd
number keeps etcd's quorum through the loss of one member)."""

Progress = Callable[[str], None]

FAST_NODE_MONITOR = """\
# A deliberate difference from a default cluster: a stopped kubelet shows as NotReady after
# about 20 s instead of 50 s, so a trainee sees the effect of a node fault (and of its repair)
# while still looking at it. The kubelet renews its lease every 5 s (a quarter of 20 s); the
# node controller looks every 2 s instead of 5 s.
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  controllerManager:
    extraArgs:
      node-monitor-grace-period: "20s"
      node-monitor-period: "2s"
- |
  kind: KubeletConfiguration
  nodeLeaseDurationSeconds: 20
"""


def _quiet(_: str) -> None:
    pass


STATIC_POD_PROBLEMS = ("pod kube-apiserver-", "pod kube-controller-manager-", "pod kube-scheduler-", "pod etcd-",
                       "API server", "the API server")
"""How the health wait's problems about control-plane static pods begin (their back-off can be skipped)."""


def static_pod_trouble(problems: list[str]) -> bool:
    """Whether the health wait's problems concern the control plane's static pods (a DaemonSet's
    pod named kube-… does not: skipping back-offs for it would run crictl on every poll)."""
    return any(p.startswith(STATIC_POD_PROBLEMS) for p in problems)


@dataclass
class LabCluster:
    settings: Settings
    state_dir: Path

    @classmethod
    def from_settings(cls, settings: Settings, state_dir: Path | None = None) -> LabCluster:
        return cls(settings, state_dir or paths.state_dir())

    @property
    def name(self) -> str:
        return self.settings.cluster_name

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def ownership_record(self) -> Path:
        return self.state_dir / "cluster.json"

    def kind(self) -> str:
        return kindbin.ensure_kind(self.settings.kind_binary)

    def _env(self) -> dict[str, str]:
        # Belt and braces: even a kind subcommand without --kubeconfig sees only ours.
        return {"KUBECONFIG": str(self.kubeconfig)}

    # --- discovery ---------------------------------------------------------------------------

    def node_containers(self) -> list[tuple[str, str, str]]:
        """(name, role, container id) of every container of this cluster, running or not: its
        nodes and, in an HA cluster, the API load balancer."""
        out = run(
            [
                "docker", "ps", "-a", "--filter", f"label={KIND_CLUSTER_LABEL}={self.name}",
                "--format", "{{.Names}}\t{{.Label \"" + KIND_ROLE_LABEL + "\"}}\t{{.ID}}",
            ],
            context="listing the lab's node containers",
        )
        rows = [tuple(line.split("\t")) for line in out.stdout.splitlines() if line.strip()]
        return sorted(rows, key=lambda r: (r[1] != "control-plane", r[0]))  # type: ignore[return-value]

    def exists(self) -> bool:
        return bool(self.node_containers())

    def nodes(self) -> list[Node]:
        return [Node(name, role, self.name) for name, role, _ in self.node_containers() if role != LOAD_BALANCER_ROLE]

    def node(self, short_name: str) -> Node:
        for node in self.nodes():
            if short_name in (node.short_name, node.container):
                return node
        valid = ", ".join(n.short_name for n in self.nodes()) or "(no nodes: run `cka-lab start`)"
        raise ClusterError(f"no node named '{short_name}' in the lab cluster; nodes: {valid}", title="Unknown node")

    def identity(self) -> ClusterIdentity | None:
        """This cluster as it is now (None when it does not exist): every container, the load
        balancer's too, so a re-created load balancer is a re-created cluster."""
        containers = sorted(cid for _, _, cid in self.node_containers())
        return ClusterIdentity(name=self.name, containers=containers) if containers else None

    def recorded_identity(self) -> ClusterIdentity | None:
        """The cluster cka-lab created from this state directory, as recorded then."""
        try:
            record = json.loads(self.ownership_record.read_text())
            return ClusterIdentity(name=record["name"], containers=sorted(record.get("containers", [])))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def is_owned(self) -> bool:
        recorded = self.recorded_identity()
        return recorded is not None and recorded.name == self.name and recorded == self.identity()

    def assert_owned(self) -> None:
        """Refuse to touch a cluster cka-lab did not create (a same-named cluster made by hand)."""
        if not self.is_owned():
            raise SafetyError(
                f"the kind cluster '{self.name}' was not created by cka-lab (or was re-created behind its back); "
                "cka-lab only injects faults into its own cluster",
                hint="run `cka-lab down` then `cka-lab start <scenario>`, or set CKA_LAB_CLUSTER to another name",
            )

    # --- lifecycle ---------------------------------------------------------------------------

    def config_yaml(self, workers: int, control_planes: int = 1) -> str:
        """kind's cluster configuration; with several control-plane nodes kind puts its API load
        balancer in front of them and runs a stacked etcd member on each."""
        if control_planes not in CONTROL_PLANE_SHAPES:
            raise ValueError(f"control_planes must be one of {CONTROL_PLANE_SHAPES}, not {control_planes}")
        nodes = "\n".join(["- role: control-plane"] * control_planes + ["- role: worker"] * workers)
        return (
            f"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nname: {self.name}\nnodes:\n{nodes}\n"
            + FAST_NODE_MONITOR
        )

    def create(
        self, workers: int = 1, progress: Progress = _quiet, kubernetes: str | None = None, control_planes: int = 1
    ) -> None:
        kind = self.kind()
        image = self.node_image(kubernetes, progress)
        if control_planes > 1:
            self.ensure_loadbalancer_image(progress)
        config = self.state_dir / "kind-config.yaml"
        config.write_text(self.config_yaml(workers, control_planes))
        argv = [
            kind, "create", "cluster", "--name", self.name, "--image", image,
            "--config", str(config), "--kubeconfig", str(self.kubeconfig), "--wait", "0s",
        ]
        shape = f"{control_planes} control-plane and {workers} worker nodes" if control_planes > 1 else f"{1 + workers} nodes"
        progress(f"creating kind cluster '{self.name}' ({shape}, image {image})")
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **self._env()}
        )
        lines: list[str] = []
        assert proc.stdout
        for line in proc.stdout:
            line = line.strip()
            if line:
                lines.append(line)
                progress(line)
        try:
            returncode = proc.wait(timeout=900)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise CommandError(argv, -1, "\n".join(lines[-30:]), context="creating the lab cluster (no end after 900s)") from None
        if returncode != 0:
            raise CommandError(argv, proc.returncode, "\n".join(lines[-30:]), context="creating the lab cluster")
        identity = self.identity()
        write_atomic(self.ownership_record, json.dumps({"name": self.name, "containers": identity.containers if identity else []}))
        self.kubeconfig.chmod(0o600)
        if packages.needs_upstream_packages(kubernetes, image):
            self.install_upstream_packages(kubernetes, progress)
        from lab.cluster.helmbin import ensure_helm_on_node

        for node in self.nodes():
            if node.role == "control-plane":
                try:
                    ensure_helm_on_node(node, progress)
                except LabError as exc:
                    # only Helm tasks need it; they get it (or say why not) when they start
                    progress(f"helm is not on {node.short_name} yet: {exc.message}")

    def ensure_loadbalancer_image(self, progress: Progress = _quiet) -> None:
        """kind runs its API load balancer from an image name compiled into it; online it pulls
        that image itself, offline there is no registry to pull from, so it is built here once."""
        if not self.settings.is_offline():
            return
        from lab.offline import loadbalancer

        if loadbalancer.present():
            return
        from lab.offline.prepare import prepare_loadbalancer_for

        prepare_loadbalancer_for(progress)

    def install_upstream_packages(self, kubernetes: str, progress: Progress = _quiet) -> None:
        """kubeadm, kubelet and kubectl of the release as held packages from the upstream
        repository, on every node (see lab.cluster.packages: official node images lack them)."""
        script = packages.install_script(kubernetes)
        for node in self.nodes():
            progress(f"installing the Kubernetes {kubernetes} packages from pkgs.k8s.io on {node.short_name}")
            try:
                node.sh(script, timeout=600)
            except CommandError as exc:
                last = "\n".join(exc.output.strip().splitlines()[-5:])
                raise LabError(
                    f"node {node.short_name} could not install the Kubernetes {kubernetes} packages "
                    f"from the upstream repository (an upgrade scenario needs them):\n{last}",
                    title="Cluster not ready",
                    hint=f"docker exec {node.container} apt-get update   # does the node reach pkgs.k8s.io?",
                ) from None

    def node_image(self, kubernetes: str | None, progress: Progress = _quiet) -> str:
        """The node image of a pinned release. On an offline machine a release not built yet is
        built now (`cka-lab offline prepare --release`), once."""
        image = self.settings.node_image_for(kubernetes)
        if kubernetes in (None, versions.KUBERNETES_VERSION) or not self.settings.is_offline():
            return image
        from lab.offline.images import image_present

        if kubernetes in self.settings.node_images and image_present(image):
            return image
        from lab.offline.prepare import prepare_release_for

        image = prepare_release_for(kubernetes, progress)
        self.settings = self.settings.model_copy(
            update={"node_images": {**self.settings.node_images, kubernetes: image}}
        )
        return image

    def running_releases(self) -> set[str | None]:
        """The Kubernetes release each node runs (its kubelet binary; the version in its node
        image's tag where that does not answer; None where neither tells)."""
        found: set[str | None] = set()
        images = dict(
            line.split("\t", 1)
            for line in run(
                ["docker", "ps", "-a", "--filter", f"label={KIND_CLUSTER_LABEL}={self.name}",
                 "--format", "{{.Names}}\t{{.Image}}"]
            ).stdout.splitlines()
            if "\t" in line
        )
        for node in self.nodes():
            try:
                out = node.run(["kubelet", "--version"], check=False, timeout=30)
                version = kubelet_version(out.stdout) if out.returncode == 0 else None
            except ClusterError:
                version = None
            found.add(version or image_release(images.get(node.container, "")))
        return found

    def delete(self, progress: Progress = _quiet) -> None:
        if not self.exists():
            progress(f"no cluster named '{self.name}'")
        else:
            progress(f"deleting kind cluster '{self.name}'")
            run([self.kind(), "delete", "cluster", "--name", self.name, "--kubeconfig", str(self.kubeconfig)],
                env=self._env(), context="deleting the lab cluster")
        self.ownership_record.unlink(missing_ok=True)
        self.kubeconfig.unlink(missing_ok=True)

    def ensure(
        self, workers: int = 1, progress: Progress = _quiet, kubernetes: str | None = None, control_planes: int = 1
    ) -> bool:
        """Create the cluster, or reuse ours if it has enough workers, the number of
        control-plane nodes asked for and runs the release asked for (None: the default
        release); one of another release or shape is re-created. True when created."""
        recorded = self.recorded_identity()
        if recorded is not None and recorded.name != self.name and LabCluster(
            self.settings.model_copy(update={"cluster_name": recorded.name}), self.state_dir
        ).exists():
            raise SafetyError(
                f"this state directory manages the lab cluster '{recorded.name}', and it still exists; "
                f"cka-lab will not start a second cluster '{self.name}' beside it",
                hint=f"`CKA_LAB_CLUSTER={recorded.name} cka-lab down` first, or give the new cluster its own "
                "state directory with CKA_LAB_HOME",
            )
        if self.exists():
            self.assert_owned()
            self.start_stopped_nodes(progress)
            mismatch = shape_mismatch(control_planes, self.control_plane_count()) or release_mismatch(
                kubernetes or versions.KUBERNETES_VERSION, self.running_releases()
            )
            if mismatch:
                progress(f"{mismatch}: re-creating it")
                self.delete(progress)
                self.create(workers, progress, kubernetes, control_planes)
                return True
            have = sum(1 for n in self.nodes() if n.role == "worker")
            if have >= workers:
                progress(f"reusing kind cluster '{self.name}' ({len(self.nodes())} nodes)")
                self.refresh_kubeconfig()
                return False
            raise ClusterError(
                f"the lab cluster has {have} worker(s) and this scenario needs {workers}",
                hint="run `cka-lab down` and start again to re-create it with more workers",
            )
        self.create(workers, progress, kubernetes, control_planes)
        return True

    def control_plane_count(self) -> int:
        return sum(1 for n in self.nodes() if n.role == "control-plane")

    def start_stopped_nodes(self, progress: Progress) -> None:
        stopped = run(
            ["docker", "ps", "-a", "--filter", f"label={KIND_CLUSTER_LABEL}={self.name}",
             "--filter", "status=exited", "--format", "{{.Names}}"]
        ).stdout.split()
        if not stopped:
            return
        progress(f"starting stopped node containers: {', '.join(stopped)}")
        run(["docker", "start", *stopped], timeout=120)
        for node in (n for n in self.nodes() if n.container in stopped):
            try:
                wait_until_booted(node)
            except TimedOut as exc:
                raise ClusterError(f"node {node.short_name} started again, but {exc.message}",
                                   hint=f"cka-lab ssh {node.short_name} -- systemctl status kubelet containerd") from None

    def refresh_kubeconfig(self) -> None:
        """Re-export our kubeconfig (the API server's host port changes when Docker restarts)."""
        out = run([self.kind(), "get", "kubeconfig", "--name", self.name], env=self._env())
        write_atomic(self.kubeconfig, out.stdout, mode=0o600)

    def load_images(self, images: list[str], progress: Progress = _quiet) -> None:
        """Make images available on every node: skipped where containerd has them already,
        else from the local Docker engine (pulled there first if missing)."""
        nodes = self.nodes()
        for image in images:
            full = containerd_name(image)
            missing = [n for n in nodes if full not in n.run([*CRICTL, "images", "-o", "json"]).stdout]
            if not missing:
                continue
            if run(["docker", "image", "inspect", image], check=False).returncode != 0:
                progress(f"pulling {image}")
                run(["docker", "pull", image], context=f"pulling {image}", timeout=900)
            progress(f"loading {image} into {', '.join(n.short_name for n in missing)}")
            run([self.kind(), "load", "docker-image", image, "--name", self.name,
                 "--nodes", ",".join(n.container for n in missing)], env=self._env(), timeout=600)

    def api_client(self):
        """A Kubernetes API client bound to our kubeconfig file and nothing else, with a time
        bound on every request."""
        from lab.cluster.api import bounded_client

        if not self.kubeconfig.exists():
            raise ClusterError("the lab cluster has no kubeconfig yet", hint="run `cka-lab start <scenario>`")
        return bounded_client(self.kubeconfig)

    def health_problems(self, core) -> list[str]:
        """What keeps the cluster from being healthy: nodes not Ready, kube-system pods not Ready."""
        from lab.cluster.api import explain

        problems: list[str] = []
        try:
            for node in core.list_node().items:
                if not is_ready(node):
                    problems.append(f"node {node.metadata.name} not Ready")
            pods = core.list_namespaced_pod("kube-system").items
            if not pods:
                problems.append("no kube-system pods yet")
            for pod in pods:
                if not _pod_ready(pod):
                    problems.append(f"pod {pod.metadata.name} not Ready ({pod.status.phase})")
        except Exception as exc:  # the API server may be restarting
            problems.append(explain(exc) or f"API server not answering ({type(exc).__name__})")
        return problems

    def wait_until_healthy(self, timeout: float = 300, progress: Progress = _quiet) -> None:
        """Every node Ready, every kube-system pod Ready and every aggregated API available."""
        import time

        from kubernetes import client

        api = self.api_client()
        core, registration = client.CoreV1Api(api), client.ApiregistrationV1Api(api)
        stale = {"since": None, "restarted": False}
        restarted_owners: set[str] = set()

        def healthy() -> object:
            problems = self.health_problems(core)
            if static_pod_trouble(problems):
                self.skip_static_pod_backoff()
            if any(p.startswith("pod ") for p in problems):
                for name in restart_backed_off_pods(core, restarted_owners):
                    progress(f"pod {name} was waiting out its crash-loop back-off: re-created")
            if not problems:
                try:
                    problems = unavailable_api_services(registration, core)
                except transient_api_errors() as exc:
                    return Pending(f"API server not answering ({type(exc).__name__})")
                if not problems:
                    return True
                # its backend is Ready (it runs in kube-system), yet the API server does not
                # reach it: see STALE_AGGREGATION. Restarted once per wait.
                stale["since"] = stale["since"] or time.monotonic()
                if not stale["restarted"] and time.monotonic() - stale["since"] > STALE_AGGREGATION:
                    progress(f"{problems[0]} while its backend is ready: restarting the API server")
                    self.restart_api_servers()
                    stale["restarted"] = True
            return Pending(problems[0] + (f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""))

        try:
            wait_until(healthy, timeout=timeout, what="a healthy lab cluster", progress=progress)
        except TimedOut as exc:
            raise ClusterError(f"the lab cluster did not become healthy in time: {exc.message}") from None

    def restart_api_servers(self) -> None:
        """Stop every kube-apiserver container; the kubelet starts it again at once (its
        exited container is removed as in skip_static_pod_backoff), with fresh connections."""
        self.stop_control_plane_containers(["kube-apiserver"], grace=2, check=False)

    def stop_control_plane_containers(
        self, components: list[str], *, grace: int, check: bool, progress: Progress = _quiet
    ) -> None:
        """Stop the running containers of these static pods on every control-plane node (the
        kubelet starts them again): `grace` seconds between SIGTERM and SIGKILL; `check`
        raises when crictl fails on a node."""
        script = (("set -e; " if check else "") + f"for name in {' '.join(components)}; do "
                  f'ids=$({CRICTL_SHELL} ps -q --state running --name "^$name\\$"); '
                  f'[ -z "$ids" ] || {CRICTL_SHELL} stop --timeout {grace} $ids >/dev/null; done'
                  + ("" if check else "; true"))
        for node in self.nodes():
            if node.role == "control-plane":
                progress(f"restarting {', '.join(components)} on {node.short_name}")
                node.sh(script, check=check, timeout=120)

    def skip_static_pod_backoff(self) -> None:
        """Let the kubelet start control-plane containers again at once. A static pod that
        crash-looped while a fault was in place keeps the kubelet's back-off (up to 5 minutes)
        after the fault is undone; the kubelet applies it only while the exited container is
        still there, so removing exited containers of a component with none running (as its
        own garbage collection would) makes it start the component straight away."""
        script = (
            "for name in etcd kube-apiserver kube-controller-manager kube-scheduler; do "
            f'running=$({CRICTL_SHELL} ps -q --state running --name "^$name\\$"); [ -n "$running" ] && continue; '
            f'exited=$({CRICTL_SHELL} ps -a -q --state exited --name "^$name\\$"); '
            f'[ -z "$exited" ] || {CRICTL_SHELL} rm $exited >/dev/null 2>&1; done; true'
        )
        for node in self.nodes():
            if node.role == "control-plane":
                node.sh(script, check=False, timeout=60)

    def assert_api_consistent(self, timeout: float = 120, progress: Progress = _quiet) -> None:
        """Prove that what the API server lists is what etcd holds: write a probe ConfigMap and
        wait until a LIST (served from the API server's watch cache) shows that very write. After
        etcd's data was rewound, a stale watch cache keeps serving the old timeline; this fails
        then instead of handing over a cluster that answers inconsistently."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        core = client.CoreV1Api(self.api_client())
        name, namespace = "cka-lab-consistency-probe", "kube-system"

        def write() -> str:
            body = {"metadata": {"name": name}, "data": {"written": os.urandom(8).hex()}}
            try:
                written = core.replace_namespaced_config_map(name, namespace, body)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                written = core.create_namespaced_config_map(namespace, body)
            return written.data["written"]

        def listed(token: str) -> object:
            items = core.list_namespaced_config_map(namespace, field_selector=f"metadata.name={name}").items
            seen = items[0].data.get("written") if items else None
            return True if seen == token else Pending("the API server's cache does not show the latest write yet")

        try:
            token = wait_until(write, timeout=timeout, what="a write through the API server", progress=progress,
                               retry_on=(OSError, *transient_api_errors()))
            wait_until(lambda: listed(token), timeout=20, what="the API server's list to show its own write",
                       progress=progress, retry_on=transient_api_errors())
        finally:
            try:
                core.delete_namespaced_config_map(name, namespace)
            except Exception:
                pass  # a leftover probe is harmless; the next probe replaces it


def kubelet_version(output: str) -> str | None:
    """"v1.34.0" of `kubelet --version` ("Kubernetes v1.34.0")."""
    words = output.split()
    return words[1] if len(words) >= 2 and words[0] == "Kubernetes" and words[1].startswith("v") else None


def restart_backed_off_pods(core, restarted_owners: set[str]) -> list[str]:
    """Delete the kube-system pods of a ReplicaSet or DaemonSet that wait out a crash-loop
    back-off, once per owner (its uid joins `restarted_owners`); their controller starts new ones
    at once. A pod that crash-looped on a fault now undone (CoreDNS on a broken Corefile) would
    otherwise wait up to 5 minutes for the kubelet's next try; one that crash-loops for a cause
    still there is re-created only once, and its wait fails as before. The deleted pods' names
    (none while the API server does not answer: the next poll tries again)."""
    try:
        pods = core.list_namespaced_pod("kube-system").items
    except Exception:  # noqa: BLE001  (the API server may be restarting)
        return []
    backed_off: dict[str, list[str]] = {}
    for pod in pods:
        owner = next((o for o in pod.metadata.owner_references or [] if o.kind in ("ReplicaSet", "DaemonSet")), None)
        if owner is None or owner.uid in restarted_owners:
            continue
        waiting = [s.state.waiting for s in pod.status.container_statuses or [] if s.state and s.state.waiting]
        if any(w.reason == "CrashLoopBackOff" for w in waiting):
            backed_off.setdefault(owner.uid, []).append(pod.metadata.name)
    deleted = []
    for owner, names in backed_off.items():
        restarted_owners.add(owner)
        for name in names:
            try:
                core.delete_namespaced_pod(name, "kube-system", grace_period_seconds=0)
            except Exception:  # noqa: BLE001  (gone already, or the API server restarting)
                continue
            deleted.append(name)
    return deleted


def image_release(image: str) -> str | None:
    """The Kubernetes version in a node image's tag (kindest/node:v1.33.4@sha256:…, cka-lab/node:v1.34.0)."""
    _, colon, tag = image.split("@", 1)[0].rpartition(":")
    return tag if colon and "/" not in tag and tag.startswith("v1.") else None


def release_mismatch(wanted: str, running: set[str | None]) -> str | None:
    """Why the lab cluster cannot serve a scenario that needs `wanted`, or None. Nodes whose
    release is unknown (a node image of one's own) do not count."""
    known = sorted(v for v in running if v)
    if not known or known == [wanted]:
        return None
    return f"this scenario needs Kubernetes {wanted}; the lab cluster runs {' and '.join(known)}"


def shape_mismatch(wanted: int, have: int) -> str | None:
    """Why the lab cluster's control plane cannot serve a scenario that needs `wanted`
    control-plane nodes, or None."""
    if wanted == have:
        return None
    def nodes(n: int) -> str:
        return "1 control-plane node" if n == 1 else f"{n} control-plane nodes"
    return f"this scenario needs {nodes(wanted)}; the lab cluster has {nodes(have)}"


def _pod_ready(pod) -> bool:
    if pod.status.phase == "Succeeded":
        return True
    return is_ready(pod)


def unavailable_api_services(registration, core) -> list[str]:
    """A sentence for each aggregated API (an APIService backed by a Service) not Available
    although its Service has a ready endpoint. One without a ready backend is left out: the
    add-on is broken or gone, which installing it again (`start`) repairs."""
    from kubernetes.client.exceptions import ApiException

    problems = []
    for service in registration.list_api_service().items:
        backend = service.spec.service
        if backend is None:
            continue  # served by the API server itself
        conditions = {c.type: c for c in ((service.status.conditions if service.status else None) or [])}
        available = conditions.get("Available")
        if available is not None and available.status == "True":
            continue
        try:
            endpoints = core.read_namespaced_endpoints(backend.name, backend.namespace)
        except ApiException as exc:
            if exc.status == 404:
                continue
            raise
        if not any(subset.addresses for subset in endpoints.subsets or []):
            continue
        problems.append(f"APIService {service.metadata.name} not available"
                        f" ({available.message if available else 'no status yet'})")
    return problems
