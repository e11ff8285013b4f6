"""The SIGKILL sweep: `cka-lab start` killed at a seeded moment for every fault family, then
`cka-lab reset`, the baseline compared byte for byte. CI kills three families
(`tests/e2e/test_resilience.py`); this runs all of them on a cluster of its own.

    python3 bench/kill_sweep.py            # creates and deletes cka-lab-sweep

Prints each family's outcome and time; exits non-zero when one did not get its baseline back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/e2e/test_resilience.py::test_sigkill_during_start_then_reset_restores_baseline"


def main() -> int:
    home = tempfile.mkdtemp(prefix="cka-lab-sweep-")
    env = {**os.environ, "CKA_LAB_KILL_SWEEP": "1", "CKA_LAB_TEST_CLUSTER": "cka-lab-sweep",
           "CKA_LAB_TEST_HOME": home}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "--durations=0", "-p", "no:cacheprovider", TEST],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    outcomes = re.findall(r"^(PASSED|FAILED|ERROR) (\S+)", result.stdout, re.MULTILINE)
    durations = dict(
        (node, float(seconds))
        for seconds, node in re.findall(r"^([\d.]+)s call\s+(\S+)", result.stdout, re.MULTILINE)
    )
    print(f"{'family (killed after its first undo record + delay)':60} {'outcome':8} {'seconds':>8}")
    for outcome, node in outcomes:
        case = node.split("[", 1)[-1].rstrip("]")
        print(f"{case:60} {outcome:8} {durations.get(node, 0.0):8.1f}")
    if result.returncode != 0:
        print(result.stdout[-6000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
