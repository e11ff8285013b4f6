"""Finding the pinned kind: settings, PATH, the cache, else installed with checksum verification
(`go install` verifies against the Go checksum database; a release download against the
release's published .sha256sum)."""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import urllib.request
from pathlib import Path

from lab import paths, versions
from lab.errors import LabError
from lab.shell import BUILD_TIMEOUT, run


def _version_of(binary: str) -> str:
    out = run([binary, "version"], check=False)
    return out.stdout.split()[1] if out.returncode == 0 and len(out.stdout.split()) > 1 else ""


def _cached() -> Path:
    return paths.cache_dir() / "bin" / f"kind-{versions.KIND_VERSION}"


def find_kind(configured: str | None) -> str | None:
    if configured:
        if not Path(configured).exists():
            raise LabError(
                f"kind_binary is set to {configured}, which does not exist",
                title="kind not found",
                hint="run `cka-lab offline prepare` again, or remove kind_binary from the settings file",
            )
        return configured
    on_path = shutil.which("kind")
    if on_path and _version_of(on_path) == versions.KIND_VERSION:
        return on_path
    cached = _cached()
    return str(cached) if cached.exists() else None


def ensure_kind(configured: str | None) -> str:
    found = find_kind(configured)
    if found:
        return found
    target = _cached()
    target.parent.mkdir(parents=True, exist_ok=True)
    go = shutil.which("go")
    if go:
        gobin = target.parent / "gobin"
        run([go, "install", f"sigs.k8s.io/kind@{versions.KIND_VERSION}"], env={"GOBIN": str(gobin), "CGO_ENABLED": "0"}, timeout=BUILD_TIMEOUT,
            context="installing kind")
        shutil.move(str(gobin / "kind"), target)
        return str(target)
    _download_release(target)
    return str(target)


def _download_release(target: Path) -> None:
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
    system = platform.system().lower()
    url = f"https://github.com/kubernetes-sigs/kind/releases/download/{versions.KIND_VERSION}/kind-{system}-{arch}"
    try:
        with urllib.request.urlopen(url + ".sha256sum", timeout=30) as response:
            expected = response.read().decode().split()[0]
        with urllib.request.urlopen(url, timeout=120) as response:
            data = response.read()
    except OSError as exc:
        raise LabError(
            f"could not download kind {versions.KIND_VERSION} ({exc})",
            title="kind not found",
            hint="install kind on PATH, or on a machine without internet run `cka-lab offline prepare`",
        ) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise LabError(f"kind download checksum mismatch: expected {expected}, got {actual}", title="kind not trusted")
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.chmod(0o755)
    os.replace(tmp, target)
