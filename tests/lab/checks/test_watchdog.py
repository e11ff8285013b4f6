"""The watchdog grader's own logic, run here as the real shell script it is, against a stand-in
`kubectl` on PATH (a proxy that listens or answers Unauthorized, a Deployment that scales): it
fails a script that gives up, one that waits only for the API, one that never ends or ends
badly, and passes one that retries. The real API outage on a real node is proven by
tests/e2e/test_watchdog.py and `selftest api-watchdog`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lab.checks.watchdog import grader_script

FAKE_KUBECTL = textwrap.dedent(
    '''\
    #!{python}
    """kubectl as far as the grader and the scripts under test use it."""
    import os, socket, sys, time
    state = os.environ["FAKE_STATE"]
    port = int(os.environ["FAKE_PORT"])
    args = sys.argv[1:]

    def read(name, default):
        try:
            return open(os.path.join(state, name)).read().strip()
        except FileNotFoundError:
            return default

    if "proxy" in args:
        conf = next(a.split("=", 1)[1] for a in args if a.startswith("--kubeconfig="))
        open(os.path.join(state, "proxy"), "w").write("revoked" if conf.endswith("revoked.conf") else "admin")
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        print(f"Starting to serve on 127.0.0.1:{{port}}", flush=True)
        while True:
            server.accept()[0].close()
    if "scale" in args:
        replicas = next(a.split("=", 1)[1] for a in args if a.startswith("--replicas="))
        open(os.path.join(state, "replicas"), "w").write(replicas)
        with open(os.path.join(state, "scales"), "a") as log:
            log.write(replicas + "\\n")
        print("deployment.apps/web scaled")
        sys.exit(0)
    if "config" in args:
        print("https://127.0.0.1:6443", end="")
        sys.exit(0)
    if "get" in args:
        probe = socket.socket()
        probe.settimeout(1)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            print(f"The connection to the server 127.0.0.1:{{port}} was refused - did you specify the right host or port?",
                  file=sys.stderr)
            sys.exit(1)
        finally:
            probe.close()
        if read("proxy", "") == "revoked":
            print("error: You must be logged in to the server (the server has asked for the client to provide credentials)", file=sys.stderr)
            sys.exit(1)
        if int(read("replicas", "2")) == 0:
            print("No resources found in watch namespace.", file=sys.stderr)
            sys.exit(0)
        print("NAME        READY   STATUS    RESTARTS   AGE")
        print("web-1       1/1     Running   0          5s")
        sys.exit(0)
    print("fake kubectl: unexpected arguments", args, file=sys.stderr)
    sys.exit(64)
    '''
)

ROBUST = """#!/bin/sh
until kubectl get pods -n watch -l app=web 2>/dev/null | grep -q Running; do sleep 0.5; done
echo web is up
"""
NAIVE = """#!/bin/sh
kubectl get pods -n watch -l app=web | grep -q Running && echo web is up
"""
API_ONLY = """#!/bin/sh
until kubectl get pods -n watch -l app=web >/dev/null 2>&1; do sleep 0.5; done
echo the API answers
"""
RETRIES_ONLY_REFUSED = """#!/bin/sh
while true; do
  if out=$(kubectl get pods -n watch -l app=web 2>&1); then
    echo "$out" | grep -q Running && break
  else
    echo "$out" | grep -q refused || exit 2
  fi
  sleep 0.5
