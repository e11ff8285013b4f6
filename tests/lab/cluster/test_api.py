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
