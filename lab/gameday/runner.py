"""Running a game day on the lab cluster, with the exam's machinery: the planned scenarios'
objects go in at the start (each recorded in the one undo ledger), the steady-state workload
comes up, the traffic generator starts, and each planned fault's first step is injected at its
time without a word of what it is. A background grader polls each open incident's checks; an
incident is repaired when they pass again. The game day ends at its time, or once every fault
went in and was repaired; the faults stay until `cka-lab reset`, as after an exam."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lab import trust
from lab.actions.objects import apply_objects
from lab.addons import install as addons
from lab.atomic import read_model, write_atomic
from lab.checks import run_checks
from lab.errors import LabError, TimedOut
from lab.exam.blueprint import Candidate
from lab.exam.runner import exam_release
from lab.gameday import workload
from lab.gameday.loadtool import vegeta_binary
from lab.gameday.schedule import Injection, Timing, plan, pool
from lab.gameday.slo import Objective, budget, series
from lab.gameday.state import GameDayState, IncidentState, PlannedFault, played
from lab.gameday.traffic import LoadGenerator
from lab.registry import FAULTS
from lab.scenario import loader
from lab.wait import Pending, wait_until

Progress = Callable[[str], None]
Status = Callable[[GameDayState], None]

POLL = 3.0
"""Seconds between two gradings of the open incidents."""
COOLDOWN = 30.0
"""Seconds measured after the last repair before an early end: the service may come back some
seconds after its checks pass (a node Ready again reports its pods ready at its next sync)."""
SAVE_EVERY = 5.0
OBJECTIVE = Objective()
BUCKET = 10.0


def _quiet(_: object) -> None:
    pass


class GameDay:
    """The game day of one lab (its state directory, cluster, ledger and lock)."""

    def __init__(self, lab):
        self.lab = lab
        self.objective = OBJECTIVE
        self.cooldown = COOLDOWN
        self.tick = 1.0
        self._guard = threading.Lock()
        """Held while the grader updates an incident and while the state is written out."""

    @property
    def file(self) -> Path:
        return self.lab.gameday_file

    @property
    def folder(self) -> Path:
        return self.lab.state_dir / "gameday"

    def state(self) -> GameDayState | None:
        return read_model(self.file, GameDayState, "game day", hint="`cka-lab reset` still undoes every recorded fault")

    def snapshot(self, state: GameDayState) -> GameDayState:
        """A copy of the running state that the grader does not change under a reader's eyes."""
        with self._guard:
            return state.model_copy(deep=True)

    def save(self, state: GameDayState) -> None:
        with self._guard:
            text = state.model_dump_json(indent=1)
        with self.lab.lock.hold("save the game day", wait=60):
            write_atomic(self.file, text)

    # --- planning ------------------------------------------------------------------------------

    @staticmethod
    def available() -> list[Candidate]:
        """The catalog's faults a game day may inject (those that leave its own service's objects
        and its traffic generator's node alone)."""
        return [c for c in pool(loader.load_file(p) for p in loader.catalog().values()) if workload.fits(c)]

    @classmethod
    def plan(cls, faults: int, seed: int | None, timing: Timing) -> tuple[int, list[Injection]]:
        """(seed, injections); refused with a LabError (nothing touched) when it cannot be done."""
        chosen = seed if seed is not None else secrets.randbelow(1_000_000)
        return chosen, plan(cls.available(), faults, chosen, timing)

    # --- the run -------------------------------------------------------------------------------

    def run(self, injections: list[Injection], *, seed: int, timing: Timing, progress: Progress = _quiet,
            status: Status = _quiet, stop: threading.Event | None = None) -> GameDayState:
        """Prepare, run the game day to its end (or until `stop` is set, or Ctrl-C), and return
        its final state; the traffic generator is stopped whatever happens."""
        stop = stop or threading.Event()
        state, load = self._prepare(injections, seed, timing, progress)
        grader = threading.Thread(target=self._grade_loop, args=(state, stop), name="gameday-grader", daemon=True)
        try:
            grader.start()
            self._clock(state, timing, load, progress, status, stop)
            if stop.is_set():
                state.stopped_early = "stopped before its end"
                progress("the game day was stopped: no more faults are injected")
        except KeyboardInterrupt:
            state.stopped_early = "interrupted"
            progress("interrupted: no more faults are injected")
        except LabError as exc:
            state.stopped_early = f"{exc.title}: {exc.message}"
            raise
        finally:
            stop.set()
            progress("stopping the traffic generator")
            load.stop()
            grader.join(timeout=60)
            self._finish(state, load)
        return state

    def _prepare(self, injections, seed, timing, progress) -> tuple[GameDayState, LoadGenerator]:
        lab = self.lab
        with lab.lock.hold("game day"):
            if lab._has_leftovers():
                progress("undoing the previous session first")
                lab.reset(progress)
            self.folder.mkdir(mode=0o700, exist_ok=True)
            faults, scenarios = [], []
            for number, injection in enumerate(injections, 1):
                source = loader.catalog()[injection.candidate.scenario]
                data = source.read_bytes()
                snapshot = self.folder / str(number) / f"{injection.candidate.scenario}.yaml"
                snapshot.parent.mkdir(mode=0o700, exist_ok=True)
                write_atomic(snapshot, data)
                scenario = loader.load_file(snapshot)
                trust.require_trusted(source, data, scenario)
                faults.append(PlannedFault(number=number, at=injection.at, scenario_id=scenario.id,
                                           variant=injection.candidate.variant, snapshot=str(snapshot),
                                           title=scenario.steps[0].title))
                scenarios.append(scenario)
            lab.cluster.ensure(max([1, *(s.cluster.workers for s in scenarios)]), progress, exam_release(scenarios))
            lab._ctx = None
            lab.cluster.wait_until_healthy(progress=progress)
            addons.ensure(lab.cluster, sorted({a for s in scenarios for a in s.cluster.addons}), progress)
            lab.cluster.load_images(sorted({workload.IMAGE, *(i for s in scenarios for i in s.images)}), progress)
            binary = vegeta_binary(progress)
            state = GameDayState(gameday_id=secrets.token_hex(4), seed=seed, minutes=timing.minutes, faults=faults,
                                 load_node=workload.LOAD_NODE, cluster=lab.cluster.identity())
            write_atomic(self.file, state.model_dump_json(indent=1))
            load = LoadGenerator(lab.cluster.node(workload.LOAD_NODE), lab.ledger, lambda: state.started_at or time.time())
            try:
                self._bring_up(state, binary, load, timing, progress)
            except BaseException:
                progress("game day start failed: undoing what was put in")
                try:
                    lab.reset(progress)
                except Exception as exc:  # keep the original error; the ledger still holds the rest
                    progress(f"undo incomplete ({exc}); run `cka-lab reset`")
                raise
            write_atomic(self.file, state.model_dump_json(indent=1))
            return state, load

    def _bring_up(self, state: GameDayState, binary: Path, load: LoadGenerator, timing: Timing, progress) -> None:
        ctx = self.lab.ctx
        progress(f"deploying the service ({workload.REPLICAS} replicas of {workload.NAMESPACE}/{workload.NAME})")
        apply_objects(ctx, workload.manifests())
        scenarios = [played(f) for f in state.faults]
        for number, scenario in enumerate(scenarios, 1):
            if scenario.setup:
                progress(f"preparing the environment ({number}/{len(scenarios)})")
                apply_objects(ctx, scenario.setup)
        for scenario in scenarios:
            if scenario.setup_checks:
                self.lab.wait_for_checks(scenario.setup_checks, timeout=240, progress=progress, what="the environment")
        self._wait_service_ready(progress)
        dns = ctx.core.read_namespaced_service(*workload.CLUSTER_DNS).spec.cluster_ip
        load.install(binary, workload.url(), resolver=dns)
        seconds = int(timing.minutes * 60) + 5
        progress(f"starting the traffic generator on {workload.LOAD_NODE} ({load.target}, looked up at {dns})")
        state.started_at = time.time()
        load.start(seconds)

    def _wait_service_ready(self, progress: Progress) -> None:
        apps = self.lab.ctx.apps

        def ready() -> object:
            deployment = apps.read_namespaced_deployment(workload.NAME, workload.NAMESPACE)
            have = deployment.status.ready_replicas or 0
            return have >= workload.REPLICAS or Pending(f"{have} of {workload.REPLICAS} replicas ready")

        try:
            wait_until(ready, timeout=180, interval=2, what="the service to be up", progress=progress)
        except TimedOut as exc:
            raise LabError(f"the game day's service did not come up: {exc.message}", title="Service not up",
                           hint=f"kubectl -n {workload.NAMESPACE} describe deployment {workload.NAME}") from None

    # --- while it runs -------------------------------------------------------------------------

    def _clock(self, state: GameDayState, timing: Timing, load: LoadGenerator, progress: Progress,
               status: Status, stop: threading.Event) -> None:
        assert state.started_at is not None
        end = timing.minutes * 60
        last_save = 0.0
        pending = sorted(state.faults, key=lambda f: f.at)
        announced: set[int] = set()
        while not stop.is_set():
            now = time.time() - state.started_at
            if not self.file.exists():
                state.stopped_early = "reset from another terminal"
                progress("the game day was reset from another terminal: it stops here")
                return
            while pending and pending[0].at <= now:
                self._inject(state, pending.pop(0), progress)
            for incident in state.incidents:
                if incident.number in announced or incident.open:
                    continue
                announced.add(incident.number)
                if incident.repaired is not None:
                    progress(f"{_clock(incident.repaired)} incident {incident.number} closed: repaired "
                             f"{incident.repaired - incident.injected:.0f} s after it began")
                else:
                    progress(f"incident {incident.number} never showed in its checks: it is left out of the score")
            if now >= end:
                return
            if not pending and state.incidents and not any(i.open for i in state.incidents):
                closed = max(i.repaired or i.injected for i in state.incidents)
                if now - closed >= self.cooldown:
                    progress("every incident is closed: the game day ends early")
                    return
            if now - last_save >= SAVE_EVERY:
                self._measure(state, load)
                self._save_running(state)
                status(state)
                last_save = now
            stop.wait(self.tick)

    def _inject(self, state: GameDayState, fault: PlannedFault, progress: Progress) -> None:
        scenario = played(fault)
        step = scenario.steps[0]
        with self.lab.lock.hold("game day injection", wait=120):
            at = time.time() - (state.started_at or time.time())
            for spec in step.faults:
                FAULTS.get(spec.type).call(self.lab.ctx, spec)
        incident = IncidentState(number=fault.number, injected=round(at, 1),
                                 guards=[bool(getattr(c, "guard", False)) for c in step.checks])
        with self._guard:
            state.incidents.append(incident)
        self._save_running(state)
        progress(f"{_clock(at)} incident {fault.number} opened (what it is stays hidden until the end)")

    def _grade_loop(self, state: GameDayState, stop: threading.Event) -> None:
        """Grade every open incident every POLL seconds; each repair is timed at the grading that
        first saw all its checks pass."""
        checks_of: dict[int, list] = {}
        while not stop.wait(POLL):
            with self._guard:
                open_ones = [i for i in state.incidents if i.open]
            for incident in open_ones:
                try:
                    if incident.number not in checks_of:
                        checks_of[incident.number] = played(state.fault(incident.number)).steps[0].checks
                    results = run_checks(self.lab.ctx, checks_of[incident.number])
                except Exception:  # noqa: BLE001 - one grading lost to a cluster hiccup; the next one counts
                    continue
                with self._guard:
                    incident.observe([r.passed for r in results], time.time() - (state.started_at or 0))

    def _measure(self, state: GameDayState, load: LoadGenerator) -> None:
        samples = load.snapshot()
        spent = budget(samples, self.objective)
        with self._guard:
            state.requests, state.bad = spent.requests, spent.bad
            state.points = series(samples, self.objective, BUCKET)

    def _save_running(self, state: GameDayState) -> None:
        # a reset from another terminal removed the file: never write it back behind its back
        if self.file.exists():
            self.save(state)

    # --- the end -------------------------------------------------------------------------------

    def _finish(self, state: GameDayState, load: LoadGenerator) -> None:
        state.ended_at = time.time()
        self._measure(state, load)
        if not self.file.exists():
            return  # reset from another terminal: that reset recorded the game day
        self.save(state)
        from lab.gameday.history import record

        record(self.lab, state, self.objective)


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60):02d}:{int(seconds % 60):02d}"
