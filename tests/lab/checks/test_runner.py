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


@pytest.fixture
def hanging(registered, monkeypatch):
    """A check that hangs until the test ends (and its release), with a short grace before the
    API server's health decides and a long bound after it."""
    monkeypatch.setattr(runner, "API_GRACE", 0.2)
    monkeypatch.setattr(runner, "CHECK_BOUND", 30.0)
    release = threading.Event()

    def hang(ctx) -> CheckResult:
        release.wait(30)
        return CheckResult(True, "late")

    yield registered("hang", hang), release
    release.set()


def test_checks_still_running_on_an_api_server_that_is_not_ready_fail_with_its_sentence(registered, hanging) -> None:
    hang, _ = hanging

    def not_ready(ctx) -> str:
        return "API server at https://127.0.0.1:6443 is not ready: /readyz answered 500"

    results = run_checks(Ctx(), [registered("quick", lambda ctx: CheckResult(True, "quick")), hang], probe=not_ready)
    assert results[0] == CheckResult(True, "quick")
    assert results[1].passed is False
    assert results[1].message == "API server at https://127.0.0.1:6443 is not ready: /readyz answered 500"


def test_on_a_ready_api_server_a_slow_check_keeps_its_own_bound(registered, monkeypatch) -> None:
    monkeypatch.setattr(runner, "API_GRACE", 0.1)
    monkeypatch.setattr(runner, "CHECK_BOUND", 30.0)

    def slow(ctx) -> CheckResult:
        threading.Event().wait(0.4)  # well past the grace, far within the bound
        return CheckResult(True, "slow but fine")

    [result] = run_checks(Ctx(), [registered("slow", slow)], probe=lambda ctx: None)
    assert result == CheckResult(True, "slow but fine")


def test_a_probe_that_hangs_or_raises_counts_as_an_api_server_not_answering(hanging, monkeypatch) -> None:
    hang, release = hanging
    monkeypatch.setattr(runner, "PROBE_TIMEOUT", 0.1)  # connect and read each: 0.2 s in all

    def raises(ctx) -> str:
        raise urllib3.exceptions.MaxRetryError(None, "/readyz", urllib3.exceptions.NewConnectionError(None, "Connection refused"))

    [hung] = run_checks(Ctx(), [hang], probe=lambda ctx: release.wait(30))
    [refused] = run_checks(Ctx(), [hang], probe=raises)
    assert hung.message == "the API server is not answering: no reply within 0.2s"
    assert refused.message == "API server at https://127.0.0.1:6443 is not answering: connection refused"


class _Answer:
    def __init__(self, status: int) -> None:
        self.status = status


def _ctx_answering(answer) -> Any:
    """A context whose API client's connection pool answers `answer` (a status or an exception)."""

    class Pool:
        def __init__(self) -> None:
            self.asked: list[tuple[str, Any]] = []

        def request(self, method: str, url: str, **kwargs: Any) -> _Answer:
            self.asked.append((url, kwargs["timeout"]))
            if isinstance(answer, BaseException):
                raise answer
            return _Answer(answer)

    ctx = Ctx()
    ctx.api = type("Api", (), {"configuration": Ctx._Api.configuration, "rest_client": type("Rest", (), {"pool_manager": Pool()})()})()
    return ctx


def test_the_probe_asks_readyz_with_its_own_short_timeout_and_says_what_it_got() -> None:
    ready = _ctx_answering(200)
    assert runner.api_health(ready) is None
    [(url, timeout)] = ready.api.rest_client.pool_manager.asked
    assert url == "https://127.0.0.1:6443/readyz" and timeout.read_timeout == runner.PROBE_TIMEOUT
    assert runner.api_health(_ctx_answering(500)) == "API server at https://127.0.0.1:6443 is not ready: /readyz answered 500"
    slow = urllib3.exceptions.ReadTimeoutError(None, "/readyz", "Read timed out. (read timeout=2.0)")
    assert runner.api_health(_ctx_answering(slow)) == "API server at https://127.0.0.1:6443 is not answering: no reply within 2s"
