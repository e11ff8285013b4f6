"""The lab engine: one object the CLI, the TUI and the tests drive.

It owns the practice session's state (scenario, step, hints, times), persisted in the state
directory so every `cka-lab` command sees the same session, and talks to the cluster only
through LabCluster (cka-lab's own kubeconfig). Everything that changes the lab holds the state
directory's lock, so a TUI re-checking in one terminal and `cka-lab check` or `reset` in
another never interleave; the session and the undo ledger name the cluster they belong to."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from lab import paths, settings as settings_module, trust, undo
from lab.addons import install as addons
from lab.actions.objects import apply_objects
from lab.atomic import read_model, write_atomic
from lab.checks import CheckResult, run_checks
from lab.checks.presentation import lockable
from lab.cluster.api import transient_api_errors
from lab.cluster.lab_cluster import LabCluster
from lab.context import LabContext
from lab.errors import LabError, StartCancelled, StateError, TimedOut
from lab.ledger import ClusterIdentity, Ledger
from lab.lock import lock_for
from lab.registry import FAULTS
from lab.results import ResultsStore, attempt_from_state
from lab.scenario import loader
from lab.scenario.models import Scenario
from lab.settings import Settings
from lab.wait import Pending, wait_until

Progress = Callable[[str], None]

__all__ = ["Lab", "SessionState", "StartCancelled", "Grading"]

OBSERVABLE_WAIT = 150
"""Seconds a step's faults may take to show in its checks before the step is handed over (a
stopped kubelet turns the node NotReady only after the node monitor's grace period)."""

ON_DEMAND_WAITING = CheckResult(False, "graded when you ask: press c, or run `cka-lab check`")
"""What the periodic re-check reports for an on-demand check (it never runs one unasked)."""


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class Grading:
    """One grading of the current step, and whether it moved the session on."""

    step: int
    """Index of the graded step."""
    results: list[tuple[str, CheckResult]]
    passed: bool
    advanced: bool
    """True when the step passed and the session moved to the next step (or finished)."""


class CheckSeen(BaseModel):
    """A check's outcome at the last grading of its step (kept for the training record)."""

    passed: bool
    message: str


class SessionState(BaseModel):
    """What `cka-lab status` shows; saved as JSON after every change."""

    scenario_id: str
    scenario_path: str
    """The file the session was started from (shown to the user)."""
    scenario_snapshot: str | None = None
    """The copy of that file taken at start, which every later command reads: editing the file
    after `start` does not change what `check` runs."""
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
    reveals: dict[int, list[int]] = Field(default_factory=dict)
    """Per step, the indices (from 0) of the diagnostic checks the trainee revealed."""
    graded: dict[int, list[CheckSeen]] = Field(default_factory=dict)
    """Per step, what its checks said at its last grading."""
    step_seconds: dict[int, float] = Field(default_factory=dict)
    finished: bool = False
    cluster: ClusterIdentity | None = None
    """The cluster this session runs on."""


