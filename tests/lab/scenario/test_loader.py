"""Loading and validating scenario files: every problem names the file, the line, what was
expected and (for unknown types) the valid names."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lab.errors import ScenarioError
from lab.registry import CHECKS, FAULTS
from lab.scenario import loader

GOOD = """\
id: {id}
title: T
summary: S
domain: Troubleshooting
difficulty: easy
steps:
  - title: one
    task: do it
    faults:
      - type: stop-service
        node: worker
        service: kubelet
    checks:
      - {{type: node-ready, node: worker}}
    solution: start it
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        loader.load_file(path)
    return info.value.message


def test_builtin_catalog_is_valid() -> None:
    ok, errors = loader.validate_paths([loader.builtin_dir()])
    assert errors == []
    assert "control-plane-failure" in {p.stem for p in ok}


def test_good_file_loads(tmp_path: Path) -> None:
    scenario = loader.load_file(write(tmp_path, "good", GOOD.format(id="good")))
    assert scenario.steps[0].faults[0].type == "stop-service"
    assert scenario.steps[0].faults[0].disable is False


def test_unknown_fault_type_lists_valid_names_with_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", GOOD.format(id="bad").replace("stop-service", "stop-servise"))
    message = error_of(path)
    assert f"{path}:10:" in message
    assert "unknown fault type 'stop-servise'" in message
    for name in FAULTS.names(include_solution_only=False):
        assert name in message
    assert "run-on-node" not in message  # for reference solutions only


def test_unknown_check_type_lists_check_names(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", GOOD.format(id="bad").replace("node-ready", "node-redy"))
    message = error_of(path)
    assert "unknown check type 'node-redy'" in message
    assert ", ".join(CHECKS.names()) in message
    assert f"{path}:14:" in message


def test_unknown_parameter_names_the_parameters_the_fault_takes(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", GOOD.format(id="bad").replace("service: kubelet", "service: kubelet\n        sevrice: x"))
    message = error_of(path)
    assert f"{path}:13: steps[0].faults[0].sevrice: unknown field 'sevrice'; stop-service takes: node, service, disable" in message


def test_missing_and_wrongly_typed_parameters(tmp_path: Path) -> None:
    text = GOOD.format(id="bad").replace("        service: kubelet\n", "        disable: maybe\n")
    message = error_of(write(tmp_path, "bad", text))
    assert "steps[0].faults[0]: missing required field 'service'" in message
    assert "steps[0].faults[0].disable" in message and "maybe" in message


def test_invalid_yaml_reports_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad", "id: bad\ntitle: [unclosed\nsteps: []\n")
    message = error_of(path)
    assert message.startswith(f"{path}:")
    assert "invalid YAML" in message


def test_id_must_match_file_name(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "other", GOOD.format(id="good")))
    assert "must match the file name 'other'" in message


def test_setup_objects_need_identity(tmp_path: Path) -> None:
    text = GOOD.format(id="bad") + "setup:\n  - kind: Pod\n    metadata: {}\n"
    message = error_of(write(tmp_path, "bad", text))
    assert "setup[0] lacks apiVersion, metadata.name" in message


def test_an_exam_task_cannot_have_on_demand_checks(tmp_path: Path) -> None:
    """An exam grades its tasks together and a game day re-checks them every few seconds: a
    check that stages an outage of its own has no place there."""
    text = GOOD.format(id="bad").replace("{type: node-ready, node: worker}", "{type: node-ready, node: worker, on_demand: true}")
    assert loader.load_file(write(tmp_path, "ok", text.replace("id: bad", "id: ok"))).steps[0].checks[0].on_demand
    message = error_of(write(tmp_path, "bad", text + "exam: {points: 4}\n"))
    assert "a scenario with `on_demand` checks cannot be an exam task (drop `exam`)" in message


BAD_FILES = sorted((Path(__file__).parent / "bad").glob("*.yaml"))


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_validate_command_reports_malformed_files_without_traceback(path: Path) -> None:
    """The real command, as an instructor runs it: exit 1, file:line, no traceback."""
    result = subprocess.run([sys.executable, "-m", "lab", "validate", str(path)], capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert f"{path}:" in output
    expected = path.read_text().splitlines()[0].removeprefix("# expect: ")
    assert expected in output


def test_bad_files_exist() -> None:
    assert len(BAD_FILES) >= 6
