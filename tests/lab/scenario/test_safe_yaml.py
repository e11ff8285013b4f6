"""Reading scenario files safely: the file checks, decoding and YAML limits one by one, and a
scenario folder with broken or odd entries never stopping the catalog, the list command or the
TUI browser."""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from lab.errors import ScenarioError
from lab.scenario import loader, safe_yaml
from lab.scenario.safe_yaml import YamlProblem

GOOD = textwrap.dedent(
    """\
    id: {id}
    title: T
    summary: S
    domain: Troubleshooting
    difficulty: easy
    steps:
      - title: one
        task: do it
        faults:
          - {{type: stop-service, node: worker, service: kubelet}}
        checks:
          - {{type: node-ready, node: worker}}
        solution: fix it
        reference_solution:
          - {{type: run-on-node, node: worker, command: systemctl start kubelet}}
    """
)


def problem(call, *args) -> YamlProblem:
    with pytest.raises(YamlProblem) as info:
        call(*args)
    return info.value


# --- the file ---------------------------------------------------------------------------------


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    done: list[YamlProblem] = []
    thread = threading.Thread(target=lambda: done.append(problem(safe_yaml.read_bytes, fifo)), daemon=True)
    thread.start()
    thread.join(5)
    assert done and "not a regular file (a FIFO)" in done[0].message


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("a: 1\n")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "real.yaml")
    assert safe_yaml.read_text(tmp_path / "link.yaml") == "a: 1\n"


def test_size_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (safe_yaml.MAX_BYTES + 1))
    assert "file too large" in problem(safe_yaml.read_bytes, path).message
    path.write_bytes(b"#" * safe_yaml.MAX_BYTES)
    assert len(safe_yaml.read_bytes(path)) == safe_yaml.MAX_BYTES


def test_decoding() -> None:
    assert safe_yaml.decode(codecs.BOM_UTF8 + "a: ü\n".encode()) == "a: ü\n"
    assert "UTF-16" in problem(safe_yaml.decode, "a: 1\n".encode("utf-16")).message
    latin1 = problem(safe_yaml.decode, "a: 1\nb: caf\xe9\n".encode("latin-1"))
    assert (latin1.line, latin1.message.split(":")[0]) == (2, "not UTF-8")
    assert "column 7" in latin1.message
    assert problem(safe_yaml.decode, b"a: 1\nb: \x00\n").line == 2


# --- YAML -------------------------------------------------------------------------------------


def test_lines_of_values_and_keys() -> None:
    data, lines = safe_yaml.load("a: 1\nb:\n  - x\n  - {c: d}\n")
    assert data == {"a": 1, "b": ["x", {"c": "d"}]}
    assert lines[("b", 1)] == 4 and lines[("b", "__key__")] == 2 and lines[("b", 1, "c")] == 4


def test_duplicate_key_is_reported_at_the_second() -> None:
    found = problem(safe_yaml.load, "a: 1\nb:\n  c: 1\n  c: 2\n")
    assert (found.line, found.loc) == (4, ("b", "c"))
    assert "duplicate key 'c' (first at line 3)" in found.message


def test_aliases_within_the_limits_are_fine() -> None:
    data, _ = safe_yaml.load("a: &x [1, 2]\nb: *x\nc: *x\n")
    assert data == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


def test_expanded_size_is_limited_before_anything_is_built() -> None:
    levels = ["l0: &l0 [" + ", ".join(["x"] * 10) + "]"]
    levels += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 30)]
    found = problem(safe_yaml.load, "\n".join(levels) + "\n")
    assert found.line == 4 and "too many values" in found.message


def test_node_limit_is_exact() -> None:
    # the mapping, its key and a list of n items: n + 3 values
    n = safe_yaml.MAX_NODES - 3
    safe_yaml.load("a: [" + "x, " * n + "]\n")
    assert "too many values" in problem(safe_yaml.load, "a: [" + "x, " * (n + 1) + "]\n").message


def test_depth_limit_counts_aliases() -> None:
    limit = safe_yaml.MAX_DEPTH
    safe_yaml.load("[" * limit + "]" * limit)
    assert "nested deeper" in problem(safe_yaml.load, "[" * (limit + 1) + "]" * (limit + 1)).message
    half = limit // 2 + 1
    text = "a: &deep " + "[" * half + "]" * half + "\nb: " + "[" * half + "*deep" + "]" * half + "\n"
    found = problem(safe_yaml.load, text)
    assert found.line == 2 and "once *deep is expanded" in found.message


