"""A tiny build runner: steps cached by a stamp file keyed on their inputs, run on a small thread
pool as soon as the steps they depend on have finished."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from lab.errors import LabError

PARALLEL_STEPS = 2
"""Steps running at once: a Go build beside a debootstrap or a docker build uses the machine
better than either alone, and more would only compete for the same cores."""


@dataclass
class Step:
    """One build step. It is skipped when its stamp matches `key` and `is_present()` holds."""

    name: str
    action: Callable[[], None]
    inputs: dict | Callable[[], dict] = field(default_factory=dict)
    """Everything the output depends on (versions, recipe file hashes, IDs of input images);
    any change rebuilds. A callable is evaluated when the step's turn comes, after the steps
    it runs after have built what it depends on."""
    is_present: Callable[[], bool] = lambda: True
    """Whether the output still exists (e.g. a Docker image may have been pruned)."""
    always: bool = False
    """Steps that only check the machine (the Docker engine) run every time."""
    after: tuple[str, ...] = ()
    """Names of the steps that must have finished before this one starts (what it reads)."""

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


def check_order(steps: list[Step]) -> None:
    """Every `after` names an earlier step of the plan (so the plan cannot deadlock)."""
    seen: set[str] = set()
    for step in steps:
        if step.name in seen:
            raise ValueError(f"two steps are named {step.name!r}")
        unknown = [name for name in step.after if name not in seen]
        if unknown:
            raise ValueError(f"step {step.name!r} runs after {unknown}, which come later or not at all")
        seen.add(step.name)


def run_steps(
    steps: Iterable[Step], stamp_dir: Path, console: Console, parallel: int = PARALLEL_STEPS
) -> dict[str, float]:
    """Run steps (cached ones are skipped), each once the steps it runs after have finished, up
    to `parallel` at once, in plan order among the ready ones; returns seconds per step (0.0 for
    cached ones). One line per finished step. After a failure no new step starts; the running
    ones finish, then the first failure is raised."""
    stamp_dir.mkdir(parents=True, exist_ok=True)
    steps = list(steps)
    check_order(steps)
    timings: dict[str, float] = {}
    waiting = list(steps)
    running: dict[Future, Step] = {}
    failure: StepFailed | None = None
    finished = 0

    def report(step: Step, outcome: str) -> None:
        nonlocal finished
        finished += 1
        console.print(f"[{finished}/{len(steps)}] {step.name}: {outcome}")

    def ready(step: Step) -> bool:
        return all(name in timings for name in step.after)

    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="step") as pool:
        status = console.status("")
        status.start()
        try:
            while waiting or running:
                while failure is None and len(running) < parallel:
                    step = next((s for s in waiting if ready(s)), None)
                    if step is None:
                        break
                    waiting.remove(step)
                    key = step.key()
                    stamp = stamp_dir / f"{step.name}.stamp"
                    if not step.always and stamp.exists() and stamp.read_text() == key and step.is_present():
                        timings[step.name] = 0.0
                        report(step, "cached")
                        continue
                    running[pool.submit(_run_one, step, key, stamp)] = step
                if not running:
                    break  # a failure stopped what was waiting
                status.update(" · ".join(f"{s.name} …" for s in running.values()))
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    step = running.pop(future)
                    try:
                        timings[step.name] = future.result()
                    except StepFailed as exc:
                        failure = failure or exc
                        report(step, "failed")
                        continue
                    report(step, f"done in {timings[step.name]:.0f}s")
        finally:
            status.stop()
    if failure is not None:
        raise failure
    return timings


def _run_one(step: Step, key: str, stamp: Path) -> float:
    started = time.monotonic()
    try:
        step.action()
    except LabError as exc:
        raise StepFailed(f"step '{step.name}' failed: {exc.message}", title=exc.title, hint=exc.hint) from exc
    except OSError as exc:
        raise StepFailed(f"step '{step.name}' failed: {exc}") from exc
    if not step.always:
        stamp.write_text(key)
    return time.monotonic() - started
