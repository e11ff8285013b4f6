"""Running checks: each check is a plain function that looks at the real cluster. The checks of
a step run side by side, each within a time bound, and never raise: a check that fails to run
is a failed check whose message says why in the trainee's words (the raw cause is kept in
`detail` for `--json`)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from pydantic import BaseModel

from lab.registry import CHECKS

CHECK_BOUND = 8.0
"""Seconds one check may take (checks with their own `timeout` parameter get that plus a margin)."""
API_GRACE = 2.5
"""Seconds a step's checks run before the API server's health decides for those still running:
when it does not answer its readiness endpoint, they fail then with that sentence rather than
waiting out their bound (an API server stuck on a wrong etcd endpoint held a whole
`cka-lab check` for 20 s)."""
PROBE_TIMEOUT = 2.0
"""Seconds the readiness probe waits to connect and for its answer (a healthy lab API server
answers in milliseconds; its etcd check gives up after 2 s)."""


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    message: str
    detail: str | None = None
    """The raw cause when the check could not run (exception type and text), for --json."""


def explain_failure(ctx, exc: BaseException) -> CheckResult:
    """A failed CheckResult for an exception raised inside a check."""
    from lab.cluster.api import explain
    from lab.errors import LabError

    raw = f"{type(exc).__name__}: {str(exc).strip()[:2000]}"
    host = ""
    try:
        host = ctx.api.configuration.host
    except Exception:  # the kubeconfig itself may be the problem
        pass
    sentence = explain(exc, host)
    if sentence is None and isinstance(exc, LabError):
        sentence = exc.message
    if sentence is None:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        sentence = f"{type(exc).__name__}: {first}".rstrip(": ")
    return CheckResult(False, sentence, raw)


def run_check(ctx, spec: BaseModel) -> CheckResult:
    """Run one check; an exception inside it is a failed check with a sentence."""
    entry = CHECKS.get(spec.type)  # type: ignore[attr-defined]
    try:
        result = entry.call(ctx, spec)
    except Exception as exc:  # a check must never crash the grader
        return explain_failure(ctx, exc)
    if not isinstance(result, CheckResult):
        return CheckResult(False, f"check {entry.name} returned {result!r}, not a CheckResult")
    return result


def api_health(ctx) -> str | None:
    """None when the lab's API server answers `/readyz` with 200; otherwise a sentence that says
    so (never which component is behind it: `kubectl get --raw '/readyz?verbose'` is the
    trainee's to run)."""
    import urllib3

    from lab.cluster.api import explain

    api = ctx.api
    host = api.configuration.host
    try:
        response = api.rest_client.pool_manager.request(
            "GET", f"{host}/readyz", timeout=urllib3.Timeout(connect=PROBE_TIMEOUT, read=PROBE_TIMEOUT), retries=False
        )
    except Exception as exc:  # the probe must never crash the grader
        return explain(exc, host, read_timeout=PROBE_TIMEOUT) or f"API server at {host} is not answering: {type(exc).__name__}"
    if response.status != 200:
        return f"API server at {host} is not ready: /readyz answered {response.status}"
    return None


def bound_of(spec: BaseModel) -> float:
    own = getattr(spec, "timeout", None)
    return max(CHECK_BOUND, float(own) + 5) if isinstance(own, int | float) else CHECK_BOUND


def run_checks(ctx, specs: list[BaseModel], clock=time.monotonic, probe=api_health) -> list[CheckResult]:
    """Run checks concurrently, each within its bound; results in the order of `specs`. A check
    still running at its bound is reported as not answering (its thread finishes on its own:
    every call it makes has its own timeout). Beside them `probe` asks the API server whether it
    is ready: checks still running after API_GRACE seconds on an API server that is not fail
    then, with the probe's sentence."""
    if not specs:
        return []
    # build the shared clients once, here, rather than racing to build them in every thread
    for name in ("api", "core", "apps"):
        try:
            getattr(ctx, name)
        except Exception:
            break
    results: list[CheckResult | None] = [None] * len(specs)
    done = [threading.Event() for _ in specs]

    def work(index: int, spec: BaseModel) -> None:
        try:
            results[index] = run_check(ctx, spec)
        finally:
            done[index].set()

    def check_api() -> str | None:
        try:
            return probe(ctx)
        except Exception as exc:  # a probe must never crash the grader either
            return explain_failure(ctx, exc).message

    pool = ThreadPoolExecutor(max_workers=min(8, len(specs)) + 1, thread_name_prefix="check")
    try:
        health = pool.submit(check_api)
        for index, spec in enumerate(specs):
            pool.submit(work, index, spec)
        started = clock()
        judged, unhealthy = False, None
        for index, spec in enumerate(specs):
            if not judged:
                done[index].wait(max(0.0, min(bound_of(spec), API_GRACE) - (clock() - started)))
                if not done[index].is_set() and clock() - started >= API_GRACE:
                    judged = True
                    # a slow answer is not a missing one: the probe ends by its own timeouts
                    probe_bound = 2 * PROBE_TIMEOUT
                    try:
                        unhealthy = health.result(timeout=probe_bound)
                    except FutureTimeout:
                        unhealthy = f"the API server is not answering: no reply within {probe_bound:g}s"
            if unhealthy is not None and not done[index].is_set():
                results[index] = CheckResult(False, unhealthy, "check abandoned: the API server is not ready")
                continue
            left = bound_of(spec) - (clock() - started)
            if not done[index].wait(max(0.0, left)):
                results[index] = CheckResult(
                    False,
                    f"no answer within {bound_of(spec):g}s (the cluster may be overloaded or a node paused)",
                    "check timed out",
                )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [r if r is not None else CheckResult(False, "check did not run") for r in results]
