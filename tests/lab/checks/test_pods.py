"""Grading of the traffic checks from a command's exit code and output (the exec itself is
proven on a real cluster by the catalog's selftests and tests/e2e)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lab.checks import pods


@pytest.fixture
def exec_result(monkeypatch: pytest.MonkeyPatch):
    """Make the pod exec return (code, output) and record the argv it was asked to run."""
    calls: list[list[str]] = []

    def answer(code: int | None, output: str) -> list[list[str]]:
        running = SimpleNamespace(metadata=SimpleNamespace(name="client"), status=SimpleNamespace(phase="Running"))
        monkeypatch.setattr(pods, "_running_pod", lambda *a: running)
        monkeypatch.setattr(pods, "exec_in", lambda ctx, ns, pod, container, argv, timeout: calls.append(argv) or (code, output))
        return calls

    return answer


def test_a_get_passes_on_success_with_the_expected_body(exec_result) -> None:
    calls = exec_result(0, "hello from api\n")
    assert pods.http_from_pod(None, url="http://api/", contains="hello").passed
    assert calls == [["timeout", "5", "wget", "-q", "-O", "-", "http://api/"]]
    assert not pods.http_from_pod(None, url="http://api/", contains="goodbye").passed


@pytest.mark.parametrize(
    ("code", "output", "ok", "says"),
    [
        (143, "", True, "no answer within 3 s"),  # dropped: timeout killed wget
        (1, "wget: can't connect to remote host (10.96.0.9): Connection refused", True, "no answer"),
        (0, "hello", False, "got an answer"),
        (1, "wget: server returned error: HTTP/1.1 403 Forbidden", False, "got an answer"),
        (1, "wget: bad address 'api.shop.svc.cluster.local'", False, "does not resolve"),
        (None, "", False, "could not be run"),
        (-1, "container not found", False, "could not be run"),
    ],
)
def test_blocked_passes_only_when_a_resolved_request_gets_no_answer(exec_result, code, output, ok, says) -> None:
    exec_result(code, output)
    result = pods.http_from_pod(None, url="http://api.shop.svc.cluster.local/", blocked=True, timeout=3)
    assert result.passed is ok and says in result.message
