"""Running host commands, with errors that print the failing command ready to paste."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from lab.errors import CommandError


def run(
    argv: Sequence[str],
    *,
    input: str | bytes | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    check: bool = True,
    timeout: float | None = None,
    context: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run argv, capture stdout and stderr as text; raise CommandError (with both) on failure."""
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
        raise CommandError(argv, -1, f"timed out after {timeout}s", context=context) from exc
    result = subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode(errors="replace"),
        proc.stderr.decode(errors="replace"),
    )
    if check and proc.returncode != 0:
        raise CommandError(argv, proc.returncode, result.stderr + result.stdout, context=context)
    return result
