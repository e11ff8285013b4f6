"""The built-in catalog: every scenario is complete enough to teach and to be proved by selftest."""

from __future__ import annotations

import pytest

from lab.scenario import loader

CATALOG = sorted(loader.catalog())
EXPECTED = {
    "control-plane-failure",
    "worker-node-failure",
    "application-failure",
    "network-failure",
    "apiserver-down",
    "control-plane-kubelet",
    "pod-deletion",
    "etcd-backup-restore",
    "node-maintenance",
    "rollout-rollback",
}


def test_catalog_has_the_troubleshooting_and_maintenance_scenarios() -> None:
    assert EXPECTED <= set(CATALOG)


def _played(scenario):
    return [scenario.with_variant(v) for v in scenario.variant_ids()] or [scenario]


@pytest.mark.parametrize("scenario_id", CATALOG)
def test_every_step_teaches_and_can_be_proved(scenario_id: str) -> None:
    scenario = loader.load(scenario_id)
    for played in _played(scenario):
        for number, step in enumerate(played.steps, 1):
            where = f"{scenario_id} step {number}"
            assert len(step.hints) >= 2, f"{where}: needs at least two hints"
            assert step.solution.strip(), f"{where}: needs a solution"
            assert step.reference_solution, f"{where}: needs a reference solution for selftest"
            assert step.checks, f"{where}: needs checks"
        assert played.steps[0].faults, f"{scenario_id}: step 1 must break something"


@pytest.mark.parametrize("scenario_id", CATALOG)
def test_faults_never_run_arbitrary_commands(scenario_id: str) -> None:
    """run-on-node is not recorded for undo: reference solutions only."""
    scenario = loader.load(scenario_id)
    for played in _played(scenario):
        for step in played.steps:
            assert all(f.type != "run-on-node" for f in step.faults)


def test_variant_scenarios_list_their_variants() -> None:
    assert loader.load("worker-node-failure").variant_ids() == [
        "kubelet-stopped",
        "kubelet-disabled",
        "wrong-api-port",
        "missing-ca",
        "containerd-stopped",
    ]
    assert len(loader.load("network-failure").variant_ids()) == 5
    assert len(loader.load("apiserver-down").variant_ids()) == 3


def _node_ports(value) -> set[int]:
    """Every `nodePort` anywhere in a parsed document."""
    if isinstance(value, dict):
        found = {value["nodePort"]} if isinstance(value.get("nodePort"), int) else set()
        return found.union(*(_node_ports(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_node_ports(v) for v in value))
    return set()


def test_no_two_owners_claim_the_same_node_port() -> None:
    """A node port is cluster-wide: an add-on kept by reset, or another scenario of the same exam,
    holding it makes a scenario's Service fail to apply ("provided port is already allocated")."""
    import yaml

    from lab.addons.catalog import MANIFESTS

    owners: dict[int, set[str]] = {}
    for path in sorted(loader.builtin_dir().glob("*.yaml")):
        for port in _node_ports(yaml.safe_load(path.read_text())):
            owners.setdefault(port, set()).add(f"scenario {path.stem}")
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            for port in _node_ports(document):
                owners.setdefault(port, set()).add(f"add-on manifest {path.name}")
    assert any("scenario service-exposure" in o for o in owners.values()), owners
    shared = {port: sorted(o) for port, o in owners.items() if len(o) > 1}
    assert not shared, shared
