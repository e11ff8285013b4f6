"""What the TUI needs from the engine.

The app is handed an object with these methods (lab.session.Lab in production, a scripted fake
in the tests); it never builds clusters itself. Methods marked *blocking* touch Docker or
Kubernetes and are only ever called from thread workers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from lab.checks.result import CheckResult
from lab.scenario.models import Scenario

Progress = Callable[[str], None]
CheckResults = list[tuple[str, CheckResult]]


class NodeLike(Protocol):
    @property
    def short_name(self) -> str: ...


class ClusterLike(Protocol):
    def nodes(self) -> Sequence[NodeLike]:  # blocking
        ...


class Engine(Protocol):
    state_dir: Path
    cluster: ClusterLike

    def state(self): ...  # SessionState | None; reads a small JSON file
    def scenario(self) -> Scenario: ...
    def start(
        self, scenario: Scenario, scenario_path: Path, progress: Progress, *, cancel: threading.Event | None = None
    ): ...  # blocking; stops at a safe point once cancel is set
    def run_checks(self, *, periodic: bool = False) -> CheckResults: ...
    # blocking; periodic (the re-check every few seconds) leaves the on-demand checks unrun
    def advance(self, progress: Progress, *, wait: float | None = 30.0) -> bool: ...
    # blocking; holds the state lock (LabBusy when another process holds it longer than wait);
    # records the result when the scenario ends
    def reset(self, progress: Progress) -> int: ...  # blocking; records an abandoned attempt
    def reveal_hint(self) -> tuple[int, str] | None: ...
    def shown_hints(self) -> list[str]: ...
    def reveal_solution(self) -> str: ...
    def reveal_check(self, number: int | None = None) -> int | None: ...  # counted in the record
