"""Running a mock exam on the lab cluster: draw the tasks, put every task's objects and faults in
at once (each recorded in the one undo ledger), hand the exam over once every task shows its
faults, and grade every task once at the end. Nothing is graded while the exam runs."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from lab import trust
from lab.versions import KUBERNETES_VERSION
from lab.addons import install as addons
from lab.actions.objects import apply_objects
from lab.atomic import read_model, write_atomic
from lab.checks import run_checks
from lab.checks.presentation import describe_pending
from lab.errors import LabError, TimedOut
from lab.exam.blueprint import Candidate, candidates, draw
from lab.exam.scoring import ExamScore, TaskScore, task_earned
from lab.exam.state import CheckOutcomeState, ExamState, ExamTaskState, TaskOutcomeState
from lab.record import Attempt, CheckOutcome, StepOutcome
from lab.registry import FAULTS
from lab.scenario import loader
from lab.scenario.models import Scenario
from lab.wait import Pending, wait_until

Progress = Callable[[str], None]

BROKEN_WAIT = 180
"""Seconds every task's faults may take to show (a node turns NotReady after its grace period)."""


def exam_release(scenarios: list[Scenario]) -> str | None:
    """The Kubernetes release an exam's shared cluster runs: the one its tasks agree on."""
    releases = sorted({s.cluster.kubernetes or KUBERNETES_VERSION for s in scenarios})
    if len(releases) > 1:
        raise LabError(
            f"the exam's tasks need different Kubernetes releases ({', '.join(releases)}) and share one cluster",
            title="Exam not possible",
        )
    return releases[0] if releases else None


def _quiet(_: str) -> None:
    pass


