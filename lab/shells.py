"""Interactive shells for the trainee: kubectl against the lab cluster, and a shell on a node.
Used by the CLI (`cka-lab shell`, `cka-lab ssh`) and the TUI (keys k and n) alike."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lab.errors import LabError


def tool_path() -> str:
    """PATH with the offline build's kubectl first, when there is one."""
    from lab.offline.prepare import bin_dir

    path = os.environ.get("PATH", "")
    return f"{bin_dir()}{os.pathsep}{path}" if (bin_dir() / "kubectl").exists() else path


def kubeconfig_path(lab) -> str:
    """KUBECONFIG for the trainee's shells: the lab's kubeconfig, after an exam's per-task
    contexts while an exam runs (`kubectl config use-context` then writes to that file, never
    to the lab's own)."""
    contexts = lab.state_dir / "exam-contexts"
    if lab.exam_file.exists() and contexts.exists():
        return f"{contexts}{os.pathsep}{lab.cluster.kubeconfig}"
    return str(lab.cluster.kubeconfig)


def shell_rc(kubeconfig: Path | str) -> str:
    """The lab shell's rc file. KUBECONFIG is set *after* the user's own rc file, so a
    `.bashrc` exporting another KUBECONFIG cannot point the lab shell at a real cluster."""
    quoted = shlex.quote(str(kubeconfig))
    return (
        "[ -f ~/.bashrc ] && . ~/.bashrc\n"
        f"export KUBECONFIG={quoted}\n"
        "unset KUBECTL_CONTEXT\n"
        "alias k=kubectl\n"
        "command -v kubectl >/dev/null && . <(kubectl completion bash) && complete -o default -F __start_kubectl k\n"
        'PS1="(cka-lab) $PS1"\n'
        'echo "cka-lab shell: KUBECONFIG=$KUBECONFIG — type exit to return"\n'
    )


def open_shell(lab) -> int:
    """A bash with the lab's KUBECONFIG and the `k` alias; returns its exit code."""
    kubeconfig = lab.cluster.kubeconfig
    if not kubeconfig.exists():
        raise LabError("the lab cluster has no kubeconfig", hint="start a scenario first: cka-lab start <scenario>")
    value = kubeconfig_path(lab)
    env = {**os.environ, "KUBECONFIG": value, "PATH": tool_path(), "CKA_LAB_SHELL": "1"}
    with tempfile.TemporaryDirectory(prefix="cka-lab-") as folder:
        rc = Path(folder) / "bashrc"
        rc.write_text(shell_rc(value))
        bash = shutil.which("bash")
        argv = [bash, "--rcfile", str(rc), "-i"] if bash else [os.environ.get("SHELL", "/bin/sh")]
        return subprocess.call(argv, env=env)


def open_node_shell(lab, node: str, command: list[str]) -> int:
    """A shell (or `command`) inside a node, as `ssh` to a node in the exam."""
    target = lab.cluster.node(node)
    tty = ["-it"] if sys.stdin.isatty() else ["-i"]
    # docker stops reading its own options at the container name: the command's words are never
    # taken as docker options
    argv = ["docker", "exec", *tty, "-e", "TERM=" + os.environ.get("TERM", "xterm"), target.container]
    argv += command or ["bash", "-l"]
    return subprocess.call(argv)
