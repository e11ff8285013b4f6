"""Parameter types of faults and checks, checked when a scenario file is loaded.

Faults and checks are functions; the registry builds the models of their parameters from the
annotations (lab/registry.py), so a constraint on a parameter is written as its type here, e.g.
`node: NodeName` or `count: Annotated[int, Field(ge=0)]`. A value outside the rules is a load
error with the file and line, before anything touches the cluster."""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

from lab.jsonpath import JsonPathError, parse
from lab.text import control_character

MANIFEST_DIR = "/etc/kubernetes/manifests"
"""Where the kubelet reads static pod manifests (the same folder as lab/actions/manifests.py)."""

FORBIDDEN_NODE_DIRS = ("/proc", "/sys", "/dev")
"""Kernel and device trees: writing there from a privileged node container reaches the host."""


def _text(value: str) -> str:
    bad = control_character(value)
    if bad:
        raise ValueError(f"control character {bad} not allowed")
    return value


Text = Annotated[str, AfterValidator(_text)]
"""Text shown to the trainee: no escape sequences or control characters but newline and tab."""


NodeName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=63)]
"""A lab node as cka-lab names it: control-plane, worker, worker2, …"""


def _node_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"path must be absolute, got {value!r}")
    if "\x00" in value or value != posixpath.normpath(value) or value.startswith("//") or value == "/":
        raise ValueError(f"path must be a normalized absolute path (no '..', '.', '//' or trailing '/'), got {value!r}")
    for forbidden in FORBIDDEN_NODE_DIRS:
        if value == forbidden or value.startswith(forbidden + "/"):
            raise ValueError(f"paths under {forbidden} are not allowed, got {value!r}")
    return value


NodePath = Annotated[
    str,
    AfterValidator(_node_path),
    Field(max_length=4096, json_schema_extra={"pattern": "^/"}),
]
"""An absolute, normalized path on a node, outside /proc, /sys and /dev."""


_MANIFEST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _manifest(value: str) -> str:
    if value.startswith("/"):
        directory, name = posixpath.split(value)
        if directory == MANIFEST_DIR and _MANIFEST_NAME.match(name) and value == posixpath.normpath(value):
            return value
        raise ValueError(f"a manifest path must be a file directly in {MANIFEST_DIR}, got {value!r}")
    if not _MANIFEST_NAME.match(value):
        raise ValueError(f"a manifest is a name such as kube-scheduler or a path in {MANIFEST_DIR}, got {value!r}")
    return value


ManifestName = Annotated[str, AfterValidator(_manifest), Field(max_length=255)]
"""A static pod manifest: `kube-scheduler` (or `kube-scheduler.yaml`), or an absolute path of a
file directly in /etc/kubernetes/manifests."""


ServiceName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9@._-]*$", max_length=255)]
"""A systemd unit name such as kubelet or containerd.service: no globs, no options."""


def _field_path(value: str) -> str:
    try:
        parse(value)
    except JsonPathError as exc:
        raise ValueError(str(exc)) from None
    return value


FieldPath = Annotated[str, AfterValidator(_field_path), Field(max_length=1024)]
"""A field path such as `.spec.replicas` or `.spec.volumes[name=k8s-certs].hostPath.path`."""


ImageRef = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$", max_length=255)]
"""An image reference such as nginx:1.27 or registry.k8s.io/pause:3.10 (no spaces, no options)."""


MODE_HINT = 'write the mode as a quoted octal string, e.g. mode: "0644"'
_MODE = re.compile(r"^0?[0-7]{3}$|^[0-7]{4}$")


def _file_mode(value: Any) -> Any:
    if isinstance(value, str):
        if _MODE.match(value):
            return int(value, 8)
        raise ValueError(f"{MODE_HINT} (3 or 4 octal digits; got {value!r})")
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads 644 as the decimal 644 and 0644 as the octal 420: neither can be trusted
        raise ValueError(f"{MODE_HINT} (a plain number is ambiguous; got {value})")
    raise ValueError(f"{MODE_HINT} (got {value!r})")


FileMode = Annotated[
    int,
    BeforeValidator(_file_mode),
    Field(ge=0, le=0o7777),
    WithJsonSchema({"type": "string", "pattern": "^0?[0-7]{3}$|^[0-7]{4}$", "description": MODE_HINT}),
]
"""A file mode, written in the scenario as a quoted octal string ("0644", "755"); the fault gets
the int."""


Count = Annotated[int, Field(ge=1, le=1000)]
"""How many (pods, endpoints) a check wants: at least one."""

Replicas = Annotated[int, Field(ge=0, le=100)]
"""Replicas of a workload in the lab cluster."""

Seconds = Annotated[int, Field(ge=1, le=3600)]
"""A time in seconds: at least one, at most an hour."""

CommandTimeout = Annotated[int, Field(ge=1, le=600)]
"""Seconds a command in a pod may run."""

HttpTimeout = Annotated[int, Field(ge=1, le=120)]
"""Seconds an HTTP request may take."""

Occurrences = Annotated[int, Field(ge=0, le=10_000)]
"""How many occurrences to replace; 0 means all."""

ContainerIndex = Annotated[int, Field(ge=0, le=63)]
"""The index of a container in a pod spec."""

SearchText = Annotated[str, Field(min_length=1)]
"""Text to find (replacing the empty string would insert everywhere)."""


def _pinned_release(value: str) -> str:
    from lab.versions import RELEASES

    if value not in RELEASES:
        raise ValueError(f"{value!r} is not a pinned Kubernetes release ({', '.join(RELEASES)})")
    return value


PinnedRelease = Annotated[str, AfterValidator(_pinned_release), Field(pattern=r"^v\d+\.\d+\.\d+$")]
"""A Kubernetes release the lab has packages for (lab/versions.py RELEASES), e.g. v1.34.0."""
