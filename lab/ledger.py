"""The undo ledger: before a fault acts, what it takes to undo it is written to disk.

The ledger is one JSON file replaced atomically (unique temp file, fsync, rename), so a process
killed at any instant leaves either the old or the new ledger, never half of one; every change
happens under the state directory's lock, so two cka-lab processes never lose each other's
entries. Because an entry is written *before* its fault acts, a kill between the two leaves an
entry whose undo is a no-op; every undo restores a recorded state rather than reversing an
action, so replaying is idempotent. The ledger names the cluster it belongs to (name and node
container ids): it is never replayed into another cluster. `cka-lab reset` replays entries
newest first and drops each one, by id, once it is undone and verified."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from lab.atomic import back_up, write_atomic
from lab.errors import StateError
from lab.lock import StateLock, lock_for


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


class ClusterIdentity(BaseModel):
    """Which cluster a ledger or session belongs to: a cluster re-created under the same name has
    new node containers, so it is a different cluster."""

    name: str
    containers: list[str]
    """Node container ids, sorted."""

    def describe(self) -> str:
        return f"'{self.name}' (node containers {', '.join(c[:12] for c in self.containers)})"


class FileState(BaseModel):
    """A file on a node as it was: its bytes (base64) and mode, or absent."""

    kind: Literal["file"] = "file"
    id: str = Field(default_factory=_new_id)
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
    id: str = Field(default_factory=_new_id)
    node: str
    service: str
    active: bool
    enabled: bool


class PathState(BaseModel):
    """A path on a node that did not exist: undo removes whatever is there now, directories
    included (e.g. an etcd data directory restored by the trainee)."""

    kind: Literal["path"] = "path"
    id: str = Field(default_factory=_new_id)
    node: str
    path: str


class ObjectState(BaseModel):
    """A Kubernetes object as it was (None when it did not exist: undo deletes it)."""

    kind: Literal["object"] = "object"
    id: str = Field(default_factory=_new_id)
    api_version: str
    object_kind: str
    namespace: str | None
    name: str
    manifest: dict[str, Any] | None


class MembershipState(BaseModel):
    """A worker that was a member of the cluster: undo joins it again, the way kind joined it
    (its own join configuration), when it is not a member any more."""

    kind: Literal["membership"] = "membership"
    id: str = Field(default_factory=_new_id)
    node: str
    node_manifest: dict[str, Any] | None = None
    """The Node object as it was (pod CIDR, provider id, labels): undo puts it back before the
    kubelet registers, so the node's pod network config comes back byte for byte."""


class ReleaseState(BaseModel):
    """The Kubernetes release every node of the cluster ran: undo re-creates the cluster at that
    release when a task upgraded it (an upgrade cannot be undone in place: kubeadm does not
    downgrade, and etcd's data moved to a newer version)."""

    kind: Literal["release"] = "release"
    id: str = Field(default_factory=_new_id)
    kubernetes: str
    workers: int
    control_planes: int = 1
    """The cluster's shape is re-created with its release (entries written before HA clusters: 1)."""
    changed: bool = False
    """A fault upgraded part of a node itself (upgrade-node): undo re-creates the cluster even
    where no version shows it (a kubeadm package, a drained node)."""


class ContainerState(BaseModel):
    """A node container that was running: undo starts it again (a node switched off)."""

    kind: Literal["container"] = "container"
    id: str = Field(default_factory=_new_id)
    node: str
    container: str


class EtcdMemberState(BaseModel):
    """A stacked etcd member as it was, before its data was taken away: undo gives it its own data
    back while the cluster still knows it, else removes and adds it again with an empty data
    directory (what a repair left half-way needs)."""

    kind: Literal["etcd-member"] = "etcd-member"
    id: str = Field(default_factory=_new_id)
    node: str
    name: str
    """The member's name (the node's), as `etcdctl member add` takes it."""
    member_id: int
    peer_url: str
    aside: str
    """Where the member's data directory was copied to on the host (the lab's state directory)."""


AnyEntry = (
    FileState | ServiceState | PathState | ObjectState | MembershipState | ReleaseState | ContainerState
    | EtcdMemberState
)
Entry = Annotated[AnyEntry, Field(discriminator="kind")]
_entries = TypeAdapter(list[Entry])


