"""The add-ons on the real test cluster: NetworkPolicy is enforced (by kind's kindnetd, the pod
network, or by kube-router's iptables/ipset controller on a kernel without nf_tables' queue
expression, which kindnetd's policy agent needs), the
default StorageClass provisions volumes that outlive their pod, `kubectl top` answers, and
Traefik routes Gateway API HTTPRoutes and Ingresses by path. metrics-server and the gateway are
installed on demand here, as `start` does for a scenario that declares them."""

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
    # kind's own pod network, offline as online
    kindnet = apps.read_namespaced_daemon_set("kindnet", "kube-system")
    assert "kindest/kindnetd" in kindnet.spec.template.spec.containers[0].image
    expected = ["kindnet"] if nft_queue_supported(lab_cluster.cluster.nodes()[0]) else ["kindnet", "kube-router"]
    assert ("kube-router" in names) == ("kube-router" in expected), names
    for name in expected:
        status = apps.read_namespaced_daemon_set(name, "kube-system").status
        assert status.number_ready == status.desired_number_scheduled == nodes, name


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


def on_demand(lab_cluster, name: str) -> None:
    """Install an add-on the test cluster does not get by default (built first if offline)."""
    import sys

    from lab.addons import install

    install.ensure(lab_cluster.cluster, [name], progress=lambda line: print(line, file=sys.stderr))


def test_kubectl_top_nodes_answers(lab_cluster, ctx) -> None:
    on_demand(lab_cluster, "metrics-server")
    metrics = client.CustomObjectsApi(ctx.api)
    nodes = sorted(n.metadata.name for n in ctx.core.list_node().items)
    listed = wait_until(
        lambda: (items := metrics.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")["items"])
        and sorted(i["metadata"]["name"] for i in items) == nodes and items,
        120, "node metrics for every node",
    )
    assert all(i["usage"]["cpu"] and i["usage"]["memory"] for i in listed)
    control_plane = next(n for n in lab_cluster.cluster.nodes() if n.role == "control-plane")
    out = control_plane.run(["kubectl", "--kubeconfig=/etc/kubernetes/admin.conf", "top", "nodes"]).stdout
    print(out)
    assert "CPU(cores)" in out.splitlines()[0] and "MEMORY(bytes)" in out.splitlines()[0]
    assert {line.split()[0] for line in out.splitlines()[1:]} == set(nodes)


def backend(name: str, paths: list[str]) -> dict:
    script = "; ".join(f"mkdir -p /www/{p} && echo {name} > /www/{p}/index.html" for p in paths)
    return pod(name, "busybox:1.36", {"app": name}, ["sh", "-c", f"{script}; exec httpd -f -p 8080 -h /www"])


def service(name: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}


def from_host(url: str) -> str:
    """The body at url fetched from the host, ignoring the environment's proxies; "" when refused."""
    import urllib.error
    import urllib.request

    try:
        return urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=4).read().decode()
    except (urllib.error.URLError, OSError):
        return ""


def test_traefik_routes_httproutes_and_ingresses_by_path(lab_cluster, ctx) -> None:
    on_demand(lab_cluster, "gateway")
    ns = namespace(ctx, "addons-gateway")
    core, custom, net = ctx.core, client.CustomObjectsApi(ctx.api), client.NetworkingV1Api(ctx.api)
    group, version = "gateway.networking.k8s.io", "v1"
    try:
        for name, paths in (("backend-a", ["gw-a", "ing-a"]), ("backend-b", ["gw-b", "ing-b"])):
            core.create_namespaced_pod(ns, backend(name, paths))
            core.create_namespaced_service(ns, service(name))
        core.create_namespaced_pod(ns, pod("client", "busybox:1.36", {"role": "client"}, ["sleep", "3600"]))
        running(ctx, ns, "backend-a", "backend-b", "client")
        custom.create_namespaced_custom_object(group, version, ns, "gateways", {
            "apiVersion": f"{group}/{version}", "kind": "Gateway", "metadata": {"name": "web"},
            "spec": {"gatewayClassName": "traefik",
                     "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}]},
        })
        custom.create_namespaced_custom_object(group, version, ns, "httproutes", {
            "apiVersion": f"{group}/{version}", "kind": "HTTPRoute", "metadata": {"name": "by-path"},
            "spec": {"parentRefs": [{"name": "web"}], "rules": [
                {"matches": [{"path": {"type": "PathPrefix", "value": f"/gw-{x}"}}],
                 "backendRefs": [{"name": f"backend-{x}", "port": 80}]} for x in ("a", "b")
            ]},
        })
        net.create_namespaced_ingress(ns, {
            "metadata": {"name": "by-path"},
            "spec": {"ingressClassName": "traefik", "rules": [{"http": {"paths": [
                {"path": f"/ing-{x}", "pathType": "Prefix",
                 "backend": {"service": {"name": f"backend-{x}", "port": {"number": 80}}}} for x in ("a", "b")
            ]}}]},
        })

        def programmed() -> bool:
            gw = custom.get_namespaced_custom_object(group, version, ns, "gateways", "web")
            return any(c["type"] == "Programmed" and c["status"] == "True" for c in gw.get("status", {}).get("conditions", []))

        wait_until(programmed, 90, "the Gateway to be programmed by Traefik")
        entry = "http://traefik.traefik.svc.cluster.local"
        for path, want in (("/gw-a/", "backend-a"), ("/gw-b/", "backend-b"), ("/ing-a/", "backend-a"), ("/ing-b/", "backend-b")):
            out = wait_until(lambda path=path: (o := fetch(ctx, ns, "client", entry + path)) and "->OK" in o and o, 90,
                             f"Traefik to route {path}")
            assert out.split()[0] == want, (path, out)
        # and from the host, through the node port on every node (no proxy from the environment)
        for node in lab_cluster.cluster.nodes():
            url = f"http://{node.ip()}:30080/gw-b/"
            body = wait_until(lambda url=url: from_host(url), 60, f"{url} from the host")
            assert body.strip() == "backend-b", (url, body)
        route = custom.get_namespaced_custom_object(group, version, ns, "httproutes", "by-path")
        parents = route["status"]["parents"]
        assert any(c["type"] == "Accepted" and c["status"] == "True" for c in parents[0]["conditions"])
    finally:
        core.delete_namespace(ns)
