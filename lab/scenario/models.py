"""The scenario file format, as pydantic models: the instructor's interface.

Faults, reference-solution actions and checks are discriminated unions built from the
registries, so the JSON Schema lists every type with its own typed parameters."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import random

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

import lab.actions  # noqa: F401  (fills FAULTS)
import lab.checks  # noqa: F401  (fills CHECKS)
from lab.params import ImageRef, PinnedRelease, Text
from lab.registry import CHECKS, FAULTS


def _union(registry, include_solution_only: bool = True) -> Any:
    names = registry.names(include_solution_only=include_solution_only)
    models = tuple(registry.get(name).params for name in names)
    return Annotated[Union[models], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007


Action = _union(FAULTS)
"""Any action: a fault, or a step of a reference solution."""
Fault = _union(FAULTS, include_solution_only=False)
"""An action allowed under a step's faults: every action but the solution-only ones (run-on-node),
which reset could not undo."""
Check = _union(CHECKS)

Domain = Literal[
    "Troubleshooting",
    "Cluster Architecture, Installation and Configuration",
    "Services and Networking",
    "Workloads and Scheduling",
    "Storage",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Cluster(_Strict):
    """Shape of the lab cluster the scenario needs."""

    workers: int = Field(default=1, ge=0, le=3)
    """Worker nodes besides the control-plane node."""
    addons: list[Literal["network-policy", "storage", "metrics-server", "gateway"]] = Field(default_factory=list)
    """Add-ons the scenario needs, installed by `cka-lab start` where the cluster lacks them (and
    kept by reset): `network-policy` (NetworkPolicy enforcement), `storage` (dynamic provisioning
    for the default StorageClass `standard`), `metrics-server` (`kubectl top`, HPAs), `gateway`
    (Gateway API CRDs and Traefik, GatewayClass and IngressClass `traefik`). `network-policy` and
    `storage` are in every lab cluster anyway."""

    kubernetes: PinnedRelease | None = None
    """Kubernetes release of every node: one of the lab's pinned releases (an upgrade scenario
    starts one minor below the default); unset means the default release."""
    control_planes: Literal[1, 3] = 1
    """Control-plane nodes: 1, or 3 for a highly-available control plane (stacked etcd, one member
    on each, behind kind's API load balancer). Their names are `control-plane`, `control-plane2`
    and `control-plane3`; a lab cluster of another shape is re-created."""


TOKEN_FORMS = (
    "cluster, node:<node>, component:<name>, namespace:<name>, object:<namespace>/<kind>/<name>, "
    "file:<node>:<path>, service:<node>:<unit>"
)


def _check_tokens(tokens: list[str]) -> list[str]:
    for token in tokens:
        kind, _, value = token.partition(":")
        if token != "cluster" and (kind not in ("node", "component", "namespace", "object", "file", "service") or not value):
            raise ValueError(f"{token!r} is not one of {TOKEN_FORMS}")
    return tokens


class ExamTask(_Strict):
    """How the scenario serves as a task of a mock exam (`cka-lab exam`): its first step, with
    the faults of a variant, graded once at the end. Two tasks share the exam's cluster only when
    neither breaks what the other breaks or needs."""

    points: int = Field(ge=1, le=20)
    """The task's points in the exam score (the real exam gives 4 to 8 per task); its checks
    share them by their weights."""
    breaks: list[str] = Field(default_factory=list)
    """What the task breaks beyond its own setup objects and its faults' targets (which count
    anyway): `node:<node>` (its readiness), `component:<name>` (e.g. `component:dns`), or
    `cluster` (it can share the cluster with no other task)."""
    needs: list[str] = Field(default_factory=list)
    """What the task needs working: `node:worker` for pods that must run there,
    `component:kube-scheduler` for a fix that creates pods, `component:dns`, …"""
    namespace: str = "default"
    """The namespace the task concerns: its kubeconfig context (`cka-lab-t<number>`) is set to it."""

    @field_validator("breaks", "needs")
    @classmethod
    def _known_tokens(cls, tokens: list[str]) -> list[str]:
        return _check_tokens(tokens)


class Step(_Strict):
    """One task of a scenario: faults injected when it begins, checks that grade it."""

    title: Text
    """Short name shown in the step list."""
    task: Text
    """What the trainee must do, in Markdown, written like an exam question."""
    faults: list[Fault] = Field(default_factory=list)
    """Injected in order when the step begins (each recorded for undo before it acts).
    Solution-only actions such as run-on-node are not allowed here."""
    checks: list[Check] = Field(min_length=1)
    """All must pass for the step to be solved."""
    hints: list[Text] = Field(default_factory=list)
    """Revealed one at a time; each should lead without giving the answer away."""
    solution: Text
    """The fix explained for humans, in Markdown (commands included)."""
    reference_solution: list[Action] = Field(default_factory=list)
    """The fix as actions, applied by `cka-lab selftest` to prove the checks can pass."""
    check_timeout: int = Field(default=240, ge=10, le=3600)
    """Seconds selftest waits for the checks to pass after the reference solution."""


class Variant(_Strict):
    """One way the scenario breaks: its own full list of steps (setup is shared)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=63)
    """Identifier (`cka-lab start <scenario> --variant <id>`)."""
    title: Text
    """Short name, e.g. "kubelet stopped and disabled"."""
    steps: list[Step] = Field(min_length=1)
    """The steps of this variant, in order."""
    breaks: list[str] | None = None
    """In an exam or a game day: what this variant breaks, in place of the scenario's
    `exam.breaks` (variants that break different components can then share the cluster with
    different tasks). Same tokens as `exam.breaks`; its faults' targets count anyway."""
    needs: list[str] | None = None
    """In an exam or a game day: what this variant needs working, in place of `exam.needs`."""

    @field_validator("breaks", "needs")
    @classmethod
    def _known_tokens(cls, tokens: list[str] | None) -> list[str] | None:
        return None if tokens is None else _check_tokens(tokens)