def test_recursive_alias() -> None:
    found = problem(safe_yaml.load, "a: &loop\n  b: *loop\n")
    assert found.line == 2 and "recursive alias *loop" in found.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: !!python/name:os.system x\n", "tag !!python/name:os.system not allowed"),
        ("a: !!binary aGk=\n", "tag !!binary not allowed"),
        ("a: !!omap [{b: 1}]\n", "tag !!omap not allowed"),
        ("a: !env HOME\n", "tag !env not allowed"),
        ("b: &b {c: 1}\na:\n  <<: *b\n", "merge keys"),
        ("? [a]\n: b\n", "mapping key must be a plain value"),
        ('a: "\\e[2J"\n', "control character \\x1b not allowed"),
        ('"\\x07": 1\n', "control character \\x07 not allowed"),
        ("a: b\x1b[2J\n", "control character \\x1b not allowed"),
        ("a: " + "1" * 5000 + "\n", "cannot read"),
        ("a: 2024-13-45\n", "cannot read"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
    ],
)
def test_rejected_yaml(text: str, message: str) -> None:
    assert message in problem(safe_yaml.load, text).message


def test_plain_yaml_types_still_load() -> None:
    data, _ = safe_yaml.load("a: 1\nb: 1.5\nc: true\nd: ~\ne: '0644'\nf: 0644\ng: !!str 12\nh: 'tab\tok'\n")
    assert data == {"a": 1, "b": 1.5, "c": True, "d": None, "e": "0644", "f": 420, "g": "12", "h": "tab\tok"}


# --- the scenario rules at load time ---------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_run_on_node_is_fine_in_a_reference_solution(tmp_path: Path) -> None:
    scenario = loader.load_file(write(tmp_path, "good", GOOD.format(id="good")))
    assert scenario.steps[0].reference_solution[0].type == "run-on-node"


def test_run_on_node_as_a_fault_names_the_valid_fault_types(tmp_path: Path) -> None:
    text = GOOD.format(id="bad").replace("type: stop-service, node: worker, service: kubelet",
                                         "type: run-on-node, node: worker, command: reboot", 1)
    with pytest.raises(ScenarioError) as info:
        loader.load_file(write(tmp_path, "bad", text))
    message = info.value.message
    assert f"{tmp_path / 'bad.yaml'}:10: steps[0].faults[0]: run-on-node is for reference_solution only" in message
    assert "valid fault types: apply-object, cordon," in message
    assert "run-on-node," not in message.split("valid fault types:")[1]


def test_file_mode_in_the_catalog_is_quoted_octal() -> None:
    scenario = loader.load("pod-deletion")
    modes = [f.mode for s in scenario.steps for f in s.faults if f.type == "write-file"]
    assert modes == [0o644]


def test_problems_are_one_line_each_and_printable(tmp_path: Path) -> None:
    name = "evil\x1b]0;title\x07"
    path = write(tmp_path, name, GOOD.format(id="x").replace("title: T", 'title: "\\e[31m"', 1))
    with pytest.raises(ScenarioError) as info:
        loader.load_file(path)
    assert info.value.message == f"{tmp_path}/evil.yaml:2: title: control character \\x1b not allowed"


def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    text = GOOD.format(id="long").replace("service: kubelet", "service: '" + "*" * 5000 + "'", 1)
    with pytest.raises(ScenarioError) as info:
        loader.load_file(write(tmp_path, "long", text))
    assert len(info.value.message) < 400


# --- catalog tolerance ------------------------------------------------------------------------


@pytest.fixture
def odd_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "extra"
    folder.mkdir()
    write(folder, "extra-good", GOOD.format(id="extra-good"))
    write(folder, "extra-broken", "id: extra-broken\ntitle: [\n")
    write(folder, "extra-bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"b{i}: &b{i} [" + ", ".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]\n" for i in range(8)))
    (folder / "extra-dir.yaml").mkdir()
    os.mkfifo(folder / "extra-fifo.yaml")
    (folder / "extra-dev.yaml").symlink_to("/dev/zero")
    monkeypatch.setenv("CKA_LAB_SCENARIOS", f"{folder}{os.pathsep}{tmp_path / 'missing'}{os.pathsep}{folder / 'extra-good.yaml'}")
    return folder


def test_catalog_lists_odd_entries_without_opening_them(odd_folder: Path) -> None:
    found = loader.catalog()
    assert "control-plane-failure" in found
    assert {"extra-good", "extra-broken", "extra-bomb", "extra-dir", "extra-fifo", "extra-dev"} <= set(found)


def test_tui_browser_catalog_reports_broken_files(odd_folder: Path) -> None:
    from tui.screens.browser import load_catalog

    entries, problems = load_catalog()
    ids = {entry.scenario.id for entry in entries}
    assert "extra-good" in ids and "control-plane-failure" in ids
    assert len(problems) == 5
    joined = "\n".join(problems)
    for name in ("extra-broken", "extra-bomb", "extra-dir", "extra-fifo", "extra-dev"):
        assert f"{odd_folder / name}.yaml:" in joined


def test_list_command_lists_good_files_and_reports_broken_ones(odd_folder: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "lab", "list", "--json"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0, result.stderr
    assert "extra-good" in result.stdout and "control-plane-failure" in result.stdout
    assert result.stderr.count("invalid scenario:") == 5, result.stderr
    assert "Traceback" not in result.stderr
