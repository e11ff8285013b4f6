"""The always-on add-ons on the real test cluster: NetworkPolicy is enforced (by
kube-network-policies, or by kube-router's iptables/ipset controller on a kernel without
nf_tables' queue expression), and the default StorageClass provisions volumes that outlive their
pod. (metrics-server and the gateway are out of the suite for now: on this machine's CI run the
metrics API stayed unavailable, its discovery answering 404.)"""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import stream

from tests.e2e.polling import wait_until

pytestmark = pytest.mark.cluster

CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}


@pytest.fixture(scope="module")
def ctx(lab_cluster):
    return lab_cluster.ctx


def namespace(ctx, name: str):
    core = ctx.core
    try:
        core.delete_namespace(name)
        wait_until(lambda: not _exists(lambda: core.read_namespace(name)), 120, f"old namespace {name} to go")
    except ApiException as exc:
        if exc.status != 404:
            raise
    core.create_namespace({"metadata": {"name": name}})
    return name


def _exists(read) -> bool:
    try:
        read()
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


def pod(name: str, image: str, labels: dict, command: list[str] | None = None, on_control_plane: bool = False,
        volumes: list | None = None, mounts: list | None = None) -> dict:
    spec: dict = {
        "terminationGracePeriodSeconds": 0,
        "containers": [{"name": "main", "image": image, "imagePullPolicy": "IfNotPresent",
                        **({"command": command} if command else {}), **({"volumeMounts": mounts} if mounts else {})}],
    }
    if on_control_plane:
        spec["tolerations"] = [CONTROL_PLANE]
        spec["nodeSelector"] = {"node-role.kubernetes.io/control-plane": ""}
    if volumes:
        spec["volumes"] = volumes
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels}, "spec": spec}


def running(ctx, ns: str, *names: str) -> dict[str, str]:
    """Wait until the pods run and are ready; their IPs."""

    def ready() -> dict[str, str] | None:
        ips = {}
        for name in names:
            p = ctx.core.read_namespaced_pod(name, ns)
            if not any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []):
                return None
            ips[name] = p.status.pod_ip
        return ips

    return wait_until(ready, 180, f"pods {names} to be ready in {ns}")


def sh(ctx, ns: str, name: str, command: str) -> str:
    return stream(ctx.streaming_core().connect_get_namespaced_pod_exec, name, ns,
                  command=["sh", "-c", command], stderr=True, stdin=False, stdout=True, tty=False)


def fetch(ctx, ns: str, client_pod: str, url: str) -> str:
    # Debian's busybox wget -T crashes: bound it with timeout instead
    return sh(ctx, ns, client_pod, f"timeout 4 wget -q -O- {url} 2>&1 && echo ' ->OK' || echo ' ->FAIL'")


def policy(name: str, spec: dict) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name}, "spec": spec}


def test_the_network_policy_implementation_fits_the_kernel(lab_cluster, ctx) -> None:
    from lab.addons.install import nft_queue_supported

    apps = client.AppsV1Api(ctx.api)
    names = {d.metadata.name for d in apps.list_namespaced_daemon_set("kube-system").items}
    nodes = len(ctx.core.list_node().items)
    expected, other = (("kube-network-policies", "kube-router") if nft_queue_supported(lab_cluster.cluster.nodes()[0])
                       else ("kube-router", "kube-network-policies"))
    assert expected in names and other not in names, names
    status = apps.read_namespaced_daemon_set(expected, "kube-system").status
    assert status.number_ready == status.desired_number_scheduled == nodes


def test_network_policy_denies_then_allows_exactly_one_flow(ctx) -> None:
    ns = namespace(ctx, "addons-netpol")
    core, net = ctx.core, client.NetworkingV1Api(ctx.api)
    try:
        core.create_namespaced_pod(ns, pod("web", "nginx:1.27", {"app": "web"}))  # on the worker
        core.create_namespaced_pod(ns, pod("client", "busybox:1.36", {"role": "client"}, ["sleep", "3600"],
                                           on_control_plane=True))  # across nodes
        core.create_namespaced_pod(ns, pod("other", "busybox:1.36", {"role": "other"}, ["sleep", "3600"]))  # same node
        web = running(ctx, ns, "web", "client", "other")["web"]
        url = f"http://{web}/"
        for who in ("client", "other"):
            wait_until(lambda who=who: "Welcome to nginx" in fetch(ctx, ns, who, url), 60, f"{who} reaching web before any policy")

        net.create_namespaced_network_policy(ns, policy("default-deny", {"podSelector": {}, "policyTypes": ["Ingress"]}))
        for who in ("client", "other"):
            out = wait_until(lambda who=who: (o := fetch(ctx, ns, who, url)) and "->FAIL" in o and o, 60,
                             f"default-deny to block {who}")
            assert "Welcome to nginx" not in out

        net.create_namespaced_network_policy(ns, policy("allow-client-to-web", {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}], "ports": [{"protocol": "TCP", "port": 80}]}],
        }))
        wait_until(lambda: "Welcome to nginx" in fetch(ctx, ns, "client", url), 60, "the allow rule to let client through")
        # exactly that flow: the client keeps getting through, the other pod stays blocked
        for _ in range(3):
            assert "Welcome to nginx" in fetch(ctx, ns, "client", url)
            assert "->FAIL" in fetch(ctx, ns, "other", url)
    finally:
        core.delete_namespace(ns)


def test_default_class_provisions_a_volume_that_outlives_its_pod(ctx) -> None:
    ns = namespace(ctx, "addons-storage")
    core = ctx.core
    try:
        default = [sc for sc in client.StorageV1Api(ctx.api).list_storage_class().items
                   if (sc.metadata.annotations or {}).get("storageclass.kubernetes.io/is-default-class") == "true"]
        assert [(sc.metadata.name, sc.provisioner) for sc in default] == [("standard", "rancher.io/local-path")]
        core.create_namespaced_persistent_volume_claim(ns, {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}},
        })
        volume = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
        mount = [{"name": "data", "mountPath": "/data"}]
        writer = pod("holder", "busybox:1.36", {"app": "holder"},
                     ["sh", "-c", "[ -f /data/token ] || cat /proc/sys/kernel/random/uuid > /data/token; sleep 3600"],
                     volumes=volume, mounts=mount)
        core.create_namespaced_pod(ns, writer)
        running(ctx, ns, "holder")
        claim = core.read_namespaced_persistent_volume_claim("data", ns)
        assert claim.status.phase == "Bound" and claim.spec.storage_class_name == "standard"
        pv = core.read_persistent_volume(claim.spec.volume_name)
        assert (pv.metadata.annotations or {}).get("pv.kubernetes.io/provisioned-by") == "rancher.io/local-path"
        token = sh(ctx, ns, "holder", "cat /data/token").strip()
        assert len(token) == 36, token

        core.delete_namespaced_pod("holder", ns, grace_period_seconds=0)
        wait_until(lambda: not _exists(lambda: core.read_namespaced_pod("holder", ns)), 120, "the pod to be deleted")
        core.create_namespaced_pod(ns, writer)
        running(ctx, ns, "holder")
        assert sh(ctx, ns, "holder", "cat /data/token").strip() == token
    finally:
        core.delete_namespace(ns)
