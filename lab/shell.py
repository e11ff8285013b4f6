"""Running host commands, with errors that print the failing command ready to paste."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from lab.errors import ClusterError, CommandError

DEFAULT_TIMEOUT = 120.0
"""Seconds any host command may take unless its caller says otherwise: nothing cka-lab runs
may hang for ever (a paused node, a stuck Docker engine)."""
BUILD_TIMEOUT = 3600.0
"""Seconds an offline build step (a Go build, debootstrap, docker build) may take."""


def run(
    argv: Sequence[str],
    *,
    input: str | bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    check: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    context: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run argv, capture stdout and stderr as text; raise CommandError (with both) on failure,
    and when it runs longer than `timeout` seconds (it is killed then)."""
    full_env = None
    if env is not None:
        full_env = {**os.environ, **env}
    data = input.encode() if isinstance(input, str) else input
    try:
        proc = subprocess.run(
            list(argv),
            input=data,
            capture_output=True,
            env=full_env,
            cwd=cwd,
            timeout=timeout,
        )
    except FileNotFoundError as exc:
        raise CommandError(argv, 127, f"{argv[0]}: not found on PATH", context=context) from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandError(argv, -1, f"did not finish within {timeout:g}s (killed)", context=context) from exc
    result = subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode(errors="replace"),
        proc.stderr.decode(errors="replace"),
    )
    docker_down = os.path.basename(argv[0]) == "docker" and "Cannot connect to the Docker daemon" in result.stderr
    if check and proc.returncode != 0 and docker_down:
        raise DockerUnavailable(
            f"the Docker engine is not reachable ({result.stderr.strip().splitlines()[0]})",
            hint="start it (`sudo systemctl start docker`, or open Docker Desktop); on a machine without internet "
            "`cka-lab offline prepare` starts it",
        )
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, result.stderr + result.stdout, context=context)
    return result


class DockerUnavailable(ClusterError):
    title = "Docker engine not running"


def run_build(argv: Sequence[str], *, timeout: float = BUILD_TIMEOUT, **kwargs) -> subprocess.CompletedProcess[str]:
    """`run` with a build step's time bound (offline preparation)."""
    return run(argv, timeout=timeout, **kwargs)
