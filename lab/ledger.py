"""The undo ledger: before a fault acts, what it takes to undo it is written to disk.

The ledger is one JSON file replaced atomically (write temp, fsync, rename), so a process killed
at any instant leaves either the old or the new ledger, never half of one. Because an entry is
written *before* its fault acts, a kill between the two leaves an entry whose undo is a no-op;
every undo restores a recorded state rather than reversing an action, so replaying is idempotent.
`cka-lab reset` replays entries newest first and drops each one once it is undone."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter


class FileState(BaseModel):
    """A file on a node as it was: its bytes (base64) and mode, or absent."""

    kind: Literal["file"] = "file"
    node: str
    path: str
    content_b64: str | None
    """None when the file did not exist: undo deletes it."""
    mode: int | None = None
    restart: list[str] = Field(default_factory=list)
    """systemd units to restart after restoring (daemon-reload first), e.g. kubelet."""


class ServiceState(BaseModel):
    """A systemd unit's prior state on a node."""

    kind: Literal["service"] = "service"
    node: str
    service: str
    active: bool
    enabled: bool


class PathState(BaseModel):
    """A path on a node that did not exist: undo removes whatever is there now, directories
    included (e.g. an etcd data directory restored by the trainee)."""

    kind: Literal["path"] = "path"
    node: str
    path: str


class ObjectState(BaseModel):
    """A Kubernetes object as it was (None when it did not exist: undo deletes it)."""

    kind: Literal["object"] = "object"
    api_version: str
    object_kind: str
    namespace: str | None
    name: str
    manifest: dict[str, Any] | None


Entry = Annotated[FileState | ServiceState | PathState | ObjectState, Field(discriminator="kind")]
_entries = TypeAdapter(list[Entry])


class Ledger:
    def __init__(self, path: Path):
        self.path = path

    def entries(self) -> list[FileState | ServiceState | PathState | ObjectState]:
        if not self.path.exists():
            return []
        return _entries.validate_json(self.path.read_bytes())

    def _write(self, entries: list) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = _entries.dump_json(entries, indent=1)
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def record(self, entry: FileState | ServiceState | PathState | ObjectState) -> None:
        """Append an entry, unless the same target is recorded already: the first record holds
        the baseline, and a later fault on the same file must not overwrite it."""
        entries = self.entries()
        if any(_same_target(entry, existing) for existing in entries):
            return
        entries.append(entry)
        self._write(entries)

    def drop_last(self) -> None:
        entries = self.entries()
        if entries:
            self._write(entries[:-1])

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self.entries())


def _same_target(a: Any, b: Any) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind in ("file", "path"):
        return (a.node, a.path) == (b.node, b.path)
    if a.kind == "service":
        return (a.node, a.service) == (b.node, b.service)
    return (a.api_version, a.object_kind, a.namespace, a.name) == (
        b.api_version,
        b.object_kind,
        b.namespace,
        b.name,
    )


def dump(entries: list) -> str:
    return json.dumps(json.loads(_entries.dump_json(entries)), indent=2)
