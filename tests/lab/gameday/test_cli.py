"""`cka-lab gameday` refuses what it cannot do before it touches any cluster: a clear message
with a hint, exit 1, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def gameday(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CKA_LAB_HOME": str(tmp_path / "home"), "CKA_LAB_CLUSTER": "gameday-cli-test-none",
           "PYTHONPATH": str(ROOT)}
    (tmp_path / "home").mkdir(exist_ok=True)
    return subprocess.run([sys.executable, "-m", "lab", "gameday", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("args, title, hint", [
    (("--faults", "3", "--minutes", "3"), "Game day too short", "give more --minutes or fewer --faults"),
    (("--faults", "20", "--minutes", "600"), "Not enough compatible faults", "or fewer"),
    (("--report", "/nonexistent-folder/report.md"), "Report not writable", "existing folder"),
])
def test_what_cannot_be_done_is_refused_with_a_hint(tmp_path, args, title, hint) -> None:
    result = gameday(tmp_path, *args)
    assert result.returncode == 1, result.stdout + result.stderr
    assert title in result.stderr and hint in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "home" / "gameday.json").exists()
