"""cka-lab settings: defaults for a machine with internet, overridden by the config file that
`cka-lab offline prepare` writes, overridden in turn by CKA_LAB_* environment variables."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from lab import paths, versions
from lab.errors import LabError


class Settings(BaseModel):
    """What cka-lab needs to know to build and reach its lab cluster."""

    node_image: str = Field(default=versions.OFFICIAL_NODE_IMAGE)
    """kind node image for every node of the lab cluster (default: kind's official image)."""

    node_images: dict[str, str] = Field(default_factory=dict)
    """Node images of the other pinned releases (Kubernetes version -> image), written by
    `cka-lab offline prepare --release`; a release missing here runs kind's official image."""

    kind_binary: str | None = None
    """Path of the kind binary; unset means PATH, then the cache, then a pinned install."""

    cluster_name: str = Field(default="cka-lab", pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    """Name of the kind cluster cka-lab creates and owns: lower-case letters, digits and dashes
    (it becomes part of container names, Docker filters and kind's command line)."""

    workload_images: list[str] = Field(default_factory=list)
    """Images preloaded into the cluster from the local Docker engine (filled by the offline build)."""


    def node_image_for(self, kubernetes: str | None = None) -> str:
        """The node image of a pinned release (None: the default release, `node_image`)."""
        if kubernetes in (None, versions.KUBERNETES_VERSION):
            return self.node_image
        return self.node_images.get(kubernetes) or versions.release(kubernetes).official_node_image

    def is_offline(self) -> bool:
        """The default release's node image is one the offline build made."""
        return self.node_image.startswith("cka-lab/node:")


_ENV_KEYS = {
    "node_image": "CKA_LAB_NODE_IMAGE",
    "kind_binary": "CKA_LAB_KIND",
    "cluster_name": "CKA_LAB_CLUSTER",
}


def load(config_path: Path | None = None) -> Settings:
    import os

    path = config_path or paths.config_file()
    data: dict = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise LabError(f"{path}: {exc}", title="Invalid settings file") from exc
    for key, env in _ENV_KEYS.items():
        if os.environ.get(env):
            data[key] = os.environ[env]
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])} ({_ENV_KEYS.get(str(e['loc'][0]), 'settings file')}): {e['msg']}"
            for e in exc.errors()
        )
        raise LabError(f"{path}: {problems}", title="Invalid settings") from None


def save(updates: dict, config_path: Path | None = None) -> Path:
    """Merge updates into the settings file (a flat TOML table of strings, string lists and
    string-to-string tables)."""
    path = config_path or paths.config_file()
    data: dict = tomllib.loads(path.read_text()) if path.exists() else {}
    data.update(updates)
    lines = ["# cka-lab settings (written by `cka-lab offline prepare`; edit freely)"]
    for key, value in data.items():
        if isinstance(value, list):
            items = ", ".join(_toml_str(v) for v in value)
            lines.append(f"{key} = [{items}]")
        elif isinstance(value, dict):
            items = ", ".join(f"{_toml_str(str(k))} = {_toml_str(str(v))}" for k, v in value.items())
            lines.append(f"{key} = {{ {items} }}" if items else f"{key} = {{}}")
        else:
            lines.append(f"{key} = {_toml_str(str(value))}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
