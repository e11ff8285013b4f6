"""Installing add-ons into the lab cluster: decided from what the cluster has of its own and what
cka-lab installed there before (recorded beside the cluster, never in the undo ledger, so reset
leaves add-ons in place), applied with server-side apply, waited on until ready."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.addons import crds
from lab.addons.catalog import ADDONS, KIND_KINDNETD, LOCAL_PATH, Addon, Workload, images, wanted
from lab.atomic import write_atomic
from lab.cluster.api import transient_api_errors
from lab.errors import ClusterError, TimedOut
from lab.wait import Pending, wait_until

Progress = Callable[[str], None]
FIELD_MANAGER = "cka-lab-addons"
RECORD = "addons.json"


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Observed:
    """What the cluster has of its own that an add-on would duplicate."""

    kindnet_image: str | None = None
    """Image of the DaemonSet kube-system/kindnet (kind's kindnetd enforces NetworkPolicy)."""
    standard_provisioner: str | None = None
    """Provisioner of the StorageClass `standard`."""
    local_path_image: str | None = None
    """Image of the Deployment local-path-storage/local-path-provisioner (kind's own, or ours)."""
    nft_queue: bool | None = None
    """The nodes' kernel has nf_tables' queue expression, which kindnetd enforces NetworkPolicy
    with (NFT_QUEUE_PROBE); None where nobody asked (a cluster without kindnetd)."""


@dataclass
class Plan:
    builtin: list[str] = field(default_factory=list)
    """Wanted, and the cluster has it of its own (online kind): nothing installed."""
    apply: list[str] = field(default_factory=list)
    """Not installed yet, or installed from other manifests: applied, then waited on."""
    current: list[str] = field(default_factory=list)
    """Installed from these very manifests: only waited on."""
    replace_storage_class: bool = False
    """The StorageClass `standard` has another provisioner (kind's legacy host-path class of the
    offline node image); a provisioner cannot change, so it is deleted before the apply."""


def builtin(name: str, observed: Observed) -> bool:
    """The cluster has the add-on of its own (online kind: kindnetd, kind's local-path)."""
    if name == "network-policy":
        return has_kindnetd(observed) and observed.nft_queue is True
    if name == "storage":
        return bool(observed.standard_provisioner == LOCAL_PATH and observed.local_path_image
                    and observed.local_path_image != images()["local-path-provisioner"])
    return False


def has_kindnetd(observed: Observed) -> bool:
    return bool(observed.kindnet_image and KIND_KINDNETD in observed.kindnet_image)


def plan(declared: Iterable[str], observed: Observed, installed: dict[str, str], digests: dict[str, str]) -> Plan:
    """The install decision, from the scenario's declarations, the cluster's own components,
    what the record says was installed (name -> manifest digest) and the current digests (a
    changed manifest or pin means apply)."""
    result = Plan()
    for name in wanted(list(declared)):
        if builtin(name, observed):
            result.builtin.append(name)
        elif installed.get(name) == digests[name]:
            result.current.append(name)
        else:
            result.apply.append(name)
            if name == "storage" and observed.standard_provisioner not in (None, LOCAL_PATH):
                result.replace_storage_class = True
    return result


# --- the record ---------------------------------------------------------------------------------


def read_record(state_dir: Path, containers: list[str]) -> dict[str, str]:
    """name -> digest of the add-ons installed into the cluster with these node containers
    (a re-created cluster has none)."""
    try:
        record = json.loads((state_dir / RECORD).read_text())
        if sorted(record["containers"]) == sorted(containers):
            return {str(k): str(v) for k, v in record["installed"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return {}


def write_record(state_dir: Path, containers: list[str], installed: dict[str, str]) -> None:
    write_atomic(state_dir / RECORD, json.dumps({"containers": sorted(containers), "installed": installed}, indent=1))


# --- the cluster --------------------------------------------------------------------------------


class _Clients:
    def __init__(self, api: Any):
        from kubernetes import client
        from kubernetes.dynamic import DynamicClient

        self.api = api
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.storage = client.StorageV1Api(api)
        self.extensions = client.ApiextensionsV1Api(api)
        self.registration = client.ApiregistrationV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.dynamic = DynamicClient(api)


def _not_found(call: Callable[[], Any]) -> Any:
    from kubernetes.client.exceptions import ApiException

    try:
        return call()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def observe(c: _Clients) -> Observed:
    kindnet = _not_found(lambda: c.apps.read_namespaced_daemon_set("kindnet", "kube-system"))
    standard = _not_found(lambda: c.storage.read_storage_class("standard"))
    local_path = _not_found(lambda: c.apps.read_namespaced_deployment("local-path-provisioner", "local-path-storage"))
    return Observed(
        kindnet_image=kindnet.spec.template.spec.containers[0].image if kindnet else None,
        standard_provisioner=standard.provisioner if standard else None,
        local_path_image=local_path.spec.template.spec.containers[0].image if local_path else None,
    )


def apply_documents(c: _Clients, documents: list[dict[str, Any]]) -> None:
    """Server-side apply, cka-lab's add-on field manager taking over any conflicting field."""
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    for doc in documents:
        try:
            resource = c.dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        except ResourceNotFoundError:
            # a kind served by CRDs applied a moment ago: discover again
            c.dynamic.resources.invalidate_cache()
            resource = c.dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        namespace = doc["metadata"].get("namespace") if resource.namespaced else None
        resource.server_side_apply(
            body=doc, name=doc["metadata"]["name"], namespace=namespace, field_manager=FIELD_MANAGER, force_conflicts=True
        )


def crds_established(c: _Clients, names: list[str]) -> object:
    for name in names:
        crd = _not_found(lambda name=name: c.extensions.read_custom_resource_definition(name))
        conditions = {x.type: x.status for x in (crd.status.conditions or [])} if crd and crd.status else {}
        if conditions.get("Established") != "True":
            return Pending(f"CRD {name} not established yet")
    return True


def workload_ready(c: _Clients, workload: Workload) -> object:
    label = f"{workload.kind} {workload.namespace}/{workload.name}"
    if workload.kind == "DaemonSet":
        ds = _not_found(lambda: c.apps.read_namespaced_daemon_set(workload.name, workload.namespace))
        if ds is None:
            return Pending(f"{label} not found")
        s = ds.status
        want = s.desired_number_scheduled or 0
        # a status older than the spec (an apply a moment ago) still counts the old pods ready
        if (s.observed_generation or 0) < ds.metadata.generation or want == 0 or (s.number_ready or 0) < want or (
            s.updated_number_scheduled or 0
        ) < want or (s.number_unavailable or 0) > 0:
            return Pending(f"{label}: {s.number_ready or 0}/{want} ready")
        return True
    deploy = _not_found(lambda: c.apps.read_namespaced_deployment(workload.name, workload.namespace))
    if deploy is None:
        return Pending(f"{label} not found")
    s, want = deploy.status, deploy.spec.replicas or 0
    if (s.observed_generation or 0) < deploy.metadata.generation or (s.updated_replicas or 0) < want or (
        s.ready_replicas or 0
    ) < want or (s.replicas or 0) > want:
        return Pending(f"{label}: {s.ready_replicas or 0}/{want} ready")
    return True


def workloads_ready(c: _Clients, addon: Addon) -> object:
    for workload in addon.workloads:
        outcome = workload_ready(c, workload)
        if outcome is not True:
            return outcome
    return True


def ready(c: _Clients, addon: Addon) -> object:
    """True when the add-on does its job; else Pending with what it still waits for."""
    outcome = workloads_ready(c, addon)
    if outcome is not True:
        return outcome
    if addon.api_service:
        service = _not_found(lambda: c.registration.read_api_service(addon.api_service))
        conditions = {x.type: x for x in (service.status.conditions or [])} if service and service.status else {}
        available = conditions.get("Available")
        if available is None or available.status != "True":
            return Pending(f"APIService {addon.api_service}: {available.message if available else 'no status yet'}")
    if addon.name == "metrics-server":
        # `kubectl top nodes` answers only after the first scrape of every node
        nodes = len(c.core.list_node().items)
        metrics = c.custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
        if len(metrics.get("items", [])) < nodes:
            return Pending(f"metrics for {len(metrics.get('items', []))} of {nodes} nodes")
    if addon.gateway_crds:
        gateway_class = _not_found(
            lambda: c.custom.get_cluster_custom_object("gateway.networking.k8s.io", "v1", "gatewayclasses", "traefik")
        )
        conditions = {x["type"]: x["status"] for x in (gateway_class or {}).get("status", {}).get("conditions", [])}
        if conditions.get("Accepted") != "True":
            return Pending("GatewayClass traefik not accepted yet")
    return True


NFT_QUEUE_PROBE = (
    "nft add table inet cka-lab-probe && nft add chain inet cka-lab-probe c '{ type filter hook forward priority 0; }'"
    " && nft add rule inet cka-lab-probe c queue num 98 bypass; status=$?; nft delete table inet cka-lab-probe"
    " 2>/dev/null; exit $status"
)
"""kindnetd's policy agent queues packets with nf_tables' queue expression; a kernel built without
it (CONFIG_NFT_QUEUE) refuses the agent's whole rule set and no policy is enforced."""
NO_NFT_QUEUE = ("this kernel lacks nf_tables' queue expression, which kindnetd enforces NetworkPolicy with: "
                "kube-router's iptables/ipset policy controller enforces it instead")


def nft_queue_supported(node) -> bool:
    return node.sh(NFT_QUEUE_PROBE, check=False, timeout=30).returncode == 0


def _build_missing_offline(cluster, chosen: dict[str, Addon], names: list[str], progress: Progress) -> None:
    """On an offline machine, add-ons beyond the always-on ones are built the first time a
    scenario needs them (there is no registry to pull their images from)."""
    if not cluster.settings.is_offline():
        return
    from lab.offline.images import image_present
    from lab.offline.prepare import prepare_addons_for

    missing = [n for n in names if not all(image_present(i) for i in chosen[n].image_names())]
    if missing:
        prepare_addons_for(missing, progress)


def ensure(cluster, declared: Iterable[str], progress: Progress = _quiet, timeout: float = 300) -> Plan:
    """Install the add-ons `declared` (plus the always-on ones) that the cluster lacks, and wait
    until every one is ready. Idempotent; a second call with nothing new only checks readiness."""
    declared = list(declared)
    identity = cluster.identity()
    if identity is None:
        raise ClusterError("the lab cluster does not exist", hint="run `cka-lab start <scenario>`")
    installed = read_record(cluster.state_dir, identity.containers)
    c = _Clients(cluster.api_client())
    decided = wait_until(lambda: observe(c), timeout=60, what="the API server", retry_on=transient_api_errors())
    if has_kindnetd(decided) and "network-policy" not in installed:
        # the nodes are containers of one host: they share its kernel
        decided = dataclasses.replace(decided, nft_queue=nft_queue_supported(cluster.nodes()[0]))
    chosen = {name: ADDONS[name] for name in wanted(declared)}
    digests = {name: addon.digest() for name, addon in chosen.items()}
    result = plan(declared, decided, installed, digests)
    if result.apply:
        _build_missing_offline(cluster, chosen, result.apply, progress)
        progress(f"installing add-ons: {', '.join(result.apply)}")
        images = [i for name in result.apply for i in chosen[name].image_names()]
        cluster.load_images(list(dict.fromkeys(images)), progress)
    for name in list(result.current):
        if ready(c, chosen[name]) is not True:
            # installed before, but something is missing now (deleted by hand): apply again
            result.current.remove(name)
            result.apply.append(name)
            cluster.load_images(chosen[name].image_names(), progress)
    deferred: dict[str, list[dict[str, Any]]] = {}
    for name in result.apply:
        addon = chosen[name]
        if addon.gateway_crds:
            documents = crds.documents()
            progress(f"applying the Gateway API CRDs ({len(documents)} objects)")
            apply_documents(c, documents)
            names = [d["metadata"]["name"] for d in documents if d["kind"] == "CustomResourceDefinition"]
            wait_until(lambda: crds_established(c, names), timeout=60, interval=1, what="the Gateway API CRDs",
                       progress=progress, retry_on=transient_api_errors())
            c.dynamic.resources.invalidate_cache()
        if name == "storage" and result.replace_storage_class:
            progress("replacing the StorageClass standard by the local-path provisioner's")
            c.storage.delete_storage_class("standard")
        if name == "network-policy" and decided.nft_queue is False:
            progress(NO_NFT_QUEUE)
        progress(f"applying add-on {name}: {addon.summary}")
        documents = addon.documents()
        # An APIService goes in only once its backend serves. Registered with its Service, the
        # aggregator's first probe can dial the new cluster IP before kube-proxy routes it; sent
        # down the node's default route, that connection may be answered by whatever listens
        # beyond (a 404 from a host's proxy), and the API server keeps reusing it: the APIService
        # stays unavailable, and with it every namespace deletion, until the API server restarts.
        deferred[name] = [d for d in documents if d["kind"] == "APIService"]
        apply_documents(c, [d for d in documents if d["kind"] != "APIService"])
    for name in result.apply + result.current:
        try:
            if deferred.get(name):
                wait_until(lambda name=name: workloads_ready(c, chosen[name]), timeout=timeout,
                           what=f"add-on {name}'s workloads", progress=progress, retry_on=transient_api_errors())
                apply_documents(c, deferred[name])
            wait_until(lambda name=name: ready(c, chosen[name]), timeout=timeout, what=f"add-on {name}",
                       progress=progress, retry_on=transient_api_errors())
        except TimedOut as exc:
            raise ClusterError(f"add-on {name} did not become ready: {exc.message}",
                               hint=f"kubectl get pods -A; the add-on's workloads: "
                               f"{', '.join(w.kind + ' ' + w.namespace + '/' + w.name for w in chosen[name].workloads)}") from None
        if installed.get(name) != digests[name]:
            installed[name] = digests[name]
            write_record(cluster.state_dir, identity.containers, installed)
    return result
