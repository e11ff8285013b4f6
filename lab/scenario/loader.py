"""Loading scenario files with errors an instructor can fix: file, line, what was expected and,
for an unknown fault or check type, the valid names."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lab.errors import ScenarioError
from lab.registry import CHECKS, FAULTS
from lab.scenario.models import Scenario

Loc = tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    where: str
    message: str

    def __str__(self) -> str:
        where = f" {self.where}:" if self.where else ""
        return f"{self.file}:{self.line}:{where} {self.message}"


def _construct(node: yaml.Node, lines: dict[Loc, int], loc: Loc) -> Any:
    """Build Python data from a composed YAML node, noting the line of every value."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        data: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(key_node, yaml.ScalarNode) else _scalar(key_node)
            lines[(*loc, key, "__key__")] = key_node.start_mark.line + 1
            data[key] = _construct(value_node, lines, (*loc, key))
        return data
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, lines, (*loc, i)) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.SafeLoader(yaml.serialize(node)).get_single_data() if node.tag != "tag:yaml.org,2002:str" else node.value


def _data_path(data: Any, loc: Loc) -> Loc:
    """The part of a pydantic error location that exists in the data (union tags such as
    'edit-manifest' and wrappers such as 'list[...]' are not keys of the file)."""
    path: list[Any] = []
    current = data
    for part in loc:
        if isinstance(current, dict) and part in current:
            current = current[part]
            path.append(part)
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
            path.append(part)
    return tuple(path)


def _where(path: Loc) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(lines: dict[Loc, int], path: Loc, key: Any = None) -> int:
    if key is not None and (*path, key, "__key__") in lines:
        return lines[(*path, key, "__key__")]
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path, 1)


def _friendly(error: dict[str, Any], data: Any, path: Loc) -> str:
    kind = error["type"]
    if kind == "union_tag_invalid":
        registry = CHECKS if any(p in ("checks", "setup_checks") for p in path) else FAULTS
        tag = error.get("ctx", {}).get("tag")
        return f"unknown {registry.kind} type {tag!r}; valid types: {', '.join(registry.names())}"
    if kind == "union_tag_not_found":
        registry = CHECKS if any(p in ("checks", "setup_checks") for p in path) else FAULTS
        return f"missing 'type'; valid {registry.kind} types: {', '.join(registry.names())}"
    if kind == "extra_forbidden":
        return f"unknown field {error['loc'][-1]!r}" + _valid_fields(error, data, path)
    if kind == "missing":
        return f"missing required field {error['loc'][-1]!r}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return f"{error['msg']} (got {error['input']!r})" if "input" in error and not isinstance(error["input"], dict | list) else error["msg"]


def _valid_fields(error: dict[str, Any], data: Any, path: Loc) -> str:
    """For an unknown parameter of a fault or check, list the parameters it takes."""
    parent: Any = data
    for part in path[:-1]:
        parent = parent[part]
    if isinstance(parent, dict) and isinstance(parent.get("type"), str):
        for registry in (FAULTS, CHECKS):
            if parent["type"] in registry.entries:
                names = [n for n in registry.get(parent["type"]).params.model_fields if n != "type"]
                return f"; {parent['type']} takes: {', '.join(names)}"
    return ""


def load_file(path: Path) -> Scenario:
    """Parse and validate one scenario file; raise ScenarioError listing every problem."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(str(Problem(path, line, "", f"invalid YAML: {problem}"))) from None
    if node is None or not isinstance(node, yaml.MappingNode):
        raise ScenarioError(str(Problem(path, 1, "", "expected a mapping with id, title, steps, …")))
    lines: dict[Loc, int] = {}
    data = _construct(node, lines, ())
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            path_in_data = _data_path(data, error["loc"])
            key = error["loc"][-1] if error["type"] == "extra_forbidden" else None
            problems.append(
                Problem(path, _line(lines, path_in_data, key), _where(path_in_data), _friendly(error, data, path_in_data))
            )
        unique = list(dict.fromkeys(str(p) for p in problems))
        raise ScenarioError("\n".join(unique)) from None
    if scenario.id != path.stem:
        raise ScenarioError(str(Problem(path, lines.get(("id",), 1), "id", f"id {scenario.id!r} must match the file name {path.stem!r}")))
    return scenario


def builtin_dir() -> Path:
    return Path(str(resources.files("scenarios")))


def scenario_dirs() -> list[Path]:
    """Built-in catalog plus CKA_LAB_SCENARIOS (colon-separated folders of an instructor's own)."""
    extra = [Path(p) for p in os.environ.get("CKA_LAB_SCENARIOS", "").split(os.pathsep) if p]
    return [builtin_dir(), *extra]


def catalog() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in scenario_dirs():
        for path in sorted(directory.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def find(name: str) -> Path:
    """A scenario by id, or a path to a scenario file."""
    if name.endswith((".yaml", ".yml")) or os.sep in name:
        path = Path(name)
        if not path.exists():
            raise ScenarioError(f"{name}: no such file")
        return path
    known = catalog()
    if name not in known:
        raise ScenarioError(f"unknown scenario {name!r}; available: {', '.join(sorted(known)) or '(none)'}",
                            title="Unknown scenario")
    return known[name]


def load(name: str) -> Scenario:
    return load_file(find(name))


def validate_paths(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Validate files and folders of scenario files; returns (valid files, error texts)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.glob("*.yaml")))
        else:
            files.append(path)
    ok, errors = [], []
    for file in files:
        try:
            load_file(file)
            ok.append(file)
        except ScenarioError as exc:
            errors.append(exc.message)
    return ok, errors
