"""A tiny build runner: ordered steps, each cached by a stamp file keyed on its inputs."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from lab.errors import LabError


@dataclass
class Step:
    """One build step. It is skipped when its stamp matches `key` and `is_present()` holds."""

    name: str
    action: Callable[[], None]
    inputs: dict | Callable[[], dict] = field(default_factory=dict)
    """Everything the output depends on (versions, recipe file hashes, IDs of input images);
    any change rebuilds. A callable is evaluated when the step's turn comes, after the steps
    before it have built what it depends on."""
    is_present: Callable[[], bool] = lambda: True
    """Whether the output still exists (e.g. a Docker image may have been pruned)."""
    always: bool = False
    """Steps that only check the machine (the Docker engine) run every time."""

    def key(self) -> str:
        inputs = self.inputs() if callable(self.inputs) else self.inputs
        raw = json.dumps({"name": self.name, **inputs}, sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()


class StepFailed(LabError):
    title = "Offline build failed"


def file_digest(*paths: Path) -> str:
    """Hash of files (or every file under directories), for step inputs."""
    digest = hashlib.sha256()
    for root in paths:
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def run_steps(steps: Iterable[Step], stamp_dir: Path, console: Console) -> dict[str, float]:
    """Run steps in order; returns seconds per step (0.0 for cached ones)."""
    stamp_dir.mkdir(parents=True, exist_ok=True)
    steps = list(steps)
    timings: dict[str, float] = {}
    for index, step in enumerate(steps, 1):
        stamp = stamp_dir / f"{step.name}.stamp"
        label = f"[{index}/{len(steps)}] {step.name}"
        key = step.key()
        if not step.always and stamp.exists() and stamp.read_text() == key and step.is_present():
            console.print(f"{label}: cached")
            timings[step.name] = 0.0
            continue
        started = time.monotonic()
        with console.status(f"{label} …"):
            try:
                step.action()
            except LabError as exc:
                raise StepFailed(f"step '{step.name}' failed: {exc}", title=exc.title) from exc
            except OSError as exc:
                raise StepFailed(f"step '{step.name}' failed: {exc}") from exc
        elapsed = time.monotonic() - started
        timings[step.name] = elapsed
        if not step.always:
            stamp.write_text(key)
        console.print(f"{label}: done in {elapsed:.0f}s")
    return timings
