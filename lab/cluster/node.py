"""A kind node: a Docker container running systemd, kubelet and containerd.

Like kind's own node interface, a node only knows how to run a command, its role and its IP;
everything else (reading and writing files, systemctl) is a helper built on `run`."""

from __future__ import annotations

import base64
import shlex
import subprocess
from dataclasses import dataclass

from lab.errors import ClusterError, CommandError
from lab.shell import run

CRICTL = ("crictl", "--timeout", "10s")
"""crictl as cka-lab runs it on a node. Its own default of 2 s to reach containerd failed on a
node still starting its first pods on a loaded 2-core machine ("context deadline exceeded while
waiting for connections to become ready"), which then read as a failed command."""
CRICTL_SHELL = " ".join(CRICTL)
"""The same, in a shell script."""

_DOCKER_OWN_ERRORS = ("Error response from daemon", "Cannot connect to the Docker daemon", "error during connect")


class NodeUnreachable(ClusterError):
    """`docker exec` itself failed (node container stopped, paused or gone; no Docker engine):
    the command never ran, so its exit code says nothing about the node."""

    title = "Node not reachable"


@dataclass(frozen=True)
class Node:
    container: str
    """Docker container name, e.g. cka-lab-control-plane."""
    role: str
    """control-plane or worker (kind's io.x-k8s.kind.role label)."""
    cluster: str

    @property
    def short_name(self) -> str:
        """The name scenarios use: control-plane, worker, worker2, ..."""
        return self.container.removeprefix(self.cluster + "-")

    def run(
        self, argv: list[str], *, input: str | bytes | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run argv inside the node. Raises NodeUnreachable when Docker could not run it at all
        (even with check=False), CommandError when it exited non-zero and check is set."""
        docker = ["docker", "exec", *(["-i"] if input is not None else []), self.container]
        try:
            result = run([*docker, *argv], input=input, check=False, timeout=timeout)
        except CommandError as exc:
            if exc.returncode == -1:
                raise NodeUnreachable(
                    f"node {self.short_name} did not answer within {timeout:g}s (is its container paused?)",
                    hint=f"docker inspect -f '{{{{.State.Status}}}}' {self.container}",
                ) from None
            raise
        if result.returncode != 0 and result.stderr.lstrip().startswith(_DOCKER_OWN_ERRORS):
            reason = result.stderr.strip().splitlines()[0]
            raise NodeUnreachable(
                f"cannot run commands on node {self.short_name}: {reason}",
                hint=f"docker inspect -f '{{{{.State.Status}}}}' {self.container}",
            )
        if check and result.returncode != 0:
            raise CommandError([*docker, *argv], result.returncode, result.stderr + result.stdout)
        return result

    def sh(self, script: str, *, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.run(["sh", "-c", script], check=check, timeout=timeout)

    def ip(self) -> str:
        out = run(
            ["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", self.container]
        )
        return out.stdout.split()[0]


def read_file(node: Node, path: str) -> bytes | None:
    """The file's bytes, or None when it does not exist (binary-safe through base64)."""
    out = node.sh(f"if [ -e {shlex.quote(path)} ]; then base64 -w0 {shlex.quote(path)}; else echo MISSING; fi")
    text = out.stdout.strip()
    if text == "MISSING":
        return None
    return base64.b64decode(text)


def file_mode(node: Node, path: str) -> int | None:
    out = node.run(["stat", "-c", "%a", path], check=False)
    return int(out.stdout.strip(), 8) if out.returncode == 0 else None


def write_file(node: Node, path: str, data: bytes, mode: int | None = None) -> None:
    """Write atomically (temp file + rename in the same directory), so a watcher such as the
    kubelet never sees half a static pod manifest; it ignores dot files, like the temp file."""
    quoted = shlex.quote(path)
    directory, _, base = path.rpartition("/")
    tmp = shlex.quote(f"{directory}/.cka-lab-tmp-{base}")
    chmod = f"chmod {mode:o} {tmp} && " if mode is not None else ""
    script = f"mkdir -p $(dirname {quoted}) && base64 -d > {tmp} && {chmod}mv -f {tmp} {quoted}"
    node.run(["sh", "-c", script], input=base64.b64encode(data))


def delete_file(node: Node, path: str) -> None:
    node.run(["rm", "-f", "--", path])


_ACTIVE_STATES = {"active", "inactive", "failed", "activating", "deactivating", "reloading", "maintenance"}
_ENABLED_STATES = {
    "enabled", "enabled-runtime", "linked", "linked-runtime", "alias", "masked", "masked-runtime", "static",
    "indirect", "disabled", "generated", "transient", "not-found",
}


def service_state(node: Node, service: str) -> tuple[bool, bool]:
    """(active, enabled) of a systemd unit on the node. Raises when systemctl gave no state it
    knows (the node did not answer): an unknown state is never read as "stopped"."""
    out = node.run(["systemctl", "is-active", service], check=False)
    active = out.stdout.strip()
    if active not in _ACTIVE_STATES:
        raise CommandError(out.args, out.returncode, out.stderr + out.stdout, context=f"reading the state of {service} on {node.short_name}")
    out = node.run(["systemctl", "is-enabled", service], check=False)
    enabled = out.stdout.strip()
    if enabled not in _ENABLED_STATES:
        raise CommandError(out.args, out.returncode, out.stderr + out.stdout, context=f"reading whether {service} is enabled on {node.short_name}")
    return active == "active", enabled == "enabled"


BOOT_SERVICES = ("containerd", "kubelet")
"""What a node container started again must have running, where enabled, before it counts as up."""
_BOOTING = ("initializing", "starting")


def wait_until_booted(node: Node, timeout: float = 120) -> None:
    """Wait until a node container started again finished booting and has its runtime and
    kubelet active (those of them enabled: one a fault disabled stays down until its own undo). A
    running container is a machine still booting: they come up seconds later, and a node stopped
    for less than the node monitor's grace period still reads Ready, so a health wait alone can
    pass before its kubelet runs. Raises TimedOut naming what is still down."""
    from lab.wait import Pending, wait_until

    def booted() -> object:
        state = node.run(["systemctl", "is-system-running"], check=False).stdout.strip()
        if state in _BOOTING:
            return Pending(f"still booting ({state})")
        down = [s for s in BOOT_SERVICES if service_state(node, s) == (False, True)]
        return not down or Pending(f"{', '.join(down)} not active yet")

    wait_until(booted, timeout=timeout, interval=1, what=f"node {node.short_name} to boot",
               retry_on=(CommandError, NodeUnreachable))


def must(result: subprocess.CompletedProcess[str], what: str) -> str:
    if result.returncode != 0:
        raise CommandError(result.args, result.returncode, result.stderr + result.stdout, context=what)
    return result.stdout
