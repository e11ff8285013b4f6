"""Scenario variants: the file format, and the variant a seed picks (reproducible)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lab.errors import ScenarioError
from lab.scenario import loader
from lab.session import Lab, SessionState

STEP = """\
      - title: {title}
        task: do it
        faults:
          - {{type: stop-service, node: worker, service: {service}}}
        checks:
          - {{type: service-active, node: worker, service: {service}}}
        solution: start it
"""

VARIANTS = """\
id: {id}
title: T
summary: S
domain: Troubleshooting
difficulty: easy
variants:
  - id: kubelet
    title: kubelet stopped
    steps:
{kubelet}  - id: containerd
    title: containerd stopped
    steps:
{containerd}  - id: both
    title: both stopped
    steps:
{kubelet}{containerd}"""


def variants_file(tmp_path: Path, name: str = "multi") -> Path:
    text = VARIANTS.format(
        id=name,
        kubelet=STEP.format(title="kubelet", service="kubelet"),
        containerd=STEP.format(title="containerd", service="containerd"),
    )
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def test_variants_load_and_steps_default_to_the_first(tmp_path: Path) -> None:
    scenario = loader.load_file(variants_file(tmp_path))
    assert scenario.variant_ids() == ["kubelet", "containerd", "both"]
    assert [s.title for s in scenario.steps] == ["kubelet"]
    assert [s.title for s in scenario.with_variant("both").steps] == ["kubelet", "containerd"]
    assert scenario.with_variant(None) is scenario


def test_same_seed_same_variant(tmp_path: Path) -> None:
    scenario = loader.load_file(variants_file(tmp_path))
    for seed in range(20):
        assert scenario.pick_variant(seed) == scenario.pick_variant(seed)


def test_seed_choice_is_stable_across_processes(tmp_path: Path) -> None:
    """The choice depends only on the seed and the variant list (no hash randomisation)."""
    import subprocess
    import sys

    path = variants_file(tmp_path)
    code = (
        "from pathlib import Path; from lab.scenario import loader; "
        f"s = loader.load_file(Path({str(path)!r})); print([s.pick_variant(n) for n in range(10)])"
    )
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)}
    scenario = loader.load_file(path)
    assert runs == {str([scenario.pick_variant(n) for n in range(10)]) + "\n"}


def test_seeds_reach_every_variant(tmp_path: Path) -> None:
    scenario = loader.load_file(variants_file(tmp_path))
    assert {scenario.pick_variant(seed) for seed in range(50)} == {"kubelet", "containerd", "both"}


def test_no_seed_still_picks_a_known_variant(tmp_path: Path) -> None:
    scenario = loader.load_file(variants_file(tmp_path))
    assert {scenario.pick_variant() for _ in range(30)} <= set(scenario.variant_ids())


def test_scenario_without_variants_picks_none() -> None:
    scenario = loader.load("control-plane-failure")
    assert scenario.pick_variant(3) is None
    assert scenario.variant_ids() == []


def test_unknown_variant_is_an_error(tmp_path: Path) -> None:
    scenario = loader.load_file(variants_file(tmp_path))
    with pytest.raises(ScenarioError, match="no variant 'nope'; variants: kubelet, containerd, both"):
        scenario.with_variant("nope")


def test_steps_and_variants_together_are_rejected(tmp_path: Path) -> None:
    path = variants_file(tmp_path, "both")
    data = yaml.safe_load(path.read_text())
    data["steps"] = [dict(data["variants"][1]["steps"][0], title="other")]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match="either steps or variants"):
        loader.load_file(path)


def test_duplicate_variant_ids_are_rejected(tmp_path: Path) -> None:
    path = variants_file(tmp_path, "dup")
    path.write_text(path.read_text().replace("id: containerd", "id: kubelet"))
    with pytest.raises(ScenarioError, match="variant ids must be unique"):
        loader.load_file(path)


def test_a_variant_declares_what_it_breaks_and_needs_in_an_exam(tmp_path: Path) -> None:
    from lab.exam.blueprint import candidates

    path = variants_file(tmp_path, "declared")
    data = yaml.safe_load(path.read_text())
    data["exam"] = {"points": 4, "breaks": ["node:worker"], "needs": ["node:control-plane"]}
    data["variants"][1].update(breaks=["component:cri"], needs=[])
    path.write_text(yaml.safe_dump(data))
    by_variant = {c.variant: c for c in candidates([loader.load_file(path)])}
    assert "node:worker" in by_variant["kubelet"].breaks and "component:cri" not in by_variant["kubelet"].breaks
    assert by_variant["kubelet"].needs == {"node:control-plane"}
    # the variant's own tokens replace the scenario's; its faults' targets count anyway
    assert "node:worker" not in by_variant["containerd"].breaks
    assert {"component:cri", "service:worker:containerd"} <= by_variant["containerd"].breaks
    assert by_variant["containerd"].needs == frozenset()


def test_variant_declarations_need_an_exam_and_known_tokens(tmp_path: Path) -> None:
    path = variants_file(tmp_path, "undeclared")
    data = yaml.safe_load(path.read_text())
    data["variants"][0]["breaks"] = ["node:worker"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match=r"variants \['kubelet'\] declare `breaks`/`needs`, which only an exam task"):
        loader.load_file(path)
    data["exam"] = {"points": 4}
    data["variants"][0]["breaks"] = ["worker"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError, match="'worker' is not one of"):
        loader.load_file(path)


class _NoCluster:
    """Stands in for LabCluster: start() gets as far as the session state, no further."""

    name = "cka-lab"

    def ensure(self, workers, progress):
        raise RuntimeError("stop here")

    def identity(self):
        return None


def _lab(tmp_path: Path) -> Lab:
    from lab.settings import Settings

    return Lab(Settings(), tmp_path, cluster=_NoCluster())  # type: ignore[arg-type]


def test_session_state_records_the_variant_and_scenario_applies_it(tmp_path: Path) -> None:
    path = variants_file(tmp_path)
    lab = _lab(tmp_path)
    state = SessionState(scenario_id="multi", scenario_path=str(path), variant="both", seed=7)
    lab._save(state)
    again = _lab(tmp_path)
    assert again.require_state().variant == "both"
    assert [s.title for s in again.scenario().steps] == ["kubelet", "containerd"]


def test_start_rejects_an_unknown_variant_before_touching_the_cluster(tmp_path: Path, monkeypatch) -> None:
    from lab import trust

    monkeypatch.setenv("CKA_LAB_CONFIG", str(tmp_path / "config" / "config.toml"))
    path = variants_file(tmp_path)
    trust.trust(path, path.read_bytes())
    with pytest.raises(ScenarioError, match="no variant"):
        _lab(tmp_path).start(loader.load_file(path), path, variant="nope")


def test_start_refuses_an_untrusted_file_naming_the_flag_before_touching_the_cluster(tmp_path: Path, monkeypatch) -> None:
    from lab.trust import UntrustedScenario

    monkeypatch.setenv("CKA_LAB_CONFIG", str(tmp_path / "config" / "config.toml"))
    path = variants_file(tmp_path)
    with pytest.raises(UntrustedScenario) as info:
        _lab(tmp_path).start(loader.load_file(path), path)  # _NoCluster.ensure would raise RuntimeError
    assert "--trust" in str(info.value) and "stops or starts services on nodes" in info.value.message


def test_old_session_files_without_a_variant_still_load() -> None:
    state = SessionState.model_validate_json('{"scenario_id": "x", "scenario_path": "/x.yaml", "step": 1}')
    assert state.variant is None and state.seed is None


def test_list_json_shows_variants(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from lab.cli import app

    variants_file(tmp_path)
    monkeypatch.setenv("CKA_LAB_SCENARIOS", str(tmp_path))
    result = CliRunner().invoke(app, ["list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert rows["multi"]["variants"] == ["kubelet", "containerd", "both"]
    assert rows["control-plane-failure"]["variants"] == []



@pytest.mark.parametrize("columns", ["80", "60"])
def test_list_never_cuts_the_ids_a_user_types(columns: str) -> None:
    import subprocess
    import sys

    from lab.scenario import loader

    result = subprocess.run([sys.executable, "-m", "lab", "list"], capture_output=True, text=True, timeout=60,
                            env={**__import__("os").environ, "COLUMNS": columns})
    assert result.returncode == 0, result.stderr
    for scenario_id in loader.catalog():
        assert f" {scenario_id} " in result.stdout, result.stdout


def test_reveal_opens_diagnostic_checks_one_by_one_and_counts_them(tmp_path: Path) -> None:
    from lab.errors import LabError

    catalog = Path(loader.__file__).parents[2] / "scenarios" / "worker-node-failure.yaml"
    lab = _lab(tmp_path)
    lab._save(SessionState(scenario_id="worker-node-failure", scenario_path=str(catalog), variant="kubelet-stopped"))
    assert lab.reveal_check() == 2
    assert lab.reveal_check(2) == 2  # already open: not counted again
    with pytest.raises(LabError, match="not a diagnostic check"):
        lab.reveal_check(1)
    assert lab.reveal_check() == 3
    assert lab.reveal_check() is None
    assert lab.revealed() == {1, 2}
    assert lab.summary()["checks_revealed"] == 2
    assert lab.summary()["variant"] == "1 of 5"  # the id names the fault: not while it runs