class LedgerFile(BaseModel):
    """The ledger file's contents."""

    version: Literal[2] = 2
    cluster: ClusterIdentity | None = None
    """The cluster the entries were recorded on (None only for an empty ledger)."""
    entries: list[Entry] = Field(default_factory=list)


class Ledger:
    """The undo ledger of one state directory. Every read-modify-write holds the state lock."""

    def __init__(self, path: Path, lock: StateLock | None = None, identity: Any = None):
        self.path = path
        self.lock = lock or lock_for(path.parent)
        self._identity = identity
        """Callable returning the current cluster's ClusterIdentity, stamped on the first entry."""

    def read(self) -> LedgerFile:
        """The ledger as stored; an unreadable file is moved aside and reported (StateError)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LedgerFile()
        except OSError as exc:
            raise StateError(f"cannot read the undo ledger {self.path}: {exc.strerror}") from None
        try:
            data = json.loads(raw)
            if isinstance(data, list):  # written by cka-lab 0.1: entries only, no ids
                entries = _entries.validate_python(data)
                for index, entry in enumerate(entries):
                    entry.id = f"legacy-{index}"
                return LedgerFile(entries=entries)
            return LedgerFile.model_validate(data)
        except (ValueError, ValidationError) as exc:
            backup = back_up(self.path)
            first = str(exc).strip().splitlines()[0][:200]
            raise StateError(
                f"the undo ledger {self.path} is unreadable ({first}); it was moved to {backup}. "
                "The changes it recorded cannot be undone automatically",
                title="Undo ledger unreadable",
                hint="`cka-lab down` deletes the lab cluster (and every fault with it); "
                "the next `cka-lab start` creates a clean one",
            ) from None

    def entries(self) -> list[AnyEntry]:
        return list(self.read().entries)

    def identity(self) -> ClusterIdentity | None:
        return self.read().cluster

    def _write(self, ledger: LedgerFile) -> None:
        if not ledger.entries:
            self.path.unlink(missing_ok=True)
            return
        write_atomic(self.path, ledger.model_dump_json(indent=1))

    def record(self, entry: AnyEntry) -> bool:
        """Append an entry, unless the same target is recorded already: the first record holds
        the baseline, and a later fault on the same file must not overwrite it. True if added."""
        with self.lock.hold("record an undo entry"):
            ledger = self.read()
            if any(_same_target(entry, existing) for existing in ledger.entries):
                return False
            if ledger.cluster is None and self._identity is not None:
                ledger.cluster = self._identity()
            ledger.entries.append(entry)
            self._write(ledger)
            return True

    def mark_release_changed(self) -> bool:
        """Flag the recorded release as changed by a fault, in place (its position in the ledger
        decides when it is undone). False when no release is recorded."""
        with self.lock.hold("record an undo entry"):
            ledger = self.read()
            found = [entry for entry in ledger.entries if isinstance(entry, ReleaseState)]
            if not found:
                return False
            found[0].changed = True
            self._write(ledger)
            return True

    def drop(self, entry_id: str) -> None:
        """Remove the entry with this id (the one just undone), wherever it stands."""
        with self.lock.hold("drop an undo entry"):
            ledger = self.read()
            ledger.entries = [e for e in ledger.entries if e.id != entry_id]
            self._write(ledger)

    def clear(self) -> None:
        with self.lock.hold("clear the undo ledger"):
            self.path.unlink(missing_ok=True)

    def forget(self) -> Path | None:
        """Move the ledger aside without undoing it; returns where it went."""
        with self.lock.hold("forget the undo ledger"):
            if not self.path.exists():
                return None
            target = self.path.with_name(f"{self.path.name}.forgotten")
            self.path.replace(target)
            return target

    def __len__(self) -> int:
        return len(self.entries())


def _same_target(a: Any, b: Any) -> bool:
    if a.kind != b.kind:
        return False
    if a.kind in ("file", "path"):
        return (a.node, a.path) == (b.node, b.path)
    if a.kind in ("membership", "container", "etcd-member"):
        return a.node == b.node
    if a.kind == "release":
        return True
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
