"""Running a step's checks: side by side, each within its bound, never raising, and failures
in the trainee's words with the raw cause kept."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import urllib3
from pydantic import BaseModel

from lab.checks import result as runner
from lab.checks.result import CheckResult, run_checks
from lab.registry import CHECKS, Entry, params_model


class Ctx:
    """Just enough context for the runner: `api` with a host for the sentences."""

    class _Api:
        class configuration:  # noqa: N801
            host = "https://127.0.0.1:6443"

    api = _Api()
    core = apps = None


@pytest.fixture
def registered(monkeypatch):
    """Register throwaway checks for one test (the registry is global)."""

    def register(name: str, func) -> BaseModel:
        monkeypatch.setitem(CHECKS.entries, name, Entry(name, func, params_model(name, func)))
        return CHECKS.get(name).params(type=name)

    return register


def test_checks_run_side_by_side(registered) -> None:
    barrier = threading.Barrier(3, timeout=5)

    def meet(ctx) -> CheckResult:
        barrier.wait()  # only returns when all three run at the same time
        return CheckResult(True, "met")

    specs = [registered(f"meet-{i}", meet) for i in range(3)]
    assert [r.passed for r in run_checks(Ctx(), specs)] == [True, True, True]


def test_a_check_past_its_bound_fails_with_a_sentence_and_the_others_still_report(registered, monkeypatch) -> None:
    monkeypatch.setattr(runner, "CHECK_BOUND", 0.3)
    release = threading.Event()

    def hang(ctx) -> CheckResult:
        release.wait(10)
        return CheckResult(True, "late")

    def quick(ctx) -> CheckResult:
        return CheckResult(True, "quick")

    try:
        results = run_checks(Ctx(), [registered("hang", hang), registered("quick", quick)])
    finally:
        release.set()
    assert results[0].passed is False and "no answer within 0.3s" in results[0].message
    assert results[1] == CheckResult(True, "quick")


def test_an_unreachable_api_server_becomes_a_sentence_with_the_raw_cause(registered) -> None:
    def refused(ctx) -> Any:
        reason = urllib3.exceptions.SSLError("[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol")
        raise urllib3.exceptions.MaxRetryError(None, "/api/v1/nodes", reason)

    [result] = run_checks(Ctx(), [registered("refused", refused)])
    assert result.message == "API server at https://127.0.0.1:6443 is not answering: TLS handshake closed"
    assert result.detail is not None and "UNEXPECTED_EOF" in result.detail


def test_a_read_timeout_and_a_refused_connection_read_as_sentences(registered) -> None:
    def timed_out(ctx) -> Any:
        raise urllib3.exceptions.ReadTimeoutError(None, "/api", "Read timed out. (read timeout=10)")

    def refused(ctx) -> Any:
        raise urllib3.exceptions.MaxRetryError(None, "/api", urllib3.exceptions.NewConnectionError(None, "Connection refused"))

    results = run_checks(Ctx(), [registered("slow", timed_out), registered("closed", refused)])
    assert results[0].message.endswith("is not answering: no reply within 10s")
    assert results[1].message.endswith("is not answering: connection refused")


def test_a_check_returning_something_else_fails(registered) -> None:
    [result] = run_checks(Ctx(), [registered("wrong", lambda ctx: True)])
    assert result.passed is False and "not a CheckResult" in result.message
