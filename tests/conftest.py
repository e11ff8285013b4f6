"""Shared fixtures. The `lab_cluster` fixture gives the tests a real kind cluster (1 control-plane
+ 1 worker) named cka-lab-test, with its own state directory and kubeconfig, never the user's
~/.kube/config and never the user's own lab cluster.

Keep and reuse it between runs with `pytest --keep-cluster` (or CKA_LAB_KEEP_CLUSTER=1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TEST_CLUSTER = os.environ.get("CKA_LAB_TEST_CLUSTER", "cka-lab-test")
"""CKA_LAB_TEST_CLUSTER and CKA_LAB_TEST_HOME give a second test run on the same machine its own
cluster and state directory (CKA_LAB_CLUSTER and CKA_LAB_HOME are the user's own lab's: never
taken over by the tests)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--keep-cluster",
        action="store_true",
        default=os.environ.get("CKA_LAB_KEEP_CLUSTER") == "1",
        help="keep the test kind cluster after the run and reuse it on the next one",
    )


@pytest.fixture(scope="session")
def lab_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment variables that point cka-lab (in-process and in subprocesses) at the test
    cluster and its own state directory."""
    from lab import paths

    if os.environ.get("CKA_LAB_TEST_HOME"):
        home = Path(os.environ["CKA_LAB_TEST_HOME"])
        home.mkdir(parents=True, exist_ok=True)
    elif request.config.getoption("--keep-cluster"):
        home = paths.cache_dir() / "test-state"
        home.mkdir(parents=True, exist_ok=True)
    else:
        home = tmp_path_factory.mktemp("cka-lab-home")
    env = {"CKA_LAB_HOME": str(home), "CKA_LAB_CLUSTER": TEST_CLUSTER}
    os.environ.update(env)
    return env


@pytest.fixture(scope="session")
def lab_cluster(request: pytest.FixtureRequest, lab_env: dict[str, str]):
    """A ready `Lab` bound to the real test cluster (created, or reused with --keep-cluster)."""
    from lab import settings
    from lab.session import Lab

    lab = Lab(settings.load(), Path(lab_env["CKA_LAB_HOME"]))
    keep = request.config.getoption("--keep-cluster")
    if lab.cluster.exists() and not keep:
        # a leftover of an interrupted run: start from a fresh cluster
        subprocess.run(["docker", "rm", "-f", *[n.container for n in lab.cluster.nodes()]], check=False)
    user_kube = _tree_state(Path.home() / ".kube")
    lab.cluster.ensure(workers=1, progress=_progress)
    # creating (or reusing) the cluster must not write to the user's kubeconfig
    assert _tree_state(Path.home() / ".kube") == user_kube
    lab.reset()
    _make_ready(lab)
    _shared_lab.append(lab)
    yield lab
    _shared_lab.clear()
    lab.reset()
    if not keep:
        lab.cluster.delete()


def _progress(line: str) -> None:
    print(line, file=sys.stderr)


def _make_ready(lab) -> None:
    from lab.addons import catalog, install

    lab.cluster.wait_until_healthy(timeout=420)
    # the always-on add-ons only: the scenarios that declare metrics-server (resource-usage,
    # autoscaling in test_catalog) install it on demand, as `start` does for a trainee
    install.ensure(lab.cluster, list(catalog.ALWAYS), progress=_progress)


SOUND_AFTER_FAILURE = 180
"""Seconds a cluster left behind by a failed test gets to be healthy again on its own."""

_failed_on_the_cluster: list[str] = []
_shared_lab: list = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and item.get_closest_marker("cluster") is not None:
        _failed_on_the_cluster.append(item.nodeid)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A failed test may leave the shared cluster broken (a fault not undone, an API server down):
    the next cluster test then gets a re-created cluster instead of failing on that test's wreck,
    so one failure costs one red test, not the rest of the run. The failed test stays red; a
    healthy run never gets here. Runs before any fixture, module-scoped ones included."""
    if item.get_closest_marker("cluster") is None or not _failed_on_the_cluster or not _shared_lab:
        return
    failed = _failed_on_the_cluster[-1]
    _failed_on_the_cluster.clear()
    lab = _shared_lab[0]
    try:
        lab.reset()
        lab.cluster.wait_until_healthy(timeout=SOUND_AFTER_FAILURE)
    except Exception as exc:  # noqa: BLE001  (whatever the wreck raises, the cure is the same)
        print(f"\n{failed} left the cluster unhealthy ({exc}): re-creating it for the next tests",
              file=sys.stderr)
        lab.cluster.delete(_progress)
        lab.cluster.ensure(workers=1, progress=_progress)
        lab.reset(forget=True)
        lab._ctx = None  # its clients knew the old cluster's certificates
        _make_ready(lab)


def _tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    if not folder.exists():
        return {}
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def cli(lab_env: dict[str, str]):
    """Run the real `cka-lab` command (as a new process) against the test cluster."""

    def run(*args: str, timeout: float = 900, check: bool = False) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "lab", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **lab_env},
        )
        if check and result.returncode != 0:
            raise AssertionError(f"cka-lab {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    return run
