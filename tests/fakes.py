"""The shared test fakes. FakeLab is a scripted stand-in for lab.session.Lab: the methods the
TUI uses, no Docker, no Kubernetes (fast tests of the front end's logic only; the real engine
is proven on a real cluster in tests/e2e).

It works on the real control-plane-failure scenario; each step's checks fail until the test
calls solve(step). Calls are recorded so tests can assert what the app asked the engine to do."""

from __future__ import annotations

import copy
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.checks.result import CheckResult
from lab.errors import LabError
from lab.ledger import Ledger
from lab.results import ResultsStore, attempt_from_state
from lab.scenario.loader import load_file
from lab.session import ON_DEMAND_WAITING, SessionState
from tui.app import LabApp
from tui.screens.browser import CatalogEntry

SCENARIO_PATH = Path(__file__).resolve().parents[1] / "scenarios" / "control-plane-failure.yaml"
T0 = 1_700_000_000.0
"""The fake's fixed "now" when a session starts; the tests' clock is T0 + a few minutes."""


class FakeNode:
    def __init__(self, short_name: str):
        self.short_name = short_name


class FakeCluster:
    def __init__(self):
        self.node_calls = 0

    def nodes(self) -> list[FakeNode]:
        self.node_calls += 1
        return [FakeNode("control-plane"), FakeNode("worker")]


class FakeLab:
    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.cluster = FakeCluster()
        self.scenario_path = SCENARIO_PATH
        self._scenario = load_file(SCENARIO_PATH)
        self._state: SessionState | None = None
        self.solved: set[int] = set()
        self.calls: list[str] = []
        self.periodic_checks: list[bool] = []
        """For each run_checks call: was it the TUI's periodic re-check?"""
        self.check_error: LabError | None = None
        self.start_gate: threading.Event | None = None
        """When set by a test, start() waits on it after its first progress line (to cancel)."""
        self.step_seconds = {0: 301.0, 1: 45.0, 2: 420.0, 3: 610.0}
        self.results = ResultsStore(self.state_dir)
        """Like the engine, the fake records a result when a scenario ends (finished or reset)."""

    # --- test helpers --------------------------------------------------------------------------

    def begin(self, step: int = 0, **state) -> None:
        """A session already started (as after `cka-lab start`), at `step`."""
        self._state = SessionState(
            scenario_id=self._scenario.id,
            scenario_path=str(self.scenario_path),
            step=step,
            injected=step,
            started_at=T0,
            step_started_at=T0,
            **state,
        )

    def solve(self, step: int) -> None:
        self.solved.add(step)

    # --- the engine interface ------------------------------------------------------------------

    def state(self) -> SessionState | None:
        return self._state.model_copy(deep=True) if self._state else None

    def require_state(self) -> SessionState:
        if self._state is None:
            raise LabError("no practice session is running", title="No session", hint="start one: cka-lab start <scenario>")
        return self._state

    def scenario(self):
        self.require_state()
        return self._scenario

    def start(self, scenario, scenario_path, progress, *, cancel=None) -> SessionState:
        from lab.errors import StartCancelled

        self.calls.append("start")
        progress("reusing the lab cluster")
        if self.start_gate is not None:
            self.start_gate.wait(timeout=10)
        if cancel is not None and cancel.is_set():  # the real engine's safe point
            raise StartCancelled("start cancelled; everything it injected is undone")
        progress("applying setup: 1 object(s)")
        self._scenario = scenario
        self.begin(0)
        progress("step 1: preparing (1/2)")
        return self.state()

    def run_checks(self, *, periodic: bool = False) -> list[tuple[str, CheckResult]]:
        self.calls.append("run_checks")
        self.periodic_checks.append(periodic)
        if self.check_error is not None:
            raise self.check_error
        state = self.require_state()
        if state.finished:
            return []
        passed = state.step in self.solved
        checks = self._scenario.steps[state.step].checks
        return [
            (c.type, ON_DEMAND_WAITING if periodic and getattr(c, "on_demand", False) else
             CheckResult(passed, f"{c.type}: ok" if passed else f"{c.type}: not ready (CrashLoopBackOff)"))
            for c in checks
        ]

    def advance(self, progress, *, wait: float | None = 30.0) -> bool:
        self.calls.append("advance")
        state = self.require_state()
        if state.step not in self.solved:
            return False
        state.step_seconds[state.step] = self.step_seconds[state.step]
        if state.step + 1 >= len(self._scenario.steps):
            state.finished = True
            self.results.add(attempt_from_state(state, self._scenario, CLOCK_NOW))
            return True
        progress(f"step {state.step + 2}: preparing (1/1)")
        state.step += 1
        state.injected = state.step
        return True

    def reveal_hint(self):
        state = self.require_state()
        hints = self._scenario.steps[state.step].hints
        shown = state.hints_shown.get(state.step, 0)
        if shown >= len(hints):
            return None
        state.hints_shown[state.step] = shown + 1
        return shown + 1, hints[shown]

    def shown_hints(self) -> list[str]:
        state = self.require_state()
        return self._scenario.steps[state.step].hints[: state.hints_shown.get(state.step, 0)]

    def reveal_check(self, number: int | None = None) -> int | None:
        from lab.checks.presentation import lockable

        state = self.require_state()
        opened = state.reveals.setdefault(state.step, [])
        locked = [i for i in lockable(self._scenario.steps[state.step].checks) if i not in opened]
        if not locked:
            return None
        opened.append(locked[0])
        return locked[0] + 1

    def reveal_solution(self) -> str:
        state = self.require_state()
        if state.step not in state.solutions_shown:
            state.solutions_shown.append(state.step)
        return self._scenario.steps[state.step].solution

    def reset(self, progress) -> int:
        self.calls.append("reset")
        progress("undoing 2 recorded change(s)")
        had_session = self._state is not None
        if self._state is not None and not self._state.finished:
            self.results.add(attempt_from_state(self._state, self._scenario, CLOCK_NOW))
        self._state = None
        return 2 if had_session else 0


