"""Loading scenario files with errors an instructor can fix: file, line, what was expected and,
for an unknown fault or check type, the valid names.

Scenario files may come from anywhere: reading them is bounded and strict (lab/scenario/safe_yaml.py),
every problem is a ScenarioError of `file:line: where: what` lines with no terminal control
characters, and a broken or odd file in a scenario folder never stops the catalog."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lab.errors import ScenarioError
from lab.registry import CHECKS, FAULTS
from lab.scenario import safe_yaml
from lab.scenario.models import Scenario
from lab.text import printable

Loc = tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    where: str
    message: str

    def __str__(self) -> str:
        where = f" {_one_line(self.where)}:" if self.where else ""
        message = _one_line(self.message)
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "…"
        return f"{printable(str(self.file), newlines=False)}:{self.line}:{where} {message}"


MAX_MESSAGE = 1000
"""Longest problem text printed (values quoted from the file are cut)."""


def _one_line(text: str) -> str:
    return printable(text).replace("\n", " ").replace("\t", " ")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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


def _registry(path: Loc) -> Any:
    return CHECKS if any(p in ("checks", "setup_checks") for p in path) else FAULTS


def _type_names(path: Loc) -> str:
    registry = _registry(path)
    return ", ".join(registry.names(include_solution_only=registry is CHECKS or "reference_solution" in path))


def _friendly(error: dict[str, Any], data: Any, path: Loc) -> str:
    kind = error["type"]
    if kind == "union_tag_invalid":
        registry = _registry(path)
        tag = error.get("ctx", {}).get("tag")
        if registry is FAULTS and tag in FAULTS.entries and FAULTS.get(tag).solution_only:
            return (f"{tag} is for reference_solution only (reset cannot undo it), not for faults; "
                    f"valid fault types: {_type_names(path)}")
        return f"unknown {registry.kind} type {_short(tag)}; valid types: {_type_names(path)}"
    if kind == "union_tag_not_found":
        return f"missing 'type'; valid {_registry(path).kind} types: {_type_names(path)}"
    if kind == "extra_forbidden":
        return f"unknown field {_short(error['loc'][-1])}" + _valid_fields(error, data, path)
    if kind == "missing":
        return f"missing required field {error['loc'][-1]!r}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if "input" in error and not isinstance(error["input"], dict | list):
        return f"{error['msg']} (got {_short(error['input'])})"
    return str(error["msg"])


def _problems(exc: ValidationError, path: Path, data: Any, lines: dict[Loc, int]) -> list[str]:
    errors = exc.errors()
    located = [(_data_path(data, error["loc"]), error) for error in errors]
    # `x: T | None = None` fields report the T error and "Input should be None": keep the first
    others = {where for where, error in located if error["type"] != "none_required"}
    problems = []
    for where, error in located:
        if error["type"] == "none_required" and where in others:
            continue
        key = error["loc"][-1] if error["type"] == "extra_forbidden" else None
        problems.append(str(Problem(path, _line(lines, where, key), _where(where), _friendly(error, data, where))))
    return list(dict.fromkeys(problems))


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
    path = Path(path)
    try:
        return _load_file(path)
    except ScenarioError:
        raise
    except Exception as exc:  # noqa: BLE001  (a file must never crash the catalog or the CLI)
        raise ScenarioError(str(Problem(path, 1, "", f"cannot be loaded: {type(exc).__name__}: {exc}"))) from None


def _load_file(path: Path) -> Scenario:
    try:
        data, lines = safe_yaml.load(safe_yaml.read_text(path))
    except safe_yaml.YamlProblem as exc:
        raise ScenarioError(str(Problem(path, exc.line, _where(exc.loc), exc.message))) from None
    if not isinstance(data, dict):
        raise ScenarioError(str(Problem(path, 1, "", "expected a mapping with id, title, steps, …")))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError("\n".join(_problems(exc, path, data, lines))) from None
    if scenario.id != path.stem:
        raise ScenarioError(str(Problem(path, lines.get(("id",), 1), "id", f"id {scenario.id!r} must match the file name {path.stem!r}")))
    return scenario


def builtin_dir() -> Path:
    return Path(str(resources.files("scenarios")))


def scenario_dirs() -> list[Path]:
    """Built-in catalog plus CKA_LAB_SCENARIOS (colon-separated folders of an instructor's own)."""
    extra = [Path(p) for p in os.environ.get("CKA_LAB_SCENARIOS", "").split(os.pathsep) if p]
    return [builtin_dir(), *extra]


def scenario_files(directory: Path) -> list[Path]:
    """The *.yaml entries of a folder, sorted; an unreadable or missing folder has none. Entries
    are not opened here: a FIFO or a broken file is reported when it is loaded."""
    try:
        with os.scandir(directory) as entries:
            names = [entry.name for entry in entries if entry.name.endswith(".yaml")]
    except (OSError, ValueError):
        return []
    return [Path(directory) / name for name in sorted(names)]


def catalog() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory in scenario_dirs():
        for path in scenario_files(directory):
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
            files.extend(scenario_files(path))
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
