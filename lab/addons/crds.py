"""The Gateway API CRDs (standard channel) at the pinned version: the files of the module's
config/crd/standard/ folder, taken from the Go module cache (`cka-lab offline prepare` puts them
in cka-lab's cache), or else the project's release file `standard-install.yaml`."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from lab import paths, versions
from lab.errors import LabError

MODULE = "sigs.k8s.io/gateway-api"
RELEASE_URL = "https://github.com/kubernetes-sigs/gateway-api/releases/download/{version}/standard-install.yaml"


def cache_file() -> Path:
    return paths.cache_dir() / "addons" / f"gateway-api-{versions.GATEWAY_API_VERSION}-standard.yaml"


def from_module_dir(module_dir: Path) -> str:
    """The standard channel's files of a gateway-api module tree, as one YAML stream."""
    folder = module_dir / "config" / "crd" / "standard"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise LabError(f"no CRD files in {folder}", title="Gateway API CRDs missing")
    return "\n---\n".join(f.read_text() for f in files)


def _module_dir(go: str) -> Path:
    out = subprocess.run(
        [go, "mod", "download", "-json", f"{MODULE}@{versions.GATEWAY_API_VERSION}"],
        capture_output=True, text=True, cwd="/", timeout=300, check=True,
    )
    return Path(json.loads(out.stdout)["Dir"])


def save_from_module_cache(go: str) -> Path:
    """Fill the cache from the Go module cache (downloaded through the module proxy)."""
    target = cache_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(from_module_dir(_module_dir(go)))
    return target


def documents() -> list[dict[str, Any]]:
    """The CRDs (and the standard channel's admission policy) to apply."""
    target = cache_file()
    if not target.exists():
        go = shutil.which("go")
        try:
            if go:
                save_from_module_cache(go)
            else:
                url = RELEASE_URL.format(version=versions.GATEWAY_API_VERSION)
                with urllib.request.urlopen(url, timeout=60) as answer:  # noqa: S310 (a pinned https URL)
                    data = answer.read()
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        except (OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
            raise LabError(
                f"cannot get the Gateway API {versions.GATEWAY_API_VERSION} CRDs: {exc}",
                title="Gateway API CRDs missing",
                hint="run `cka-lab offline prepare` (it takes them from the Go module cache)",
            ) from exc
    return [doc for doc in yaml.safe_load_all(target.read_text()) if doc]
