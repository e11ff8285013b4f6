"""Which scenario files may run. A scenario file acts as root on the lab's nodes (it writes files,
stops services, runs shell commands in its reference solution), so only trusted files run:
the built-in catalog, and files the user trusted explicitly, by the sha256 of their exact bytes
(an edit makes a file untrusted again). Trust is kept in cka-lab's config directory."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from lab import paths
from lab.atomic import write_atomic
from lab.errors import LabError


class UntrustedScenario(LabError):
    title = "Scenario file not trusted"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_builtin(path: Path) -> bool:
    from lab.scenario.loader import builtin_dir

    try:
        path.resolve().relative_to(builtin_dir().resolve())
        return True
    except ValueError:
        return False


def store_path() -> Path:
    return paths.config_file().with_name("trusted-scenarios.json")


def _load() -> dict[str, dict]:
    try:
        data = json.loads(store_path().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def is_trusted(path: Path, data: bytes) -> bool:
    return is_builtin(path) or digest(data) in _load()


def trust(path: Path, data: bytes) -> str:
    """Trust these exact bytes of the file at `path`; returns their sha256."""
    entries = _load()
    key = digest(data)
    entries[key] = {"path": str(path.resolve()), "trusted_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    write_atomic(store_path(), json.dumps(entries, indent=1))
    return key


def what_it_may_do(scenario) -> list[str]:
    """One line per kind of power the file uses, for the confirmation a user reads before
    trusting it (the TUI's dialog, the CLI's refusal)."""
    powers: dict[str, set[str]] = {}

    def note(kind: str, detail: str) -> None:
        powers.setdefault(kind, set()).add(detail)

    steps = [step for variant in (scenario.variants or []) for step in variant.steps] or list(scenario.steps)
    for step in steps:
        for action in [*step.faults, *step.reference_solution]:
            kind = action.type
            if kind in ("write-file", "replace-in-file", "delete-file", "record-path"):
                note("changes files on nodes", f"{action.node}:{action.path}")
            elif kind == "edit-manifest":
                note("edits static pod manifests", f"{action.node}:{action.manifest}")
            elif kind in ("stop-service", "start-service"):
                note("stops or starts services on nodes", f"{action.node}:{action.service}")
            elif kind == "reset-node":
                note("takes nodes out of the cluster (kubeadm reset)", action.node)
            elif kind == "write-join-command":
                note("changes files on nodes", f"{action.node}:{action.path}")
                note("creates bootstrap tokens", "kube-system")
            elif kind == "helm-release":
                note("installs Helm releases", f"{action.release} in {action.namespace}")
            elif kind == "run-on-node":
                note("runs shell commands as root on nodes", action.node)
            else:
                note("changes Kubernetes objects", kind)
        for check in step.checks:
            if check.type == "command-succeeds":
                note("runs shell commands as root on nodes", check.node)
    if scenario.setup:
        note("creates Kubernetes objects", ", ".join(sorted({o["kind"] for o in scenario.setup})))
    if scenario.images:
        note("loads images into the cluster", ", ".join(scenario.images))
    return [f"{kind}: {', '.join(sorted(details))}" for kind, details in sorted(powers.items())]


def require_trusted(path: Path, data: bytes, scenario) -> None:
    if is_trusted(path, data):
        return
    lines = "\n".join(f"  - {line}" for line in what_it_may_do(scenario))
    raise UntrustedScenario(
        f"{path} is not a built-in scenario and has not been trusted. A scenario file acts as root on "
        f"the lab's nodes; this one:\n{lines}",
        hint="read it, then run it again with --trust (trusts these exact bytes, "
        f"sha256 {digest(data)[:16]}…; an edit needs trusting again)",
    )
