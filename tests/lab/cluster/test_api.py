"""The bounded API client against a real HTTP server on a socket: what it retries and what it
does not."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import urllib3

from lab.cluster.api import bounded_client, is_ready, ready_condition

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
users: [{{name: u, user: {{token: t}}}}]
contexts: [{{name: x, context: {{cluster: c, user: u}}}}]
current-context: x
"""

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Server:
    """Answers each connection by `behaviours` in turn: "close" reads the request and hangs
    up without a response (an idle keep-alive connection closed as a request arrived),
    "silent" reads it and never answers, "ok" answers 200."""

    def __init__(self, behaviours: list[str]) -> None:
        self.behaviours = behaviours
        self.requests = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        held = []
        for behaviour in self.behaviours:
            conn, _ = self.sock.accept()
            conn.recv(65536)
            self.requests += 1
            if behaviour == "ok":
                conn.sendall(OK)
                held.append(conn)  # keep-alive: the client may reuse it
            elif behaviour == "close":
                conn.close()
            else:
                held.append(conn)


def client_for(server: Server, tmp_path: Path):
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG.format(port=server.port))
    return bounded_client(path, read_timeout=1.0)


def test_a_get_on_a_connection_closed_without_response_is_sent_again(tmp_path: Path) -> None:
    server = Server(["close", "ok"])
    api = client_for(server, tmp_path)
    response = api.rest_client.pool_manager.request("GET", f"http://127.0.0.1:{server.port}/api")
    assert response.status == 200
    assert server.requests == 2


def test_a_post_is_never_sent_twice(tmp_path: Path) -> None:
    # the server may have acted on it: creating an object twice is worse than an error
    server = Server(["close", "ok"])
    api = client_for(server, tmp_path)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        api.rest_client.pool_manager.request("POST", f"http://127.0.0.1:{server.port}/api", body=b"{}")
    assert server.requests == 1


def test_a_read_timeout_is_not_retried(tmp_path: Path) -> None:
    server = Server(["silent", "ok"])
    api = client_for(server, tmp_path)
    began = time.monotonic()
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        api.rest_client.pool_manager.request("GET", f"http://127.0.0.1:{server.port}/api")
    assert time.monotonic() - began < 1.9  # one read bound, not two
    assert server.requests == 1


def test_ready_reads_the_ready_condition_of_nodes_and_pods() -> None:
    from kubernetes.client import V1Node, V1NodeCondition, V1NodeStatus, V1Pod, V1PodCondition, V1PodStatus

    node = V1Node(status=V1NodeStatus(conditions=[
        V1NodeCondition(type="MemoryPressure", status="False"),
        V1NodeCondition(type="Ready", status="False", message="kubelet stopped posting node status"),
    ]))
    assert not is_ready(node) and ready_condition(node).message == "kubelet stopped posting node status"
    assert is_ready(V1Pod(status=V1PodStatus(conditions=[V1PodCondition(type="Ready", status="True")])))
    # a pod just created has no conditions yet, a bare object no status
    assert not is_ready(V1Pod(status=V1PodStatus())) and ready_condition(V1Pod()) is None


def _pki(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as kind's are made."""
    import subprocess

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "1", "-subj", "/CN=kubernetes")
    for name, extra in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}/O=kubeadm:cluster-admins")
        (folder / f"{name}.ext").write_text(extra + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.crt", "-days", "1", "-extfile", f"{name}.ext")
    return {p.stem + p.suffix: p for p in folder.iterdir()}


def _kind_kubeconfig(pki: dict[str, Path], port: int) -> str:
    import base64

    def data(name: str) -> str:
        return base64.standard_b64encode(pki[name].read_bytes()).decode()

    # the shape `kind get kubeconfig` prints
    return f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {data("ca.crt")}
    server: https://127.0.0.1:{port}
  name: kind-lab
contexts:
- context:
    cluster: kind-lab
    user: kind-lab
  name: kind-lab
current-context: kind-lab
kind: Config
preferences: {{}}
users:
- name: kind-lab
  user:
    client-certificate-data: {data("client.crt")}
    client-key-data: {data("client.key")}
"""


def test_a_kind_kubeconfig_authenticates_with_its_client_certificate(tmp_path: Path) -> None:
    import ssl

    pki = _pki(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki["server.crt"], pki["server.key"])
    context.load_verify_locations(pki["ca.crt"])
    context.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no handshake
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]  # wrap_socket below takes the socket over
    seen: list[str] = []

    def serve() -> None:
        with context.wrap_socket(sock, server_side=True) as tls:
            conn, _ = tls.accept()
            seen.append(dict(x[0] for x in conn.getpeercert()["subject"])["commonName"])
            conn.recv(65536)
            conn.sendall(OK)

    threading.Thread(target=serve, daemon=True).start()
    path = tmp_path / "kubeconfig"
    path.write_text(_kind_kubeconfig(pki, port))
    api = bounded_client(path, read_timeout=2.0)
    assert api.configuration.host == f"https://127.0.0.1:{port}"
    assert api.configuration.verify_ssl
    response = api.rest_client.pool_manager.request("GET", f"{api.configuration.host}/api")
    assert response.status == 200
    assert seen == ["client"]
    # certificate and key are readable by this user only
    assert Path(api.configuration.key_file).stat().st_mode & 0o077 == 0
    assert Path(api.configuration.key_file).parent.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("change", [
    ("client-key-data: ", "client-key: /somewhere/client.key\n    client-key-data: "),  # a file beside the data
    ("    client-certificate-data:", "    token: t\n    client-certificate-data:"),  # another credential
    ("server: https://", "server: http://"),
    ("certificate-authority-data: ", "certificate-authority-data: not-base64!"),
])
def test_any_other_kubeconfig_shape_is_left_to_the_clients_own_loader(tmp_path: Path, change) -> None:
    from kubernetes import client

    from lab.cluster.api import _configure_from_embedded_certificates

    pki = _pki(tmp_path)
    path = tmp_path / "kubeconfig"
    path.write_text(_kind_kubeconfig(pki, 6443).replace(*change, 1))
    assert not _configure_from_embedded_certificates(path, client.Configuration())
    path.write_text(_kind_kubeconfig(pki, 6443))
    assert _configure_from_embedded_certificates(path, client.Configuration())


def test_clients_of_one_kubeconfig_share_one_copy_of_its_key(tmp_path: Path) -> None:
    # a client is made per exec stream: each must not leave a key file of its own behind
    pki = _pki(tmp_path)
    path = tmp_path / "kubeconfig"
    path.write_text(_kind_kubeconfig(pki, 6443))
    first, second = (bounded_client(path).configuration for _ in range(2))
    assert (first.key_file, first.cert_file, first.ssl_ca_cert) == (second.key_file, second.cert_file, second.ssl_ca_cert)
    assert Path(first.key_file).read_bytes() == pki["client.key"].read_bytes()
    # other certificates (a re-created cluster) get their own files
    (tmp_path / "other").mkdir()
    other = _pki(tmp_path / "other")
    path.write_text(_kind_kubeconfig(other, 6443))
    third = bounded_client(path).configuration
    assert third.key_file != first.key_file
    assert Path(third.key_file).read_bytes() == other["client.key"].read_bytes()
