"""Files on nodes: write, replace text in, delete; with daemon-reload and restarts."""

from __future__ import annotations

import base64
import posixpath
import shlex

from lab.cluster.node import Node, delete_file, file_mode, read_file, write_file
from lab.errors import LabError
from lab.ledger import FileState, PathState
from lab.params import FileMode, NodeName, NodePath, SearchText, ServiceName
from lab.registry import FAULTS


def record_file(ctx, node: Node, path: str, restart: tuple[str, ...] = ()) -> bytes | None:
    """Record the file's current bytes and mode in the ledger, then return the bytes."""
    data = read_file(node, path)
    ctx.ledger.record(
        FileState(
            node=node.short_name,
            path=path,
            content_b64=base64.b64encode(data).decode() if data is not None else None,
            mode=file_mode(node, path) if data is not None else None,
            restart=list(restart or []),
        )
    )
    return data


def restart_units(node: Node, units: tuple[str, ...] | list[str]) -> None:
    if units:
        node.run(["systemctl", "daemon-reload"])
        for unit in units:
            node.run(["systemctl", "restart", unit])


@FAULTS.register("write-file")
def write_node_file(
    ctx, node: NodeName, path: NodePath, content: str, mode: FileMode | None = None, restart: tuple[ServiceName, ...] = ()
) -> None:
    """Write a file on the node (created or replaced), then daemon-reload and restart units."""
    target = ctx.node(node)
    record_file(ctx, target, path, restart)
    write_file(target, path, content.encode(), mode)
    restart_units(target, restart)


@FAULTS.register("replace-in-file")
def replace_in_file(
    ctx, node: NodeName, path: NodePath, old: SearchText, new: str, restart: tuple[ServiceName, ...] = ()
) -> None:
    """Replace text in a file on the node (every occurrence), then restart units."""
    target = ctx.node(node)
    data = read_file(target, path)
    if data is None:
        raise LabError(f"{path} does not exist on {node}", title="Fault cannot apply")
    text = data.decode()
    if old not in text:
        raise LabError(f"{path} on {node} does not contain {old!r}", title="Fault cannot apply")
    record_file(ctx, target, path, restart)
    write_file(target, path, text.replace(old, new).encode(), file_mode(target, path))
    restart_units(target, restart)


@FAULTS.register("delete-file")
def delete_node_file(ctx, node: NodeName, path: NodePath, restart: tuple[ServiceName, ...] = ()) -> None:
    """Delete a file on the node, then restart units."""
    target = ctx.node(node)
    record_file(ctx, target, path, restart)
    delete_file(target, path)
    restart_units(target, restart)


@FAULTS.register("record-path")
def record_path(ctx, node: NodeName, path: NodePath, restart: tuple[ServiceName, ...] = ()) -> None:
    """Change nothing, but record a path on the node so reset puts it back: a file's bytes and
    mode (then restart units), or, for a path that does not exist yet, its absence (reset
    removes whatever the trainee creates there, directories included). Use it before a step
    whose task creates or edits files, e.g. an etcd snapshot or a restored data directory."""
    target = ctx.node(node)
    clean = posixpath.normpath(path)
    if not clean.startswith("/") or clean.count("/") < 2 or clean != path.rstrip("/"):
        raise LabError(f"record-path needs an absolute path at least two levels deep, got {path!r}", title="Fault cannot apply")
    kind = target.sh(f"if [ -d {shlex.quote(clean)} ]; then echo dir; elif [ -e {shlex.quote(clean)} ]; then echo file; "
                     "else echo absent; fi").stdout.strip()
    if kind == "dir":
        raise LabError(
            f"{clean} on {node} is an existing directory; record-path records files, or paths that do not exist yet",
            title="Fault cannot apply",
        )
    if kind == "file":
        record_file(ctx, target, clean, restart)
    else:
        ctx.ledger.record(PathState(node=target.short_name, path=clean))


@FAULTS.register("run-on-node", solution_only=True)
def run_on_node(ctx, node: NodeName, command: str) -> None:
    """Run a shell command on the node. Not recorded for undo: for reference solutions (the
    trainee's own commands), never for faults."""
    ctx.node(node).sh(command, timeout=300)
