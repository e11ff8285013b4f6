"""The traffic generator's load tool, vegeta: the binary the offline build made; else, once, built
from its Go module where Go is installed (about half a minute), or downloaded from its pinned
GitHub release and verified against the release's published checksums (a machine with internet
and no Go toolchain)."""

from __future__ import annotations

import hashlib
import io
import platform
import re
import tarfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

from lab import versions
from lab.atomic import write_atomic
from lab.cluster.helmbin import go_arch
from lab.errors import LabError

Progress = Callable[[str], None]

RELEASES = "https://github.com/tsenart/vegeta/releases/download"
CHECKSUM_FILES = ("vegeta_{version}_checksums.txt", "vegeta-checksums.txt")
"""Where a release lists its archives' SHA-256 (goreleaser's current name, then its older one)."""
RELEASED_ARCHES = ("amd64", "arm64")
"""The Linux architectures vegeta's releases build (kind's nodes share the host's)."""
_HINT = "`cka-lab offline prepare` builds it with the other tools"


def vegeta_binary(progress: Progress = lambda _: None) -> Path:
    from lab.offline.prepare import bin_dir

    binary = bin_dir() / "vegeta"
    if binary.exists():
        return binary
    if _go_installed():
        _build(binary, progress)
    else:
        progress(f"downloading the load tool (vegeta {versions.VEGETA_VERSION}) once")
        download_release(binary)
    return binary


def _go_installed() -> bool:
    from lab.offline import gobuild

    try:
        gobuild.go_binary()
    except LabError:
        return False
    return True


def _build(binary: Path, progress: Progress) -> None:
    from lab.offline import gobuild
    from lab.offline.prepare import offline_dir

    progress(f"building the load tool (vegeta {versions.VEGETA_VERSION}) once")
    try:
        gobuild.build(gobuild.vegeta_build(), offline_dir() / "work", binary.parent)
    except LabError as exc:
        exc.hint = (exc.hint + "\n" if exc.hint else "") + _HINT
        raise
    if not binary.exists():
        raise LabError(f"building vegeta left no binary at {binary}", title="Load tool missing", hint=_HINT)


def _fetch(url: str, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _archive_pattern(version: str, arch: str) -> re.Pattern[str]:
    return re.compile(rf"vegeta[_-]{re.escape(version)}[_-]linux[_-]{re.escape(arch)}\.tar\.gz")


def download_release(target: Path, base: str = RELEASES, machine: str | None = None) -> None:
    """The pinned release's Linux archive for this machine, its SHA-256 checked against the
    release's checksum file, its `vegeta` executable written atomically to `target`."""
    tag = versions.VEGETA_VERSION
    version = tag.removeprefix("v")
    machine = machine or platform.machine()
    arch = go_arch(machine)
    if arch not in RELEASED_ARCHES:
        raise LabError(f"vegeta publishes no Linux build for this machine ({machine})", title="Load tool missing", hint=_HINT)
    listing, tried = None, []
    for name in CHECKSUM_FILES:
        url = f"{base}/{tag}/{name.format(version=version)}"
        tried.append(url)
        try:
            listing = _fetch(url, 30).decode()
            break
        except OSError:
            continue
    if listing is None:
        raise LabError(f"could not download vegeta {tag}'s checksums (tried {', '.join(tried)})",
                       title="Load tool missing", hint="install Go (the load tool is then built from its module), or " + _HINT)
    pattern = _archive_pattern(version, arch)
    sums = dict(reversed(line.split()[:2]) for line in listing.splitlines() if len(line.split()) >= 2)
    archive = next((name for name in sums if pattern.fullmatch(name.lstrip("*"))), None)
    if archive is None:
        raise LabError(f"vegeta {tag}'s checksums list no linux/{arch} archive", title="Load tool missing", hint=_HINT)
    try:
        data = _fetch(f"{base}/{tag}/{archive.lstrip('*')}", 120)
    except OSError as exc:
        raise LabError(f"could not download vegeta {tag} ({exc})", title="Load tool missing", hint=_HINT) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != sums[archive].lower():
        raise LabError(f"vegeta download checksum mismatch: expected {sums[archive]}, got {actual}",
                       title="Load tool not trusted")
    write_atomic(target, _executable(data, archive), mode=0o755)


def _executable(archive_bytes: bytes, archive: str) -> bytes:
    """The archive's `vegeta` regular file, read without extracting anything else to disk."""
    with tarfile.open(fileobj=io.BytesIO(archive_bytes), mode="r:gz") as tar:
        member = next((m for m in tar.getmembers() if m.isfile() and Path(m.name).name == "vegeta"), None)
        if member is None:
            raise LabError(f"{archive} holds no vegeta executable", title="Load tool missing", hint=_HINT)
        extracted = tar.extractfile(member)
        assert extracted is not None  # a regular file always has content to read
        return extracted.read()
