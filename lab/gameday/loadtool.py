"""The traffic generator's load tool, vegeta: the binary the offline build made, or built here
once from its Go module (about half a minute) when the build has not made it yet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lab import versions
from lab.errors import LabError

Progress = Callable[[str], None]


def vegeta_binary(progress: Progress = lambda _: None) -> Path:
    from lab.offline import gobuild
    from lab.offline.prepare import bin_dir, offline_dir

    binary = bin_dir() / "vegeta"
    if binary.exists():
        return binary
    progress(f"building the load tool (vegeta {versions.VEGETA_VERSION}) once")
    try:
        gobuild.build(gobuild.vegeta_build(), offline_dir() / "work", bin_dir())
    except LabError as exc:
        exc.hint = (exc.hint + "\n" if exc.hint else "") + "`cka-lab offline prepare` builds it with the other tools"
        raise
    if not binary.exists():
        raise LabError(f"building vegeta left no binary at {binary}", title="Load tool missing",
                       hint="`cka-lab offline prepare` builds it with the other tools")
    return binary