done
echo web is up
"""
NEVER_ENDS = """#!/bin/sh
while true; do sleep 0.5; done
"""
ENDS_BADLY = """#!/bin/sh
until kubectl get pods -n watch -l app=web 2>/dev/null | grep -q Running; do sleep 0.5; done
exit 3
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def node(tmp_path: Path):
    """A stand-in node: a bin folder with the fake kubectl, a state folder, a free port."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(FAKE_KUBECTL.format(python=sys.executable))
    kubectl.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir()
    port = _free_port()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_STATE": str(state), "FAKE_PORT": str(port)}
    (tmp_path / "admin.conf").write_text("apiVersion: v1\nkind: Config\n")
    return {"tmp": tmp_path, "state": state, "port": port, "env": env}


def _script(node, text: str, executable: bool = True) -> Path:
    path = node["tmp"] / "watchdog.sh"
    path.write_text(text)
    path.chmod(0o755 if executable else 0o644)
    return path


def _grader(node, path: Path, mode: str = "refused", outage: int = 2, recovery: int = 8, settle: int = 2) -> str:
    return grader_script(
        str(path), "watch", "web", 2, outage, mode, recovery,
        settle=settle, port=node["port"], workdir=str(node["tmp"] / "work"),
        admin_conf=str(node["tmp"] / "admin.conf"), ca_file=str(node["tmp"] / "ca.crt"),
    )


def _grade(node, path: Path, **kwargs) -> tuple[int, str]:
    result = subprocess.run(["bash", "-c", _grader(node, path, **kwargs)], capture_output=True, text=True,
                            env=node["env"], timeout=60)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    return result.returncode, lines[-1] if lines else ""


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _scales(node) -> list[str]:
    return (node["state"] / "scales").read_text().split()


@pytest.mark.parametrize("mode", ["refused", "unauthorized"])
def test_a_script_that_retries_passes_and_everything_is_put_back(node, mode: str) -> None:
    code, verdict = _grade(node, _script(node, ROBUST), mode=mode)
    assert code == 0, verdict
    answer = "Unauthorized" if mode == "unauthorized" else "connection refused"
    assert verdict == f"the script retried through 2s of {answer} and exited 0 once the pods were listed"
    assert _scales(node) == ["0", "2", "2"]  # away, back, and back once more by the exit trap
    assert not _port_open(node["port"])  # the grader's proxy is gone


@pytest.mark.parametrize("mode", ["refused", "unauthorized"])
def test_a_script_that_gives_up_at_the_first_error_fails(node, mode: str) -> None:
    code, verdict = _grade(node, _script(node, NAIVE), mode=mode)
    assert code == 4
    assert verdict.startswith("the script exited (code 1) while the API was away"), verdict
    assert _scales(node)[-1] == "2"


def test_the_kubectl_error_the_script_saw_is_quoted_back(node) -> None:
    _, verdict = _grade(node, _script(node, NAIVE), mode="unauthorized")
    assert "You must be logged in to the server" in verdict


def test_a_script_that_waits_only_for_the_api_fails(node) -> None:
    code, verdict = _grade(node, _script(node, API_ONLY))
    assert code == 4
    assert verdict.startswith("the script exited (code 0) once the API answered, before the pods were listed"), verdict


def test_retrying_on_refused_connections_only_does_not_survive_unauthorized(node) -> None:
    script = _script(node, RETRIES_ONLY_REFUSED)
    assert _grade(node, script, mode="refused")[0] == 0
    code, verdict = _grade(node, script, mode="unauthorized")
    assert code == 4 and "code 2" in verdict, verdict


def test_a_script_that_never_ends_fails_and_is_stopped(node) -> None:
    code, verdict = _grade(node, _script(node, NEVER_ENDS), recovery=2)
    assert code == 6
    assert verdict.startswith("the script was still running 2s after the API and the pods were back"), verdict
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", str(node["tmp"] / "watchdog.sh")], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the grader left the script running"


def test_a_script_that_ends_with_an_error_after_the_recovery_fails(node) -> None:
    code, verdict = _grade(node, _script(node, ENDS_BADLY))
    assert code == 5
    assert verdict.startswith("the script exited 3 after the recovery (0 expected)"), verdict


def test_a_script_that_is_missing_or_not_executable_is_named(node) -> None:
    code, verdict = _grade(node, _script(node, ROBUST, executable=False))
    assert code == 3 and verdict.endswith("watchdog.sh is not an executable file (chmod +x it)"), verdict
    assert not (node["state"] / "scales").exists()  # nothing was taken away


def test_a_taken_port_is_reported_before_anything_is_taken_away(node) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", node["port"]))
        busy.listen()
        code, verdict = _grade(node, _script(node, ROBUST))
    assert code == 1 and verdict == f"port {node['port']} on this node is taken: stop what listens there", verdict
    assert _scales(node) == ["2"]  # only the exit trap's scale back


def test_a_second_grading_at_once_is_turned_away(node) -> None:
    script = _script(node, ROBUST)
    first = subprocess.Popen(["bash", "-c", _grader(node, script, outage=3)], env=node["env"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 10
        while not (node["state"] / "scales").exists():
            assert time.monotonic() < deadline, "the first grading never started"
            time.sleep(0.1)
        code, verdict = _grade(node, script)
        assert code == 2 and verdict.startswith("another grading of the watchdog runs on this node"), verdict
    finally:
        assert first.wait(timeout=60) == 0, first.stdout.read()


def test_a_grader_stopped_mid_outage_puts_everything_back(node) -> None:
    script = _script(node, ROBUST)
    grader = subprocess.Popen(["bash", "-c", _grader(node, script, mode="unauthorized", outage=20)], env=node["env"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 10
    while not _port_open(node["port"]):
        assert time.monotonic() < deadline, "the outage's proxy never listened"
        time.sleep(0.1)
    grader.send_signal(signal.SIGTERM)
    grader.wait(timeout=20)
    assert _scales(node) == ["0", "2"]
    assert not _port_open(node["port"])
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", str(script)], capture_output=True, text=True)
    assert left.stdout.strip() == "", "the grader left the script running"