CLOCK_NOW = T0 + 125  # 2 min 5 s into the session


def fixed_clock() -> float:
    return CLOCK_NOW


def sample_catalog(fake: FakeLab) -> list[CatalogEntry]:
    """The real scenario plus two renamed copies in other domains, for filter tests and snapshots
    that do not change whenever the real catalog grows."""
    real = load_file(fake.scenario_path)
    storage = real.model_copy(update={"id": "pv-stuck", "title": "Volume never binds", "domain": "Storage",
                                      "difficulty": "easy", "summary": "A PersistentVolumeClaim stays Pending.",
                                      "time_limit_minutes": None})
    network = real.model_copy(update={"id": "service-no-endpoints", "title": "Service has no endpoints",
                                      "domain": "Services and Networking", "difficulty": "hard",
                                      "summary": "Traffic to a Service goes nowhere."})
    return [CatalogEntry(fake.scenario_path, real), CatalogEntry(fake.scenario_path, storage),
            CatalogEntry(fake.scenario_path, network)]


def make_app(fake: FakeLab, *, open_session: bool, exam: FakeExam | None = None, open_exam: bool = False) -> LabApp:
    # check_interval is long so only explicit check runs happen: results stay deterministic
    return LabApp(fake, open_session=open_session, exam=exam, open_exam=open_exam, clock=fixed_clock,
                  check_interval=3600, catalog=sample_catalog(fake))


