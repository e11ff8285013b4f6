"""Scenario files cka-lab did not write: every hostile file of the corpus is rejected by the real
`cka-lab validate` with `file:line:`, exit 1, no traceback, no control characters on the
terminal, within 1.5 s of CPU beyond what validating a small good file costs, and 200 MB.

The committed files in hostile/ start with `# expect: <line>: <text>`. Files that cannot be
committed (a FIFO, a device, a directory named x.yaml, UTF-16, NUL bytes, too large, 5,000 levels
deep) are made by the `generated` fixture."""

from __future__ import annotations

import codecs
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from lab.text import printable

HOSTILE = Path(__file__).parent / "hostile"
COMMITTED = sorted(HOSTILE.glob("*.yaml"))

MAX_EXTRA_SECONDS = 1.5
"""CPU a hostile file may cost beyond a good one: the interpreter's start and imports (about 1 s,
more on a loaded machine) are the same for both, what the loader spends on the file is not."""
MAX_RSS_MB = 200

# Runs the command given as arguments and reports the child's peak memory on its own last line.
# The child also gets an address-space limit, so a loader that does explode fails instead of
# taking the machine's memory.
WRAPPER = """
import resource, subprocess, sys
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
code = subprocess.call(sys.argv[1:], preexec_fn=limit)
sys.stderr.write("\\nWRAPPER-MAXRSS-KB=%d\\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def expectation(path: Path) -> tuple[int, str]:
    first = path.read_bytes().split(b"\n", 1)[0].decode()
    match = re.fullmatch(r"# expect: (\d+): (.+)", first)
    assert match, f"{path.name}: the first line must be '# expect: <line>: <text>'"
    return int(match.group(1)), match.group(2)


def validate(path: Path, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run `python -m lab validate path` in a fresh process: (result, CPU seconds, peak MB).
    CPU time, not wall time: a file that makes the loader work hard shows in it, a machine busy
    with other work does not."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, sys.executable, "-m", "lab", "validate", str(path)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=30,
        env={**os.environ, **(env or {}), "NO_COLOR": "1", "COLUMNS": "200"},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    match = re.search(r"\nWRAPPER-MAXRSS-KB=(\d+)\n$", result.stderr)
    assert match, result.stderr
    result.stderr = result.stderr[: match.start()]
    return result, seconds, int(match.group(1)) / 1024


_BASELINE: list[float] = []


def baseline_seconds() -> float:
    """CPU of validating a small good scenario in a fresh process (the cheaper of two runs)."""
    if not _BASELINE:
        good = Path(__file__).parents[3] / "scenarios" / "pod-deletion.yaml"
        runs = [validate(good) for _ in range(2)]
        assert all(result.returncode == 0 for result, _, _ in runs), runs[0][0].stderr
        _BASELINE.append(min(seconds for _, seconds, _ in runs))
    return _BASELINE[0]


def assert_rejected(path: Path, line: int, text: str) -> None:
    result, seconds, peak_mb = validate(path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    shown = printable(str(path), newlines=False)  # a file name's escape sequences are not printed
    assert f"{shown}:{line}:" in result.stderr, f"expected {shown}:{line}: in\n{result.stderr}"
    assert text in result.stderr, f"expected {text!r} in\n{result.stderr}"
    assert not CONTROL.search(output), f"control characters reach the terminal: {output!r}"
    extra = seconds - baseline_seconds()
    assert extra < MAX_EXTRA_SECONDS, f"{path.name}: {seconds:.2f}s of CPU, {extra:.2f}s more than a good file"
    assert peak_mb < MAX_RSS_MB, f"{path.name}: {peak_mb:.0f} MB"


def test_the_corpus_is_large_and_annotated() -> None:
    assert len(COMMITTED) >= 40
    for path in COMMITTED:
        expectation(path)


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_hostile_file_is_rejected(path: Path) -> None:
    assert_rejected(path, *expectation(path))


# --- files made at test time -------------------------------------------------------------------

HEAD = "id: {id}\ntitle: T\nsummary: S\ndomain: Troubleshooting\ndifficulty: easy\n"


def _scenario(name: str) -> str:
    return HEAD.format(id=name) + (
        "steps:\n  - title: one\n    task: do it\n    checks: [{type: node-ready, node: worker}]\n    solution: fix it\n"
    )


GENERATED: dict[str, tuple[int, str]] = {
    "fifo": (1, "not a regular file (a FIFO)"),
    "device-link": (1, "not a regular file (a character device)"),
    "dangling-link": (1, "cannot read: No such file or directory"),
    "too-large": (1, "file too large"),
    "utf16-bom": (1, "the file is UTF-16 encoded; save it as UTF-8"),
    "utf32-bom": (1, "the file is UTF-32 encoded; save it as UTF-8"),
    "utf16-no-bom": (1, "NUL byte in the file"),
    "nul-byte": (4, "NUL byte in the file"),
    "latin1-late": (5, "not UTF-8: byte 0xfc at column 14"),
    "empty": (1, "expected a mapping"),
    "deep-list": (1, "nested deeper than 64 levels"),
    "deep-map": (1, "nested deeper than 64 levels"),
    "deep-block": (65, "nested deeper than 64 levels"),
    "wide-flow": (2, "too many values: more than 10000"),
    "bom-duplicate-key": (3, "duplicate key 'title' (first at line 2)"),
    "big-comments": (1, "expected a mapping"),
    "escape-\x1b[2J-name": (1, "must match the file name"),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")

    def put(name: str, data: bytes) -> None:
        (folder / f"{name}.yaml").write_bytes(data)

    os.mkfifo(folder / "fifo.yaml")
    (folder / "device-link.yaml").symlink_to("/dev/zero")
    (folder / "dangling-link.yaml").symlink_to(folder / "nowhere.yaml")
    put("too-large", b"# padding\n" * 30_000)
    put("utf16-bom", _scenario("utf16-bom").encode("utf-16"))
    put("utf32-bom", _scenario("utf32-bom").encode("utf-32"))
    put("utf16-no-bom", _scenario("utf16-no-bom").encode("utf-16-le"))
    put("nul-byte", _scenario("nul-byte").replace("domain:", "domain:\x00", 1).encode())
    put("latin1-late", _scenario("latin1-late").replace("difficulty: easy", "difficulty: m\xfc\xdfig").encode("latin-1"))
    put("empty", b"")
    put("deep-list", b"[" * 5000 + b"]" * 5000 + b"\n")
    put("deep-map", b"{a: " * 5000 + b"b" + b"}" * 5000 + b"\n")
    put("deep-block", "".join(" " * i + "a:\n" for i in range(300)).encode() + b" " * 300 + b"b\n")
    put("wide-flow", b"id: wide-flow\nsetup: [" + b"a, " * 70_000 + b"]\n")
    put("bom-duplicate-key", codecs.BOM_UTF8 + _scenario("bom-duplicate-key").replace("summary: S", "title: again").encode())
    put("big-comments", b"# " + b"c" * 77 + b"\n" * 1 + (b"# " + b"c" * 77 + b"\n") * 3000 + b"- a list\n")
    put("escape-\x1b[2J-name", _scenario("other").encode())
    return folder


def test_generated_files_fit_the_limits_they_test(generated: Path) -> None:
    from lab.scenario import safe_yaml

    assert (generated / "too-large.yaml").stat().st_size > safe_yaml.MAX_BYTES
    for name in ("big-comments", "wide-flow"):
        assert (generated / f"{name}.yaml").stat().st_size < safe_yaml.MAX_BYTES


@pytest.mark.parametrize("name", list(GENERATED), ids=[n.replace("\x1b", "ESC") for n in GENERATED])
def test_generated_hostile_file_is_rejected(generated: Path, name: str) -> None:
    assert_rejected(generated / f"{name}.yaml", *GENERATED[name])


def test_validate_reports_every_file_of_a_folder(generated: Path, tmp_path: Path) -> None:
    """A folder with odd entries: each one reported (the good one as ok), exit 1, no hang."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.yaml").write_text(_scenario("good"))
    (folder / "broken.yaml").write_text("id: broken\ntitle: [\n")
    (folder / "subdir.yaml").mkdir()
    os.mkfifo(folder / "pipe.yaml")
    (folder / "zero.yaml").symlink_to("/dev/zero")
    (folder / "notes.txt").write_text("not a scenario")
    result, seconds, _ = validate(folder)
    assert result.returncode == 1
    assert f"ok {folder / 'good.yaml'}" in result.stdout
    for name, problem in [
        ("broken", "invalid YAML"),
        ("subdir", "not a regular file (a directory)"),
        ("pipe", "not a regular file (a FIFO)"),
        ("zero", "not a regular file (a character device)"),
    ]:
        assert f"{folder / name}.yaml:" in result.stderr and problem in result.stderr, result.stderr
    assert "notes.txt" not in result.stdout + result.stderr
    assert "4 of 5 scenario files invalid" in result.stderr
    assert "Traceback" not in result.stderr
    assert seconds < 5


def test_a_good_file_passes_the_same_command(tmp_path: Path) -> None:
    path = tmp_path / "fine.yaml"
    path.write_text(_scenario("fine"))
    result, _, _ = validate(path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok {path}"
