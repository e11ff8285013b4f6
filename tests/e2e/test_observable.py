"""A fault is in front of the trainee when `start` hands over: for every fault family, the first
`cka-lab check` right after `start` returns fails (before, a clean-clone CI run once saw the
first check of control-plane-failure pass because the broken scheduler was not visible yet).
Each family runs twice to catch a race."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.cluster

FAMILIES = [
    ("static-pod", "control-plane-failure", None),
    ("api-server", "apiserver-down", "unknown-flag"),
    ("node-service", "worker-node-failure", "kubelet-stopped"),
    ("node-file", "worker-node-failure", "wrong-api-port"),
    ("workload", "application-failure", None),
    ("add-on", "network-failure", "corefile-broken"),
]
CASES = [(*family, round_) for family in FAMILIES for round_ in (1, 2)]


@pytest.mark.parametrize(("family", "scenario", "variant", "round_"), CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in CASES])
def test_the_first_check_after_start_fails(lab_cluster, cli, family: str, scenario: str, variant: str | None,
                                           round_: int) -> None:
    args = ["start", scenario, "--no-tui"] + (["--variant", variant] if variant else [])
    started = cli(*args, timeout=900)
    try:
        assert started.returncode == 0, started.stderr
        graded = cli("check", "--json", timeout=120)
        assert graded.returncode == 1, graded.stdout + graded.stderr
        report = json.loads(graded.stdout)
        assert report["step"] == 1 and not report["passed"] and not report["advanced"]
        assert any(c["status"] in ("failing", "locked") for c in report["checks"])
    finally:
        reset = cli("reset", timeout=900)
        assert reset.returncode == 0, reset.stderr
