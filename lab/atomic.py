"""Writing state files so that a crash at any instant leaves the old file or the new one, never
half of one, and two writers never share a temp file."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def write_atomic(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Write to a unique temp file in the same directory, fsync, rename over `path`, fsync the
    directory. The file is created with `mode` (private by default: state holds Secrets)."""
    payload = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def back_up(path: Path) -> Path:
    """Move an unreadable state file aside (kept for inspection) and return its new path."""
    backup = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    os.replace(path, backup)
    return backup


def read_model(path: Path, model, what: str, hint: str):
    """The pydantic `model` saved in `path`, None when there is no file. An unreadable file is
    moved aside and reported (StateError titled "<What> file unreadable") with both paths."""
    from pydantic import ValidationError

    from lab.errors import StateError

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        backup = back_up(path)
        first = str(exc).strip().splitlines()[0][:200]
        raise StateError(f"the {what} file {path} is unreadable ({first}); it was moved to {backup}",
                         title=f"{what.capitalize()} file unreadable", hint=hint) from None