class Lab:
    """Facade over cluster, ledger and session state."""

    def __init__(self, settings: Settings | None = None, state_dir: Path | None = None, cluster: LabCluster | None = None):
        self.settings = settings or settings_module.load()
        self.state_dir = state_dir or paths.state_dir()
        self.state_dir.chmod(0o700)  # the ledger holds Secrets' contents
        self.cluster = cluster or LabCluster(self.settings, self.state_dir)
        self.lock = lock_for(self.state_dir)
        self.ledger = Ledger(self.state_dir / "ledger.json", self.lock, identity=self.cluster.identity)
        self.results = ResultsStore(self.state_dir)
        self.record_attempts = True
        """False for selftest: its runs are no trainee's attempts."""
        self.recreated_cluster = False
        """The last reset re-created the cluster (a task had upgraded its release)."""
        self._ctx: LabContext | None = None
        self._scenario: Scenario | None = None
        self._variant: str | None = None

    # --- state -------------------------------------------------------------------------------

    @property
    def session_file(self) -> Path:
        return self.state_dir / "session.json"

    @property
    def exam_file(self) -> Path:
        return self.state_dir / "exam.json"

    @property
    def gameday_file(self) -> Path:
        return self.state_dir / "gameday.json"

    def state(self) -> SessionState | None:
        """The running session, None without one. An unreadable session file is moved aside and
        reported (StateError) with both paths."""
        return read_model(self.session_file, SessionState, "session",
                          hint="`cka-lab reset` still undoes every recorded fault; then start again")

    def _save(self, state: SessionState) -> None:
        with self.lock.hold("save the session"):
            write_atomic(self.session_file, state.model_dump_json(indent=1))

    def require_state(self) -> SessionState:
        state = self.state()
        if state is None:
            raise LabError("no practice session is running", title="No session", hint="start one: cka-lab start <scenario>")
        return state

    def scenario(self) -> Scenario:
        state = self.require_state()
        if self._scenario is None or self._scenario.id != state.scenario_id or self._variant != state.variant:
            source = Path(state.scenario_snapshot or state.scenario_path)
            self._scenario = loader.load_file(source).with_variant(state.variant)
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

        with self.lock.hold(f"start {scenario.id}"):
            # what runs is a snapshot of the file's bytes, trusted as they are now
            data = scenario_path.read_bytes()
            pending = self.state_dir / "scenario-next" / f"{scenario.id}.yaml"
            write_atomic(pending, data)
            scenario = loader.load_file(pending)
            trust.require_trusted(scenario_path, data, scenario)
            chosen = variant if variant is not None else scenario.pick_variant(seed)
            played = scenario.with_variant(chosen)  # fails early on an unknown variant
            return self._start(scenario, scenario_path, played, chosen, seed, variant, progress, checkpoint, pending)

    def _start(self, scenario, scenario_path, played, chosen, seed, variant, progress, checkpoint, pending) -> SessionState:
        # the previous session's faults are undone before anything can create a new cluster:
        # a ledger is never replayed into a cluster it was not recorded on
        if self._has_leftovers():
            progress("undoing the previous session first")
            self.reset(progress)
        snapshot = self.state_dir / "scenario" / pending.name
        snapshot.parent.mkdir(mode=0o700, exist_ok=True)
        pending.replace(snapshot)
        created = self.cluster.ensure(
            scenario.cluster.workers, progress, scenario.cluster.kubernetes, scenario.cluster.control_planes
        )
        checkpoint()
        self._ctx = None
        if created:
            # a new cluster's add-ons come up beside its own pods: one after the other took 8 s
            # more of a cold start (a reused cluster is made healthy first: a fault may linger)
            addons.ensure(self.cluster, scenario.cluster.addons, progress)
            checkpoint()
        self.cluster.wait_until_healthy(progress=progress)
        checkpoint()
        if not created:
            addons.ensure(self.cluster, scenario.cluster.addons, progress)
            checkpoint()
        if scenario.images:
            self.cluster.load_images(scenario.images, progress)
        checkpoint()
        state = SessionState(
            scenario_id=scenario.id,
            scenario_path=str(scenario_path.resolve()),
            scenario_snapshot=str(snapshot),
            variant=chosen,
            seed=seed if variant is None else None,
            cluster=self.cluster.identity(),
        )
        if chosen:
            # the variant's name would give the diagnosis away: say only which of how many
            progress(f"variant {scenario.variant_ids().index(chosen) + 1} of {len(scenario.variants)}")
        self._scenario, self._variant = played, chosen
        self._save(state)
        try:
            if scenario.setup:
                progress(f"applying setup: {len(scenario.setup)} object(s)")
                apply_objects(self.ctx, scenario.setup)
            checkpoint()
            if scenario.setup_checks:
                self.wait_for_checks(scenario.setup_checks, timeout=240, progress=progress, what="the scenario's setup")
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
        total = len(step.faults)
        for number, fault in enumerate(step.faults, 1):
            checkpoint()
            progress(f"step {index + 1}: preparing ({number}/{total})")
            try:
                FAULTS.get(fault.type).call(self.ctx, fault)
            except LabError:
                raise
            except Exception as exc:
                from lab.cluster.api import explain

                sentence = explain(exc)
                if sentence is None:
                    raise
                # the API refused what the scenario asks (start undoes what went in before)
                raise LabError(f"step {index + 1}, fault {number} ({fault.type}): {sentence}",
                               title="Fault cannot apply") from None
        if step.faults:
            self._wait_observable(index, progress)
        state.step = index
        state.injected = index
        state.step_started_at = time.time()
        self._save(state)

    def _wait_observable(self, index: int, progress: Progress) -> None:
        """Hand a step over only once its faults show: every check not declared a guard has been
        seen failing (a stopped kubelet's node turns NotReady only after its grace period; a
        trainee told "the node is NotReady" must find it so). Should one never fail within the
        bound, the step is handed over if any check did; if none did, the fault did not take."""
        # an on-demand check stages an outage of its own: never run it unasked
        checks = [c for c in self.scenario().steps[index].checks if not getattr(c, "on_demand", False)]
        if not checks:
            return
        seen_failing: set[int] = set()

        def broken() -> object:
            for number, result in enumerate(run_checks(self.ctx, checks)):
                if not result.passed:
                    seen_failing.add(number)
            waiting = [i for i, spec in enumerate(checks) if i not in seen_failing and not getattr(spec, "guard", False)]
            return not waiting or Pending("the cluster does not show it yet")

        try:
            wait_until(broken, timeout=OBSERVABLE_WAIT, what=f"step {index + 1} to be ready",
                       progress=progress)
        except TimedOut:
            if seen_failing:
                return
            raise LabError(
                f"step {index + 1}: every check still passes {OBSERVABLE_WAIT}s after its faults went in",
                title="Fault did not take",
                hint="the scenario's faults do not break what its checks look at; `cka-lab selftest` shows more",
            ) from None

    def run_checks(self, *, periodic: bool = False) -> list[tuple[str, CheckResult]]:
        """Grade the current step: (check type, result) for each check, run side by side.
        `periodic` (the TUI's re-check every few seconds) leaves the on-demand checks out: each
        is reported as waiting for the trainee to ask, so the step cannot pass unasked."""
        state = self.require_state()
        if state.finished:
            return []
        checks = self.scenario().steps[state.step].checks
        run = [c for c in checks if not (periodic and getattr(c, "on_demand", False))]
        results = iter(run_checks(self.ctx, run))
        return [
            (c.type, ON_DEMAND_WAITING if periodic and getattr(c, "on_demand", False) else next(results))
            for c in checks
        ]

    def grade(self, progress: Progress = _quiet, *, wait: float | None = 30.0) -> Grading:
        """Grade the current step once; when it passes, record its time and inject the next
        step (or finish and record the result). Holds the lock (waiting up to `wait` seconds
        for another cka-lab process; LabBusy after that)."""
        with self.lock.hold("check", wait=wait):
            state = self.require_state()
            graded = state.step
            if state.finished:
                return Grading(graded, [], True, False)
            if state.cluster is not None and self.cluster.identity() != state.cluster:
                self.assert_state_matches_cluster()
                raise StateError(
                    "the lab cluster changed since this session started",
                    hint="`cka-lab reset --forget`, then start again",
                )
            results = self.run_checks()
            passed = bool(results) and all(r.passed for _, r in results)
            state.graded[graded] = [CheckSeen(passed=r.passed, message=r.message) for _, r in results]
            if not passed:
                self._save(state)
                return Grading(graded, results, False, False)
            state.step_seconds[graded] = time.time() - state.step_started_at
            steps = len(self.scenario().steps)
            if graded + 1 >= steps:
                state.finished = True
                self._save(state)
                self._record_result(state)
            else:
                self._inject(state, graded + 1, progress)
            return Grading(graded, results, True, True)

    def advance(self, progress: Progress = _quiet, *, wait: float | None = 30.0) -> bool:
        """If the current step passes, move on. True if it passed."""
        return self.grade(progress, wait=wait).passed

    def _record_result(self, state: SessionState) -> None:
        if not self.record_attempts:
            return
        try:
            self.results.add(attempt_from_state(state, self.scenario(), time.time()))
        except (OSError, sqlite3.Error):
            pass  # a lost record line must never cost the session

    def reveal_hint(self) -> tuple[int, str] | None:
        """Reveal the next hint of the current step: (number, text), or None when all are shown."""
        with self.lock.hold("hint", wait=5):
            return self._reveal_hint()

    def _reveal_hint(self) -> tuple[int, str] | None:
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

    def reveal_check(self, number: int | None = None) -> int | None:
        """Reveal a diagnostic check of the current step (the first one still locked when number
        is None; number counts from 1 as the checks list shows). Returns the number revealed,
        None when no diagnostic check is left locked. Every reveal is counted in the record."""
        with self.lock.hold("reveal", wait=5):
            state = self.require_state()
            locked = [i for i in lockable(self.scenario().steps[state.step].checks) if i not in state.reveals.get(state.step, [])]
            if number is None:
                if not locked:
                    return None
                chosen = locked[0]
            else:
                chosen = number - 1
                diagnostic = lockable(self.scenario().steps[state.step].checks)
                if chosen not in diagnostic:
                    shown = ", ".join(str(i + 1) for i in diagnostic) or "none"
                    raise LabError(f"check {number} of this step is not a diagnostic check (diagnostic checks: {shown})",
                                   title="Nothing to reveal")
                if chosen not in locked:
                    return chosen + 1
            state.reveals.setdefault(state.step, []).append(chosen)
            self._save(state)
            return chosen + 1

    def revealed(self) -> set[int]:
        """Diagnostic checks of the current step the trainee revealed (indices from 0)."""
        state = self.require_state()
        return set(state.reveals.get(state.step, []))

    def reveal_solution(self) -> str:
        with self.lock.hold("solution", wait=5):
            return self._reveal_solution()

    def _reveal_solution(self) -> str:
        state = self.require_state()
        if state.step not in state.solutions_shown:
            state.solutions_shown.append(state.step)
            self._save(state)
        return self.scenario().steps[state.step].solution

    def _has_leftovers(self) -> bool:
        return (self.ledger.path.exists() or self.session_file.exists() or self.exam_file.exists()
                or self.gameday_file.exists())

    def assert_state_matches_cluster(self) -> None:
        """Refuse to undo a ledger (or continue a session) recorded on another cluster: another
        CKA_LAB_CLUSTER, a cluster deleted or re-created behind cka-lab's back."""
        recorded = self.ledger.identity()
        if recorded is None:
            return
        way_out = "`cka-lab reset --forget` drops the recorded changes (and lists them) without undoing them"
        if recorded.name != self.cluster.name:
            raise StateError(
                f"the lab's recorded faults belong to cluster '{recorded.name}', but this command works on "
                f"'{self.cluster.name}' (CKA_LAB_CLUSTER)",
                title="Another cluster",
                hint=f"run it with CKA_LAB_CLUSTER={recorded.name}, or {way_out}",
            )
        current = self.cluster.identity()
        if current is None:
            raise StateError(
                f"the lab cluster {recorded.describe()} that the recorded faults belong to no longer exists "
                "(deleted outside cka-lab?); its faults went with it",
                title="Lab cluster gone",
                hint=way_out,
            )
        if current != recorded:
            raise StateError(
                f"the lab cluster '{recorded.name}' was re-created behind cka-lab's back (its node containers "
                "changed); the recorded faults belong to the old one",
                title="Lab cluster re-created",
                hint=way_out,
            )

    def reset(self, progress: Progress = _quiet, *, forget: bool = False) -> int:
        """Undo every recorded change, end the session, wait until the cluster is healthy and its
        API answers consistently. With forget, drop the ledger without undoing it (after a
        cluster was lost or re-created); the entries dropped are reported through progress."""
        with self.lock.hold("reset"):
            if forget:
                return self._forget(progress)
            undone: list = []
            self.cluster.exists()  # also: a clear error when no Docker engine answers
            if len(self.ledger):
                self.assert_state_matches_cluster()
                self.cluster.assert_owned()
                self.cluster.start_stopped_nodes(progress)
                try:
                    undone = undo.replay(self.ctx, progress)
                    self.recreated_cluster = self.ctx.recreated_cluster
                    if self.recreated_cluster:
                        self._ctx = None  # its clients belonged to the cluster that was deleted
                except LabError as exc:
                    exc.hint = (exc.hint + "\n" if exc.hint else "") + (
                        "fix the cause and run `cka-lab reset` again, or `cka-lab reset --forget` to drop "
                        "what cannot be undone (it lists every change it drops)"
                    )
                    raise
            self._end_session()
            if undone and not undo.only_workload_objects(undone):
                if undo.touches_etcd(undone):
                    self.refresh_after_etcd_rewind(progress)
                # Control-plane pods that crash-looped while a fault was in place are started
                # again without the kubelet's back-off; etcd's data may have moved (then the API
                # cache is checked). Undoing only a scenario's own objects needs neither wait.
                self.cluster.wait_until_healthy(timeout=600, progress=progress)
                self.cluster.assert_api_consistent(progress=progress)
            return len(undone)

    def _forget(self, progress: Progress) -> int:
        entries = []
        try:
            entries = self.ledger.entries()
        except StateError as exc:
            progress(exc.message)
        for entry in entries:
            progress(f"not undone: {undo.describe(entry)}")
        moved = self.ledger.forget()
        if moved:
            progress(f"the ledger was kept as {moved}")
        self._end_session()
        return len(entries)

    def _end_session(self) -> None:
        try:
            state = self.state()
        except StateError:
            state = None
        if state is not None and not state.finished:
            try:
                self._record_result(state)
            except LabError:
                pass  # the scenario file may be gone; the result line is not worth failing a reset
        self.session_file.unlink(missing_ok=True)
        self._end_exam()
        self._end_gameday()

    def _end_exam(self) -> None:
        """An exam ends with a reset: one that was never ended is recorded as abandoned."""
        if not self.exam_file.exists():
            return
        from lab.exam.runner import Exam

        exam = Exam(self)
        try:
            state = exam.state()
            if state is not None and state.ended_at is None:
                state.ended_at = time.time()
                exam._record(state)
        except LabError:
            pass  # an unreadable exam file was moved aside; the reset goes on
        self.exam_file.unlink(missing_ok=True)
        exam.contexts_file.unlink(missing_ok=True)
        shutil.rmtree(self.state_dir / "exam", ignore_errors=True)  # the tasks' scenario snapshots

    def _end_gameday(self) -> None:
        """A game day ends with a reset too: one whose runner was killed before its end is
        recorded as it stood (its open incidents not repaired)."""
        if not self.gameday_file.exists():
            return
        from lab.gameday.history import record
        from lab.gameday.runner import GameDay

        gameday = GameDay(self)
        try:
            state = gameday.state()
            if state is not None and state.ended_at is None:
                state.ended_at = time.time()
                state.stopped_early = state.stopped_early or "reset before its end"
                record(self, state, gameday.objective)
        except LabError:
            pass  # an unreadable game day file was moved aside; the reset goes on
        self.gameday_file.unlink(missing_ok=True)
        shutil.rmtree(gameday.folder, ignore_errors=True)  # the faults' scenario snapshots

    def refresh_after_etcd_rewind(self, progress: Progress = _quiet) -> None:
        """After etcd's data moved to another timeline, restart everything that caches objects
        from the API, as Kubernetes' etcd restore procedure asks: the API server (its watch
        cache), the controller-manager and scheduler, every kubelet, and the kube-system
        Deployments and DaemonSets (CoreDNS, kube-proxy and the pod network watch Services and
        Endpoints: a stale CoreDNS answered NXDOMAIN for a Service created after the reset)."""
        from kubernetes import client

        self.cluster.stop_control_plane_containers(
            ["kube-apiserver", "kube-controller-manager", "kube-scheduler"], grace=0, check=True, progress=progress
        )
        for node in self.cluster.nodes():
            progress(f"restarting the kubelet on {node.short_name}")
            node.run(["systemctl", "restart", "kubelet"], timeout=120)
        core = client.CoreV1Api(self.cluster.api_client())

        def restart_system_pods() -> bool:
            pods = core.list_namespaced_pod("kube-system").items
            for pod in pods:
                owners = {o.kind for o in pod.metadata.owner_references or []}
                if owners & {"ReplicaSet", "DaemonSet"}:
                    core.delete_namespaced_pod(pod.metadata.name, "kube-system", grace_period_seconds=0)
            return True

        progress("restarting CoreDNS, kube-proxy and the pod network")
        wait_until(restart_system_pods, timeout=240, interval=3, what="the API server to answer after its restart",
                   progress=progress, retry_on=(OSError, *transient_api_errors()))

    def down(self, progress: Progress = _quiet) -> None:
        with self.lock.hold("down"):
            if self.cluster.exists():
                self.cluster.assert_owned()
            self.cluster.delete(progress)
            self.ledger.clear()
            self._end_session()

    # --- grading helpers ---------------------------------------------------------------------

    def wait_for_checks(self, checks: list, timeout: float, progress: Progress = _quiet, what: str = "checks") -> None:
        def passing() -> object:
            failing = [r.message for r in run_checks(self.ctx, checks) if not r.passed]
            return not failing or Pending(failing[0] + (f" (+{len(failing) - 1} more)" if len(failing) > 1 else ""))

        wait_until(passing, timeout=timeout, what=what, progress=progress)

    @staticmethod
    def _variant_label(state: SessionState, scenario: Scenario) -> str | None:
        if state.variant is None:
            return None
        if state.finished or state.variant not in scenario.variant_ids():
            return state.variant
        return f"{scenario.variant_ids().index(state.variant) + 1} of {len(scenario.variants)}"

    def summary(self) -> dict:
        state = self.require_state()
        scenario = self.scenario()
        return {
            "scenario": scenario.id,
            "title": scenario.title,
            # the variant's id names the fault; while the scenario runs only its number is shown
            "variant": self._variant_label(state, scenario),
            "step": state.step + 1,
            "steps": len(scenario.steps),
            "finished": state.finished,
            "elapsed_seconds": round(time.time() - state.started_at),
            "hints_used": sum(state.hints_shown.values()),
            "solutions_viewed": len(state.solutions_shown),
            "checks_revealed": sum(len(v) for v in state.reveals.values()),
            "step_seconds": {str(k + 1): round(v) for k, v in state.step_seconds.items()},
            "faults_recorded": len(self.ledger),
        }