async def settle(pilot) -> None:
    """Let thread workers finish and their call_from_thread callbacks render."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


# --- engine-level fakes: a node, an API resource and the context faults receive ----------------


@dataclass
class ScriptedNode:
    """A node whose shell answers from a script: `kind` is what `[ -d ] / [ -e ]` reports."""

    kind: str  # what `[ -d ] / [ -e ]` reports: dir, file or absent
    short_name: str = "control-plane"
    commands: list[str] = field(default_factory=list)

    def sh(self, script: str, **_: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(script)
        if script.startswith("if [ -e") and "base64" in script:  # read_file
            return subprocess.CompletedProcess([], 0, "YQ==\n" if self.kind == "file" else "MISSING\n", "")
        return subprocess.CompletedProcess([], 0, self.kind + "\n", "")

    def run(self, argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        self.commands.append(" ".join(argv))
        if argv[:2] == ["test", "-e"]:  # undo verifies the path is gone
            return subprocess.CompletedProcess(argv, 1, "", "")
        return subprocess.CompletedProcess(argv, 0, "644\n", "")


class FakeObj:
    def __init__(self, data: dict[str, Any]):
        self.data = data

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self.data)


class FakeResource:
    namespaced = True

    def __init__(self, objects: dict[str, dict[str, Any]]):
        self.objects = objects
        self.applied: list[dict[str, Any]] = []

    def get(self, name: str, namespace: str | None = None) -> FakeObj:
        from kubernetes.dynamic.exceptions import NotFoundError

        if name not in self.objects:
            raise NotFoundError(type("E", (), {"status": 404, "reason": "NotFound", "body": "", "headers": {}})())
        return FakeObj(self.objects[name])

    def replace(self, body: dict[str, Any], name: str, namespace: str | None = None) -> None:
        self.objects[name] = body

    def server_side_apply(self, body: dict[str, Any], name: str, namespace: str | None, **_: Any) -> None:
        self.applied.append(body)
        self.objects[name] = body


@dataclass
class FakeCtx:
    ledger: Ledger
    nodes: dict[str, ScriptedNode] = field(default_factory=dict)
    resources: FakeResource = field(default_factory=lambda: FakeResource({}))

    def node(self, name: str) -> ScriptedNode:
        return self.nodes[name]

    def resource(self, api_version: str, kind: str) -> FakeResource:
        return self.resources


# --- a scripted exam engine for the exam screens --------------------------------------------------

EXAM_TASKS = (("control-plane-kubelet", "stopped"), ("etcd-backup-restore", None), ("pod-deletion", None),
              ("rollout-rollback", None))


class FakeExam:
    """The exam engine's interface (lab.exam.runner.Exam) over a real ExamState of real catalog
    scenarios, without a cluster: `passing` scripts which tasks' checks pass when it ends."""

    def __init__(self, fake: FakeLab):
        from lab.exam.state import ExamState, ExamTaskState
        from lab.scenario import loader

        catalog = loader.catalog()
        tasks = []
        for number, (scenario_id, variant) in enumerate(EXAM_TASKS, 1):
            scenario = load_file(catalog[scenario_id])
            tasks.append(ExamTaskState(number=number, scenario_id=scenario_id, variant=variant,
                                       snapshot=str(catalog[scenario_id]), domain=scenario.domain,
                                       points=scenario.exam.points, namespace=scenario.exam.namespace))
        self._state = ExamState(exam_id="f00d", seed=7, minutes=120, started_at=T0, tasks=tasks)
        self.running = False
        self.passing: set[int] = set()
        self.calls: list[str] = []
        self.results = fake.results

    def state(self):
        return copy.deepcopy(self._state) if self.running else None

    def require(self):
        if not self.running:
            raise LabError("no exam is running", title="No exam")
        return copy.deepcopy(self._state)

    def task_scenario(self, task):
        played = load_file(Path(task.snapshot)).with_variant(task.variant)
        return played.model_copy(update={"steps": played.steps[:1]})

    def plan(self, tasks: int, seed):
        return 7, []

    def start(self, drawn, *, seed: int, minutes: int, progress):
        self.calls.append("start")
        progress("task 1: preparing (1/1)")
        self.running = True
        return self.require()

    def flag(self, number: int, flagged=None) -> bool:
        task = self._state.tasks[number - 1]
        task.flagged = not task.flagged if flagged is None else flagged
        return task.flagged

    def add_time(self, number: int, seconds: float) -> None:
        self._state.tasks[number - 1].seconds += seconds

    def end(self, progress):
        from lab.checks.presentation import describe_pending
        from lab.exam.scoring import task_earned
        from lab.exam.state import CheckOutcomeState, TaskOutcomeState

        self.calls.append("end")
        for task in self._state.tasks:
            progress(f"grading task {task.number}")
            specs = self.task_scenario(task).steps[0].checks
            checks = [CheckOutcomeState(type=s.type, weight=s.weight, passed=task.number in self.passing or s.guard,
                                        message="ok" if task.number in self.passing else f"{s.type}: not yet",
                                        expect=s.expect or describe_pending(s)) for s in specs]
            self._state.outcomes.append(TaskOutcomeState(
                number=task.number, earned=task_earned(task.points, [(c.weight, c.passed) for c in checks]), checks=checks))
        self._state.ended_at = CLOCK_NOW
        return self.score(self._state)

    @staticmethod
    def score(state):
        from lab.exam.runner import Exam

        return Exam.score(state)  # the real scoring
