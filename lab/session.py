"""The lab engine: one object the CLI, the TUI and the tests drive.

It owns the practice session's state (scenario, step, hints, times), persisted in the state
directory so every `cka-lab` command sees the same session, and talks to the cluster only
through LabCluster (cka-lab's own kubeconfig)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from lab import paths, settings as settings_module, undo
from lab.actions.objects import apply_objects
from lab.checks import CheckResult, run_check
from lab.cluster.lab_cluster import LabCluster
from lab.context import LabContext
from lab.errors import LabError
from lab.ledger import Ledger
from lab.registry import FAULTS
from lab.scenario import loader
from lab.scenario.models import Scenario
from lab.settings import Settings

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class StartCancelled(LabError):
    title = "Start cancelled"


class SessionState(BaseModel):
    """What `cka-lab status` shows; saved as JSON after every change."""

    scenario_id: str
    scenario_path: str
    variant: str | None = None
    """The variant being played (None for a scenario without variants)."""
    seed: int | None = None
    """The seed the variant was picked with (None: picked at random or named)."""
    step: int = 0
    """Index of the current step."""
    injected: int = -1
    """Highest step whose faults are all in place (-1: none yet)."""
    started_at: float = Field(default_factory=time.time)
    step_started_at: float = Field(default_factory=time.time)
    hints_shown: dict[int, int] = Field(default_factory=dict)
    solutions_shown: list[int] = Field(default_factory=list)
    step_seconds: dict[int, float] = Field(default_factory=dict)
    finished: bool = False


class Lab:
    """Facade over cluster, ledger and session state."""

    def __init__(self, settings: Settings | None = None, state_dir: Path | None = None):
        self.settings = settings or settings_module.load()
        self.state_dir = state_dir or paths.state_dir()
        self.cluster = LabCluster(self.settings, self.state_dir)
        self.ledger = Ledger(self.state_dir / "ledger.json")
        self._ctx: LabContext | None = None
        self._scenario: Scenario | None = None
        self._variant: str | None = None

    # --- state -------------------------------------------------------------------------------

    @property
    def session_file(self) -> Path:
        return self.state_dir / "session.json"

    def state(self) -> SessionState | None:
        if not self.session_file.exists():
            return None
        return SessionState.model_validate_json(self.session_file.read_text())

    def _save(self, state: SessionState) -> None:
        tmp = self.session_file.with_suffix(".tmp")
        tmp.write_text(state.model_dump_json(indent=1))
        tmp.replace(self.session_file)

    def require_state(self) -> SessionState:
        state = self.state()
        if state is None:
            raise LabError("no practice session is running", title="No session", hint="start one: cka-lab start <scenario>")
        return state

    def scenario(self) -> Scenario:
        state = self.require_state()
        if self._scenario is None or self._scenario.id != state.scenario_id or self._variant != state.variant:
            self._scenario = loader.load_file(Path(state.scenario_path)).with_variant(state.variant)
            self._variant = state.variant
        return self._scenario

    @property
    def ctx(self) -> LabContext:
        if self._ctx is None:
            self._ctx = LabContext(self.cluster, self.ledger)
        return self._ctx

    # --- lifecycle ---------------------------------------------------------------------------

    def start(
        self,
        scenario: Scenario,
        scenario_path: Path,
        progress: Progress = _quiet,
        *,
        seed: int | None = None,
        variant: str | None = None,
        cancel: threading.Event | None = None,
    ) -> SessionState:
        """Create or reuse the cluster, undo any earlier session, apply setup, inject step 1.
        A scenario with variants plays `variant`, else one picked by `seed` (random without).
        Setting `cancel` stops at the next safe point with StartCancelled, everything undone."""

        def checkpoint() -> None:
            if cancel is not None and cancel.is_set():
                raise StartCancelled("start cancelled; everything it injected is undone")

        chosen = variant if variant is not None else scenario.pick_variant(seed)
        played = scenario.with_variant(chosen)  # fails early on an unknown variant
        self.cluster.ensure(scenario.cluster.workers, progress)
        checkpoint()
        self._ctx = None
        if len(self.ledger) or self.state():
            progress("undoing the previous session first")
            self.reset(progress)
        self.cluster.wait_until_healthy(progress=progress)
        checkpoint()
        if scenario.images:
            self.cluster.load_images(scenario.images, progress)
        checkpoint()
        state = SessionState(
            scenario_id=scenario.id,
            scenario_path=str(scenario_path.resolve()),
            variant=chosen,
            seed=seed if variant is None else None,
        )
        if chosen:
            progress(f"variant: {chosen}")
        self._scenario, self._variant = played, chosen
        self._save(state)
        try:
            if scenario.setup:
                progress(f"applying setup: {len(scenario.setup)} object(s)")
                apply_objects(self.ctx, scenario.setup)
            checkpoint()
            if scenario.setup_checks:
                self.wait_for_checks(scenario.setup_checks, timeout=240, progress=progress, what="setup")
            checkpoint()
            self._inject(state, 0, progress, checkpoint)
        except BaseException:
            # never leave half a scenario behind: undo what was done, then report
            progress("start failed: undoing what was injected")
            try:
                self.reset(progress)
            except Exception as exc:  # keep the original error; the ledger still holds the rest
                progress(f"undo incomplete ({exc}); run `cka-lab reset`")
            raise
        return state

    def _inject(
        self, state: SessionState, index: int, progress: Progress, checkpoint: Callable[[], None] = lambda: None
    ) -> None:
        step = self.scenario().steps[index]
        for number, fault in enumerate(step.faults, 1):
            checkpoint()
            progress(f"step {index + 1}: injecting fault {number}/{len(step.faults)} ({fault.type})")
            FAULTS.get(fault.type).call(self.ctx, fault)
        state.step = index
        state.injected = index
        state.step_started_at = time.time()
        self._save(state)

    def run_checks(self) -> list[tuple[str, CheckResult]]:
        """Grade the current step: (check type, result) for each check."""
        state = self.require_state()
        if state.finished:
            return []
        step = self.scenario().steps[state.step]
        return [(check.type, run_check(self.ctx, check)) for check in step.checks]

    def advance(self, progress: Progress = _quiet) -> bool:
        """If the current step passes, record its time and inject the next step. True if it passed."""
        state = self.require_state()
        if state.finished:
            return True
        if not all(result.passed for _, result in self.run_checks()):
            return False
        state.step_seconds[state.step] = time.time() - state.step_started_at
        if state.step + 1 >= len(self.scenario().steps):
            state.finished = True
            self._save(state)
            return True
        self._inject(state, state.step + 1, progress)
        return True

    def reveal_hint(self) -> tuple[int, str] | None:
        """Reveal the next hint of the current step: (number, text), or None when all are shown."""
        state = self.require_state()
        hints = self.scenario().steps[state.step].hints
        shown = state.hints_shown.get(state.step, 0)
        if shown >= len(hints):
            return None
        state.hints_shown[state.step] = shown + 1
        self._save(state)
        return shown + 1, hints[shown]

    def shown_hints(self) -> list[str]:
        state = self.require_state()
        return self.scenario().steps[state.step].hints[: state.hints_shown.get(state.step, 0)]

    def reveal_solution(self) -> str:
        state = self.require_state()
        if state.step not in state.solutions_shown:
            state.solutions_shown.append(state.step)
            self._save(state)
        return self.scenario().steps[state.step].solution

    def reset(self, progress: Progress = _quiet) -> int:
        """Undo every recorded change, end the session, wait until the cluster is healthy."""
        undone = 0
        if len(self.ledger):
            if not self.cluster.exists():
                progress("the lab cluster is gone; dropping its undo ledger")
                self.ledger.clear()
            else:
                self.cluster.assert_owned()
                undone = undo.replay(self.ctx, progress)
        self.session_file.unlink(missing_ok=True)
        if self.cluster.exists() and undone:
            # Control-plane pods that crash-looped while a fault was in place (or lost their
            # leases when etcd's data moved) wait out the kubelet's back-off, up to 5 minutes.
            self.cluster.wait_until_healthy(timeout=600, progress=progress)
        return undone

    def down(self, progress: Progress = _quiet) -> None:
        if self.cluster.exists():
            self.cluster.assert_owned()
        self.cluster.delete(progress)
        self.ledger.clear()
        self.session_file.unlink(missing_ok=True)

    # --- grading helpers ---------------------------------------------------------------------

    def wait_for_checks(self, checks: list, timeout: float, progress: Progress = _quiet, what: str = "checks") -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            results = [run_check(self.ctx, check) for check in checks]
            failing = [r.message for r in results if not r.passed]
            if not failing:
                return
            if failing[0] != last:
                progress(f"waiting for {what}: {failing[0]}")
                last = failing[0]
            if time.monotonic() > deadline:
                raise LabError(f"{what} did not pass within {timeout:.0f}s: " + "; ".join(failing), title="Timed out")
            time.sleep(3)

    def summary(self) -> dict:
        state = self.require_state()
        scenario = self.scenario()
        return {
            "scenario": scenario.id,
            "title": scenario.title,
            "variant": state.variant,
            "step": state.step + 1,
            "steps": len(scenario.steps),
            "finished": state.finished,
            "elapsed_seconds": round(time.time() - state.started_at),
            "hints_used": sum(state.hints_shown.values()),
            "solutions_viewed": len(state.solutions_shown),
            "step_seconds": {str(k + 1): round(v) for k, v in state.step_seconds.items()},
            "faults_recorded": len(self.ledger),
        }


