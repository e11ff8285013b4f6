"""`cka-lab selftest`: prove a scenario on the real cluster. For every step: its checks fail
on the broken cluster, the reference solution makes them pass; then reset restores the
baseline (node files byte-identical, services as they were, cluster healthy)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab import versions
from lab.addons import install as addons
from lab.checks import run_checks
from lab.cluster.api import transient_api_errors
from lab.cluster.node import service_state
from lab.errors import LabError, SelftestFailed, TimedOut
from lab.registry import FAULTS
from lab.scenario.models import Scenario
from lab.session import Lab
from lab.wait import Pending, wait_until

Progress = Callable[[str], None]

BASELINE_GLOBS = (
    "/etc/kubernetes/manifests/*.yaml",
    "/etc/kubernetes/*.conf",
    "/var/lib/kubelet/config.yaml",
    "/etc/cni/net.d/*",
    "/etc/systemd/system/kubelet.service.d/*",
)
BASELINE_SERVICES = ("kubelet", "containerd")
BASELINE_CONFIGMAPS = ("coredns", "kube-proxy")
"""kube-system ConfigMaps faults edit (the Corefile, kube-proxy's configuration)."""


def baseline(lab: Lab) -> dict[str, str]:
    """sha256 of the node files faults touch, the state of the node services, and the API
    objects faults change."""
    snapshot: dict[str, str] = {}
    for node in lab.cluster.nodes():
        listing = node.sh(f"sha256sum {' '.join(BASELINE_GLOBS)} 2>/dev/null || true").stdout
        for line in listing.splitlines():
            digest, _, path = line.partition("  ")
            snapshot[f"{node.short_name}:{path}"] = digest
        for service in BASELINE_SERVICES:
            snapshot[f"{node.short_name}:{service}.service"] = "active={} enabled={}".format(*service_state(node, service))
    snapshot.update(_objects(lab))
    return snapshot


def _baseline_once_answering(lab: Lab, progress: Progress) -> dict[str, str]:
    """The baseline, read once the API server answers: a healthy cluster may still drop one
    request (a control-plane pod restarted by reset), which is no difference from the baseline."""
    return wait_until(lambda: baseline(lab), timeout=60, what="the baseline to be readable",
                      retry_on=transient_api_errors(), progress=progress)


def _objects(lab: Lab) -> dict[str, str]:
    """sha256 of what faults change in the API: kube-system Deployments' and DaemonSets' specs,
    Services' selectors and ports, the edited ConfigMaps, nodes' cordon flags, and which
    Deployments, Services and bare pods exist in default (a scenario's objects must be gone)."""
    ctx = lab.ctx
    api = ctx.api

    def digest(value: object) -> str:
        return hashlib.sha256(json.dumps(api.sanitize_for_serialization(value), sort_keys=True).encode()).hexdigest()[:16]

    found: dict[str, str] = {}
    for d in ctx.apps.list_namespaced_deployment("kube-system").items:
        found[f"deployment/kube-system/{d.metadata.name}"] = digest(d.spec)
    for ds in ctx.apps.list_namespaced_daemon_set("kube-system").items:
        found[f"daemonset/kube-system/{ds.metadata.name}"] = digest(ds.spec)
    for svc in ctx.core.list_namespaced_service("kube-system").items:
        found[f"service/kube-system/{svc.metadata.name}"] = digest([svc.spec.selector, svc.spec.ports])
    for name in BASELINE_CONFIGMAPS:
        found[f"configmap/kube-system/{name}"] = digest(ctx.core.read_namespaced_config_map(name, "kube-system").data)
    for node in ctx.core.list_node().items:
        found[f"node/{node.metadata.name}/unschedulable"] = str(bool(node.spec.unschedulable))
    default = [
        *(f"deployment/{d.metadata.name}" for d in ctx.apps.list_namespaced_deployment("default").items),
        *(f"service/{s.metadata.name}" for s in ctx.core.list_namespaced_service("default").items),
        *(f"pod/{p.metadata.name}" for p in ctx.core.list_namespaced_pod("default").items if not p.metadata.owner_references),
    ]
    found["default namespace objects"] = ", ".join(sorted(default)) or "none"
    return found


def diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    changes = []
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            changes.append(f"{key}: {before.get(key, 'absent')} -> {after.get(key, 'absent')}")
    return changes


BROKEN_WAIT = 90
"""Seconds a step's checks may take to notice its faults (a stopped kubelet turns the node
NotReady only after the node monitor's grace period, its lease goes stale after 25 s)."""


@dataclass
class CheckProof:
    """What selftest saw of one check: failing while its step's faults were in place, passing
    after the reference solution. A check never seen failing cannot tell broken from fixed."""

    step: int
    number: int
    type: str
    show: str
    guard: bool
    seen_failing: str | None = None
    """The first failure message seen, None while never seen failing."""
    passed_after_fix: bool = False

    @property
    def proven(self) -> bool:
        return self.seen_failing is not None and self.passed_after_fix


def watch_broken(lab: Lab, step: int, specs: list, timeout: float = BROKEN_WAIT) -> list[CheckProof]:
    """Grade the broken step until every check not declared a guard has been seen failing (at
    least once: a node turns NotReady some seconds after its kubelet stops), or until timeout."""
    proofs = [
        CheckProof(step + 1, i + 1, spec.type, getattr(spec, "show", "goal"), bool(getattr(spec, "guard", False)))
        for i, spec in enumerate(specs)
    ]

    def all_seen() -> object:
        for proof, (_, result) in zip(proofs, lab.run_checks(), strict=True):
            if not result.passed and proof.seen_failing is None:
                proof.seen_failing = result.message
        waiting = [p for p in proofs if p.seen_failing is None and not p.guard]
        if waiting:
            return Pending(", ".join(f"check {p.number} ({p.type})" for p in waiting) + " not seen failing yet")
        return True

    try:
        wait_until(all_seen, timeout=timeout, what=f"step {step + 1}'s checks to fail")
    except TimedOut:
        pass  # the table says which check never failed
    return proofs


def proof_table(proofs: list[CheckProof]) -> list[str]:
    """The per-check lines selftest prints."""
    lines = [f"  {'check':<34} {'shown':<10} {'failing when broken':<20} passing after fix"]
    for p in proofs:
        name = f"{p.step}.{p.number} {p.type}" + (" (guard)" if p.guard else "")
        lines.append(
            f"  {name:<34} {p.show:<10} {('yes' if p.seen_failing is not None else 'NEVER'):<20} "
            f"{'yes' if p.passed_after_fix else 'no'}"
        )
    return lines


def selftest(lab: Lab, scenario: Scenario, path: Path, progress: Progress, variant: str | None = None) -> list[str]:
    """Run the whole proof (of one variant, for a scenario with variants); returns the report
    lines, raises SelftestFailed on the first failure. Holds the state lock throughout."""
    lab.record_attempts = False  # a proof run is no trainee's attempt
    with lab.lock.hold(f"selftest {scenario.id}"):
        return _selftest(lab, scenario, path, progress, variant)


def _selftest(lab: Lab, scenario: Scenario, path: Path, progress: Progress, variant: str | None) -> list[str]:
    report: list[str] = []
    if variant is None and scenario.variants:
        variant = scenario.variants[0].id
    played = scenario.with_variant(variant)

    def note(line: str) -> None:
        report.append(line)
        progress(line)

    lab.cluster.ensure(scenario.cluster.workers, progress, scenario.cluster.kubernetes, scenario.cluster.control_planes)
    if len(lab.ledger) or lab.state():
        lab.reset(progress)
    lab.cluster.wait_until_healthy(progress=progress)
    addons.ensure(lab.cluster, scenario.cluster.addons, progress)  # before the baseline: start keeps them
    before = _baseline_once_answering(lab, progress)
    note(f"baseline: {len(before)} files and services recorded")
    lab.start(scenario, path, progress, variant=variant)
    all_proofs: list[CheckProof] = []
    try:
        for index, step in enumerate(played.steps):
            proofs = watch_broken(lab, index, step.checks)
            all_proofs.extend(proofs)
            failing = [p for p in proofs if p.seen_failing is not None]
            if not failing:
                raise SelftestFailed(
                    f"step {index + 1} ({step.title}): every check passes on the broken cluster; "
                    "the checks cannot tell broken from fixed"
                )
            never = [p for p in proofs if p.seen_failing is None and not p.guard]
            if never:
                raise SelftestFailed(
                    f"step {index + 1} ({step.title}): "
                    + ", ".join(f"check {p.number} ({p.type})" for p in never)
                    + f" never failed while the step's faults were in place ({BROKEN_WAIT}s); it would grade the step "
                    "solved on a broken cluster. Declare it `guard: true` if it is meant to hold throughout.\n"
                    + "\n".join(proof_table(proofs))
                )
            note(f"step {index + 1} ({step.title}): broken as expected ({failing[0].seen_failing})")
            for action in step.reference_solution:
                progress(f"step {index + 1}: reference solution: {action.type}")
                try:
                    FAULTS.get(action.type).call(lab.ctx, action)
                except LabError:
                    raise
                except Exception as exc:  # the API refused it: say so in a sentence, not a traceback
                    raise SelftestFailed(
                        f"step {index + 1} ({step.title}): reference solution {action.type} failed: {_sentence(exc)}"
                    ) from None
            try:
                lab.wait_for_checks(step.checks, step.check_timeout, progress, what=f"step {index + 1} checks")
            except LabError as exc:
                raise SelftestFailed(f"step {index + 1} ({step.title}): reference solution did not pass: {exc.message}") from exc
            for proof in proofs:
                proof.passed_after_fix = True
            if not _advance_within(lab, progress, seconds=60):
                raise SelftestFailed(
                    f"step {index + 1} ({step.title}): checks passed, then kept failing the next gradings for 60s"
                )
            note(f"step {index + 1} ({step.title}): fixed, checks pass")
    finally:
        lab.reset(progress)
    lab.cluster.wait_until_healthy(progress=progress)
    if lab.recreated_cluster:
        # an upgrade is undone by a new cluster at the old release: its certificates, and so the
        # kubeconfig files, are new; what must hold is the release and the cluster's health
        releases = lab.cluster.running_releases()
        if releases != {played.cluster.kubernetes or versions.KUBERNETES_VERSION}:
            raise SelftestFailed(f"reset re-created the cluster, and it runs {sorted(map(str, releases))}")
        note(f"reset: cluster re-created at Kubernetes {', '.join(map(str, releases))} and healthy")
    else:
        after = _baseline_once_answering(lab, progress)
        changes = diff(before, after)
        if changes:
            raise SelftestFailed("reset did not restore the baseline:\n  " + "\n  ".join(changes))
        note("reset: baseline restored (files byte-identical, services as before, cluster healthy)")
    for line in proof_table(all_proofs):
        note(line)
    for proof in all_proofs:
        if proof.guard and proof.seen_failing is None:
            note(f"note: check {proof.step}.{proof.number} ({proof.type}) is a guard: it held on the broken cluster too")
    return report


def _sentence(exc: BaseException) -> str:
    from lab.cluster.api import explain

    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return explain(exc) or f"{type(exc).__name__}: {first}".rstrip(": ")


def _advance_within(lab: Lab, progress: Progress, seconds: float) -> bool:
    """Grade again and move on, as a trainee re-running `cka-lab check` would: a check that
    sends real traffic can miss once on a loaded machine, a fixed cluster passes again soon."""
    try:
        wait_until(lambda: lab.advance(progress) or Pending("a check missed right after passing"),
                   timeout=seconds, what="the step to pass when graded", progress=progress)
        return True
    except TimedOut:
        return False


def selftest_exam(lab: Lab, seed: int, tasks: int, progress: Progress) -> list[str]:
    """Prove a combined exam: every task's faults in at once and each of its checks failing (or
    declared a guard), every reference solution applied, every check passing, a full score,
    then reset back to the baseline."""
    from lab.exam.runner import Exam

    lab.record_attempts = False
    report: list[str] = []

    def note(line: str) -> None:
        report.append(line)
        progress(line)

    exam = Exam(lab)
    with lab.lock.hold(f"selftest --exam --seed {seed}"):
        chosen_seed, drawn = exam.plan(tasks, seed)
        workers = max(loader_workers(drawn), 1)
        lab.cluster.ensure(workers, progress)
        if len(lab.ledger) or lab._has_leftovers():
            lab.reset(progress)
        lab.cluster.wait_until_healthy(progress=progress)
        before = _baseline_once_answering(lab, progress)
        note(f"baseline: {len(before)} files and services recorded")
        state = exam.start(drawn, seed=chosen_seed, minutes=120, progress=progress)
        note("exam: " + ", ".join(f"{t.number}. {t.scenario_id}" + (f" ({t.variant})" if t.variant else "")
                                  for t in state.tasks))
        proofs: list[CheckProof] = []
        try:
            for task in state.tasks:
                step = exam.task_scenario(task).steps[0]
                results = run_checks(lab.ctx, step.checks)
                for number, (spec, result) in enumerate(zip(step.checks, results, strict=True), 1):
                    proofs.append(CheckProof(task.number, number, spec.type, spec.show, spec.guard,
                                             None if result.passed else result.message))
            never = [p for p in proofs if p.seen_failing is None and not p.guard]
            if never:
                raise SelftestFailed("with every task's faults in place these checks pass:\n"
                                     + "\n".join(proof_table(proofs)))
            note(f"all {len(state.tasks)} tasks broken as expected")
            for task in state.tasks:
                for action in exam.task_scenario(task).steps[0].reference_solution:
                    progress(f"task {task.number}: reference solution: {action.type}")
                    FAULTS.get(action.type).call(lab.ctx, action)
            for task in state.tasks:
                step = exam.task_scenario(task).steps[0]
                try:
                    lab.wait_for_checks(step.checks, step.check_timeout, progress, what=f"task {task.number} checks")
                except LabError as exc:
                    raise SelftestFailed(f"task {task.number} ({task.scenario_id}): reference solution did not "
                                         f"pass: {exc.message}") from exc
            for proof in proofs:
                proof.passed_after_fix = True
            score = exam.end(progress)
            if score.earned != score.possible:
                raise SelftestFailed(f"every reference solution applied, yet the exam scored {score.earned:g} of "
                                     f"{score.possible} points")
            note(f"every reference solution: {score.earned:g} of {score.possible} points ({score.percent:g} %)")
        finally:
            lab.reset(progress)
        lab.cluster.wait_until_healthy(progress=progress)
        changes = diff(before, _baseline_once_answering(lab, progress))
        if changes:
            raise SelftestFailed("reset did not restore the baseline:\n  " + "\n  ".join(changes))
        note("reset: baseline restored (files byte-identical, services as before, cluster healthy)")
        for line in proof_table(proofs):
            note(line)
        return report


def loader_workers(drawn) -> int:
    """Workers the drawn tasks' scenarios need."""
    from lab.scenario import loader

    catalog = loader.catalog()
    return max((loader.load_file(catalog[c.scenario]).cluster.workers for c in drawn), default=1)