class Exam:
    """The exam of one lab (its state directory, cluster, ledger and lock)."""

    def __init__(self, lab):
        self.lab = lab

    @property
    def file(self) -> Path:
        return self.lab.exam_file

    @property
    def contexts_file(self) -> Path:
        return self.lab.state_dir / "exam-contexts"

    # --- state ---------------------------------------------------------------------------------

    def state(self) -> ExamState | None:
        return read_model(self.file, ExamState, "exam", hint="`cka-lab reset` still undoes every recorded fault")

    def require(self) -> ExamState:
        state = self.state()
        if state is None:
            raise LabError("no exam is running", title="No exam", hint="start one: cka-lab exam")
        return state

    def save(self, state: ExamState) -> None:
        with self.lab.lock.hold("save the exam"):
            write_atomic(self.file, state.model_dump_json(indent=1))

    def task_scenario(self, task: ExamTaskState) -> Scenario:
        """The task's scenario, with its variant and only its first step."""
        played = loader.load_file(Path(task.snapshot)).with_variant(task.variant)
        return played.model_copy(update={"steps": played.steps[:1]})

    # --- drawing -------------------------------------------------------------------------------

    def plan(self, tasks: int, seed: int | None) -> tuple[int, list[Candidate]]:
        """(seed, tasks drawn). A given seed draws the same exam; without one a seed is picked
        and the draw prefers what the candidate has not met recently."""
        pool = candidates(loader.load_file(path) for path in loader.catalog().values())
        if seed is not None:
            return seed, draw(pool, tasks, seed)
        chosen_seed = secrets.randbelow(1_000_000)
        return chosen_seed, draw(pool, tasks, chosen_seed, last_met=self.lab.results.record.last_met())

    # --- start ---------------------------------------------------------------------------------

    def start(self, drawn: list[Candidate], *, seed: int, minutes: int, progress: Progress = _quiet) -> ExamState:
        if not drawn:
            raise LabError("no exam-eligible scenario in the catalog", title="No tasks",
                           hint="scenarios with an `exam:` block can be drawn")
        lab = self.lab
        with lab.lock.hold("exam"):
            if lab._has_leftovers():
                progress("undoing the previous session first")
                lab.reset(progress)
            folder = lab.state_dir / "exam"
            folder.mkdir(mode=0o700, exist_ok=True)
            tasks, scenarios = [], []
            for number, candidate in enumerate(drawn, 1):
                source = loader.catalog()[candidate.scenario]
                data = source.read_bytes()
                # the loader wants a file named after the scenario's id: one folder per task
                snapshot = folder / str(number) / f"{candidate.scenario}.yaml"
                snapshot.parent.mkdir(mode=0o700, exist_ok=True)
                write_atomic(snapshot, data)
                scenario = loader.load_file(snapshot)
                trust.require_trusted(source, data, scenario)
                assert scenario.exam is not None
                tasks.append(ExamTaskState(
                    number=number, scenario_id=scenario.id, variant=candidate.variant, snapshot=str(snapshot),
                    domain=scenario.domain, points=scenario.exam.points, namespace=scenario.exam.namespace,
                ))
                scenarios.append(scenario)
            lab.cluster.ensure(max(s.cluster.workers for s in scenarios), progress, exam_release(scenarios))
            lab._ctx = None
            lab.cluster.wait_until_healthy(progress=progress)
            addons.ensure(lab.cluster, sorted({a for s in scenarios for a in s.cluster.addons}), progress)
            images = sorted({image for s in scenarios for image in s.images})
            if images:
                lab.cluster.load_images(images, progress)
            state = ExamState(exam_id=secrets.token_hex(4), seed=seed, minutes=minutes, tasks=tasks,
                              cluster=lab.cluster.identity())
            self.save(state)
            try:
                self._prepare(state, progress)
            except BaseException:
                progress("exam start failed: undoing what was injected")
                try:
                    lab.reset(progress)
                except Exception as exc:  # keep the original error; the ledger still holds the rest
                    progress(f"undo incomplete ({exc}); run `cka-lab reset`")
                raise
            state.started_at = time.time()  # the clock starts when the candidate gets the exam
            self.save(state)
            return state

    def _prepare(self, state: ExamState, progress: Progress) -> None:
        ctx = self.lab.ctx
        played = [self.task_scenario(task) for task in state.tasks]
        for task, scenario in zip(state.tasks, played, strict=True):
            if scenario.setup:
                progress(f"task {task.number}: applying its objects")
                apply_objects(ctx, scenario.setup)
        for task, scenario in zip(state.tasks, played, strict=True):
            if scenario.setup_checks:
                self.lab.wait_for_checks(scenario.setup_checks, timeout=240, progress=progress,
                                         what=f"task {task.number}'s objects")
        for task, scenario in zip(state.tasks, played, strict=True):
            faults = scenario.steps[0].faults
            for number, fault in enumerate(faults, 1):
                progress(f"task {task.number}: preparing ({number}/{len(faults)})")
                FAULTS.get(fault.type).call(ctx, fault)
        self._wait_all_broken(state, played, progress)
        self._write_contexts(state)

    def _wait_all_broken(self, state: ExamState, played: list[Scenario], progress: Progress) -> None:
        """Hand the exam over once every task's checks that are not guards fail: grading the
        untouched exam must give 0 for each task, not points for a fault that has not shown yet."""

        def all_broken() -> object:
            waiting = []
            for task, scenario in zip(state.tasks, played, strict=True):
                specs = scenario.steps[0].checks
                results = run_checks(self.lab.ctx, specs)
                if any(r.passed and not spec.guard for spec, r in zip(specs, results, strict=True)):
                    waiting.append(str(task.number))
            return not waiting or Pending(f"task(s) {', '.join(waiting)} not ready yet")

        try:
            wait_until(all_broken, timeout=BROKEN_WAIT, what="every task to be ready", progress=progress)
        except TimedOut as exc:
            raise LabError(f"the exam could not be prepared: {exc.message}", title="Fault did not take",
                           hint="`cka-lab selftest` of the tasks' scenarios shows more") from None

    def _write_contexts(self, state: ExamState) -> None:
        """A kubeconfig with one context per task (its namespace set), used together with the
        lab's kubeconfig in the lab shells: `kubectl config use-context cka-lab-t3`."""
        cluster = f"kind-{self.lab.cluster.name}"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "contexts": [
                {"name": t.context, "context": {"cluster": cluster, "user": cluster, "namespace": t.namespace}}
                for t in state.tasks
            ],
            "current-context": state.tasks[0].context,
        }
        write_atomic(self.contexts_file, yaml.safe_dump(config, sort_keys=False), mode=0o600)

    # --- while it runs -------------------------------------------------------------------------

    def flag(self, number: int, flagged: bool | None = None) -> bool:
        with self.lab.lock.hold("flag a task", wait=5):
            state = self.require()
            task = self._task(state, number)
            task.flagged = (not task.flagged) if flagged is None else flagged
            self.save(state)
            return task.flagged

    def add_time(self, number: int, seconds: float) -> None:
        with self.lab.lock.hold("exam time", wait=5):
            state = self.require()
            self._task(state, number).seconds += max(0.0, seconds)
            self.save(state)

    @staticmethod
    def _task(state: ExamState, number: int) -> ExamTaskState:
        for task in state.tasks:
            if task.number == number:
                return task
        raise LabError(f"the exam has no task {number} (tasks 1 to {len(state.tasks)})", title="No such task")

    # --- the end -------------------------------------------------------------------------------

    def end(self, progress: Progress = _quiet) -> ExamScore:
        """Grade every task once (partial credit per check weight), record every task as an
        attempt, keep the outcomes for the result and review screens. The faults stay in place
        until `cka-lab reset`."""
        with self.lab.lock.hold("end the exam"):
            state = self.require()
            if state.ended_at is not None:
                return self.score(state)
            ended = time.time()
            for task in state.tasks:
                progress(f"grading task {task.number}")
                specs = self.task_scenario(task).steps[0].checks
                results = run_checks(self.lab.ctx, specs)
                checks = [
                    CheckOutcomeState(type=spec.type, weight=spec.weight, passed=r.passed, message=r.message,
                                      expect=spec.expect or describe_pending(spec))
                    for spec, r in zip(specs, results, strict=True)
                ]
                earned = task_earned(task.points, [(c.weight, c.passed) for c in checks])
                state.outcomes.append(TaskOutcomeState(number=task.number, earned=earned, checks=checks))
            state.ended_at = ended
            self.save(state)
            self._record(state)
            return self.score(state)

    @staticmethod
    def score(state: ExamState) -> ExamScore:
        earned = {o.number: o.earned for o in state.outcomes}
        return ExamScore([TaskScore(t.number, t.scenario_id, t.domain, t.points, earned.get(t.number, 0.0))
                          for t in state.tasks])

    def _record(self, state: ExamState) -> None:
        if not self.lab.record_attempts:
            return
        outcomes = {o.number: o for o in state.outcomes}
        for task in state.tasks:
            outcome = outcomes.get(task.number)
            scenario = self.task_scenario(task)
            checks = [CheckOutcome(i, c.type, c.weight, c.passed, c.message)
                      for i, c in enumerate(outcome.checks if outcome else [], 1)]
            solved = bool(outcome) and all(c.passed for c in outcome.checks)
            try:
                self.lab.results.add(Attempt(
                    scenario=task.scenario_id, title=scenario.title, domain=task.domain, variant=task.variant,
                    seed=state.seed, mode="exam", exam_id=state.exam_id, started_at=state.started_at,
                    ended_at=state.ended_at or time.time(), finished=solved, steps=1, steps_done=int(solved),
                    seconds=task.seconds, score=outcome.earned if outcome else None, points=task.points,
                    step_outcomes=[StepOutcome(1, scenario.steps[0].title, solved, task.seconds, checks=checks)],
                ))
            except Exception:  # noqa: BLE001 - a lost record line must never cost the exam's result
                pass
