"""A Docker engine that can run kind nodes: installed from Debian's docker.io where missing,
started when nothing answers, with an OCI runtime shim only where the host needs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from lab.errors import LabError, TimedOut
from lab.offline.images import FILES
from lab.shell import run_build
from lab.wait import wait_until

CAP_SYS_RESOURCE = 24
RUNTIME_NAME = "cka-lab-runc"
RUNTIME_PATH = Path("/usr/local/sbin/cka-lab-runc")
DAEMON_JSON = Path("/etc/docker/daemon.json")


def host_lacks_sys_resource() -> bool:
    """True when this process's capability bounding set lacks CAP_SYS_RESOURCE: runc then
    cannot start privileged containers ("unable to apply caps: operation not permitted")."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return not (int(line.split()[1], 16) >> CAP_SYS_RESOURCE) & 1
    return False


def docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return run_build(["docker", "info", "--format", "{{.ServerVersion}}"], check=False, timeout=20).returncode == 0


def install_runtime_shim() -> bool:
    """Install the shim and make it Docker's default runtime; True if daemon.json changed."""
    RUNTIME_PATH.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(FILES / "runc-wrapper.sh", RUNTIME_PATH)
    RUNTIME_PATH.chmod(0o755)
    config = json.loads(DAEMON_JSON.read_text()) if DAEMON_JSON.exists() else {}
    wanted = dict(config)
    wanted.setdefault("runtimes", {})[RUNTIME_NAME] = {"path": str(RUNTIME_PATH)}
    wanted["default-runtime"] = RUNTIME_NAME
    if wanted == config:
        return False
    DAEMON_JSON.parent.mkdir(parents=True, exist_ok=True)
    DAEMON_JSON.write_text(json.dumps(wanted, indent=2) + "\n")
    return True


def ensure_engine(log_dir: Path) -> str:
    """Make `docker info` answer; returns a one-line description of what was done."""
    needs_shim = host_lacks_sys_resource()
    if needs_shim and not shutil.which("jq"):
        _apt_install("jq")
    changed = install_runtime_shim() if needs_shim else False
    if docker_answers() and not changed:
        return "Docker engine answers"
    if not shutil.which("dockerd"):
        _apt_install("docker.io")
    if docker_answers() and changed:
        # a running engine must re-read daemon.json to learn the runtime
        pid = run_build(["pidof", "dockerd"], check=False).stdout.strip()
        if pid:
            run_build(["kill", "-HUP", pid.split()[0]])
            wait_until(docker_answers, timeout=30, what="the Docker engine to answer after reloading")
        return "Docker engine reloaded with the capability shim"
    if shutil.which("systemctl") and run_build(["systemctl", "is-system-running"], check=False).stdout.strip() in (
        "running",
        "degraded",
    ):
        run_build(["systemctl", "start", "docker"], check=False)
    if not docker_answers():
        log_dir.mkdir(parents=True, exist_ok=True)
        log = open(log_dir / "dockerd.log", "ab")
        subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)
    try:
        wait_until(docker_answers, timeout=60, what="the Docker engine to answer")
    except TimedOut:
        raise LabError(
            f"dockerd did not answer within 60s; see {log_dir / 'dockerd.log'}",
            title="Docker engine not running",
        ) from None
    return "Docker engine started" + (" with the capability shim" if needs_shim else "")


def _apt_install(package: str) -> None:
    run_build(["apt-get", "update"], context=f"installing {package}")
    run_build(["apt-get", "install", "-y", package], env={"DEBIAN_FRONTEND": "noninteractive"}, context=f"installing {package}")