class Scenario(_Strict):
    """A troubleshooting scenario: setup, then ordered steps (or variants, each with its steps)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=63)
    """Identifier used on the command line (`cka-lab start <id>`); the file name without .yaml."""
    title: Text
    """One-line title."""
    summary: Text
    """Two or three sentences on what the trainee practises."""
    domain: Domain
    """CKA curriculum domain."""
    difficulty: Literal["easy", "medium", "hard"]
    """How hard it is for a CKA candidate."""
    time_limit_minutes: int | None = Field(default=None, ge=1, le=1440)
    """Optional time limit; the TUI shows the time left."""
    cluster: Cluster = Field(default_factory=Cluster)
    """Cluster shape."""
    exam: ExamTask | None = None
    """Set when the scenario may be drawn as a task of a mock exam."""
    images: list[ImageRef] = Field(default_factory=list)
    """Images the setup and steps run, loaded into the cluster ahead of time."""
    setup: list[dict[str, Any]] = Field(default_factory=list)
    """Kubernetes objects applied before any fault (removed again by reset)."""
    setup_checks: list[Check] = Field(default_factory=list)
    """Checks that must pass after setup, before the first fault (e.g. the Deployment is ready)."""
    steps: list[Step] = Field(default_factory=list)
    """The steps, in order. Leave out when the scenario has variants: it then holds the first
    variant's steps until a variant is chosen."""
    variants: list[Variant] = Field(default_factory=list)
    """Several ways to break the same setup; `cka-lab start` picks one (reproducibly with
    `--seed`), selftest runs every one."""

    @model_validator(mode="after")
    def _steps_or_variants(self) -> Scenario:
        if self.variants:
            ids = [v.id for v in self.variants]
            if len(set(ids)) != len(ids):
                raise ValueError(f"variant ids must be unique: {ids}")
            if self.steps and self.steps != self.variants[0].steps:
                raise ValueError("give either steps or variants, not both")
            self.steps = self.variants[0].steps
        elif not self.steps:
            raise ValueError("missing required field 'steps' (or 'variants', each with its steps)")
        if self.exam is not None:
            # an exam grades tasks side by side and a game day re-checks them every few seconds
            steps = [s for v in self.variants for s in v.steps] or self.steps
            if any(getattr(c, "on_demand", False) for s in steps for c in s.checks):
                raise ValueError("a scenario with `on_demand` checks cannot be an exam task (drop `exam`)")
        else:
            declaring = [v.id for v in self.variants if v.breaks is not None or v.needs is not None]
            if declaring:
                raise ValueError(f"variants {declaring} declare `breaks`/`needs`, which only an exam task "
                                 "uses: add `exam` or drop them")
        return self

    def variant(self, variant_id: str) -> Variant:
        for candidate in self.variants:
            if candidate.id == variant_id:
                return candidate
        from lab.errors import ScenarioError

        known = ", ".join(self.variant_ids()) or "(none)"
        raise ScenarioError(f"scenario {self.id!r} has no variant {variant_id!r}; variants: {known}", title="Unknown variant")

    def variant_ids(self) -> list[str]:
        return [v.id for v in self.variants]

    def pick_variant(self, seed: int | None = None) -> str | None:
        """The variant to play: reproducible for a seed, random without one; None without variants."""
        if not self.variants:
            return None
        rng = random.Random(seed) if seed is not None else random.SystemRandom()
        return self.variants[rng.randrange(len(self.variants))].id

    def with_variant(self, variant: str | None) -> Scenario:
        """This scenario with the chosen variant's steps as its steps."""
        if variant is None:
            return self
        return self.model_copy(update={"steps": self.variant(variant).steps})

    @field_validator("setup")
    @classmethod
    def _objects_have_identity(cls, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, obj in enumerate(objects):
            missing = [k for k in ("apiVersion", "kind") if k not in obj]
            if not isinstance(obj.get("metadata"), dict) or "name" not in obj["metadata"]:
                missing.append("metadata.name")
            if missing:
                raise ValueError(f"setup[{index}] lacks {', '.join(missing)}")
        return objects
