"""The load tool's download path (a machine with internet and no Go), against a local HTTP server
that serves a release laid out as vegeta's: the checksum file, the archive, its executable."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab import versions
from lab.errors import LabError
from lab.gameday import loadtool

VERSION = versions.VEGETA_VERSION.removeprefix("v")


def _archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def release(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A release folder served over HTTP: (base URL, the tag's folder to fill)."""
    root = tmp_path / "www"
    (root / versions.VEGETA_VERSION).mkdir(parents=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root / versions.VEGETA_VERSION
    finally:
        server.shutdown()


def _publish(folder: Path, archive_name: str, archive: bytes, checksums_name: str, digest: str | None = None) -> None:
    (folder / archive_name).write_bytes(archive)
    other = f"vegeta_{VERSION}_darwin_arm64.tar.gz"
    listing = f"{'0' * 64}  {other}\n{digest or hashlib.sha256(archive).hexdigest()}  {archive_name}\n"
    (folder / checksums_name).write_text(listing)


@pytest.mark.parametrize(("archive_name", "checksums_name"), [
    (f"vegeta_{VERSION}_linux_amd64.tar.gz", f"vegeta_{VERSION}_checksums.txt"),
    (f"vegeta-{VERSION}-linux-amd64.tar.gz", "vegeta-checksums.txt"),
], ids=["goreleaser-now", "goreleaser-older"])
def test_the_release_archive_is_verified_and_its_executable_written(
    release, tmp_path: Path, archive_name: str, checksums_name: str
) -> None:
    base, folder = release
    executable = b"\x7fELF the load tool"
    _publish(folder, archive_name, _archive({"README.md": b"docs", "vegeta": executable}), checksums_name)
    target = tmp_path / "bin" / "vegeta"
    loadtool.download_release(target, base=base, machine="x86_64")
    assert target.read_bytes() == executable
    assert target.stat().st_mode & 0o111


def test_a_checksum_mismatch_writes_nothing(release, tmp_path: Path) -> None:
    base, folder = release
    name = f"vegeta_{VERSION}_linux_amd64.tar.gz"
    _publish(folder, name, _archive({"vegeta": b"tampered"}), f"vegeta_{VERSION}_checksums.txt", digest="ab" * 32)
    target = tmp_path / "vegeta"
    with pytest.raises(LabError, match="checksum mismatch") as caught:
        loadtool.download_release(target, base=base, machine="x86_64")
    assert caught.value.title == "Load tool not trusted"
    assert not target.exists() and not target.with_suffix(".part").exists()


def test_a_release_without_this_machines_archive_says_so(release, tmp_path: Path) -> None:
    base, folder = release
    _publish(folder, f"vegeta_{VERSION}_linux_amd64.tar.gz", _archive({"vegeta": b"x"}), f"vegeta_{VERSION}_checksums.txt")
    with pytest.raises(LabError, match="no linux/arm64 archive"):
        loadtool.download_release(tmp_path / "vegeta", base=base, machine="aarch64")
    with pytest.raises(LabError, match="no Linux build for this machine"):
        loadtool.download_release(tmp_path / "vegeta", base=base, machine="riscv64")


def test_no_release_reachable_names_what_it_tried_and_the_way_out(release, tmp_path: Path) -> None:
    base, _ = release  # an empty release folder: every checksum file is a 404
    with pytest.raises(LabError, match="could not download vegeta") as caught:
        loadtool.download_release(tmp_path / "vegeta", base=base, machine="x86_64")
    assert "vegeta-checksums.txt" in str(caught.value) and "install Go" in (caught.value.hint or "")


def test_an_archive_without_the_executable_is_refused(release, tmp_path: Path) -> None:
    base, folder = release
    name = f"vegeta_{VERSION}_linux_amd64.tar.gz"
    _publish(folder, name, _archive({"vegeta/README.md": b"no binary"}), f"vegeta_{VERSION}_checksums.txt")
    with pytest.raises(LabError, match="holds no vegeta executable"):
        loadtool.download_release(tmp_path / "vegeta", base=base, machine="x86_64")


def test_without_go_the_tool_is_downloaded_with_a_progress_line(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr("lab.offline.prepare.bin_dir", lambda: tmp_path)
    monkeypatch.setattr(loadtool, "_go_installed", lambda: False)
    fetched: list[Path] = []
    monkeypatch.setattr(loadtool, "download_release", lambda target: (fetched.append(target), target.write_bytes(b"x")))
    lines: list[str] = []
    assert loadtool.vegeta_binary(lines.append) == tmp_path / "vegeta"
    assert fetched == [tmp_path / "vegeta"] and lines == [f"downloading the load tool (vegeta {versions.VEGETA_VERSION}) once"]
