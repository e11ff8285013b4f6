"""Checks by real traffic: run a command in a client pod (the Kubernetes exec API, as
`kubectl exec` does) and grade its exit code and output."""

from __future__ import annotations

import shlex

from lab.checks.result import CheckResult
from lab.params import CommandTimeout, HttpTimeout
from lab.registry import CHECKS


def _target_pod(ctx, namespace: str, pod: str | None, selector: str | None):
    if pod:
        return ctx.core.read_namespaced_pod(pod, namespace)
    pods = ctx.core.list_namespaced_pod(namespace, label_selector=selector or "").items
    running = [p for p in pods if p.status.phase == "Running" and p.metadata.deletion_timestamp is None]
    return running[0] if running else None


def exec_in(ctx, namespace: str, pod: str, container: str | None, argv: list[str], timeout: int) -> tuple[int | None, str]:
    """(exit code, stdout+stderr) of a command in a pod; exit code None when it did not finish."""
    from kubernetes.stream import stream

    kwargs = {"container": container} if container else {}
    resp = stream(
        ctx.streaming_core().connect_get_namespaced_pod_exec,
        pod,
        namespace,
        command=argv,
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _preload_content=False,
        **kwargs,
    )
    output: list[str] = []
    try:
        resp.run_forever(timeout=timeout)
        output.append(resp.read_stdout() or "")
        output.append(resp.read_stderr() or "")
        if resp.is_open():
            code = None
        else:
            try:
                code = resp.returncode
            except (KeyError, IndexError, TypeError, ValueError):  # exec itself failed: no exit code
                output.append(resp.read_channel(3) or "exec failed")
                code = -1
    finally:
        resp.close()
    return code, "".join(output)


def _grade(what: str, code: int | None, output: str, contains: str | None, lacks: str | None) -> CheckResult:
    tail = " ".join(output.split())[-200:]
    if code is None:
        return CheckResult(False, f"{what} did not finish in time")
    if code != 0:
        return CheckResult(False, f"{what} exited {code}: {tail or '(no output)'}")
    if contains is not None and contains not in output:
        return CheckResult(False, f"{what} did not print {contains!r}: {tail or '(no output)'}")
    if lacks is not None and lacks in output:
        return CheckResult(False, f"{what} printed {lacks!r}: {tail}")
    return CheckResult(True, f"{what} succeeded")


def _running_pod(ctx, namespace: str, pod: str | None, selector: str | None):
    """The pod to run a command in, or the failed CheckResult saying why there is none."""
    target = _target_pod(ctx, namespace, pod, selector)
    if target is None:
        return CheckResult(False, f"no running pod {pod or 'with ' + str(selector)} in namespace {namespace}")
    if target.status.phase != "Running":
        return CheckResult(False, f"pod {target.metadata.name} in {namespace} is {target.status.phase}, cannot exec into it")
    return target


@CHECKS.register("exec-in-pod")
def exec_in_pod(
    ctx,
    command: str | list[str],
    pod: str | None = None,
    selector: str | None = None,
    namespace: str = "default",
    container: str | None = None,
    output_contains: str | None = None,
    output_lacks: str | None = None,
    timeout: CommandTimeout = 20,
) -> CheckResult:
    """Run a command in a running pod (by name, or the first by label selector), like
    `kubectl exec`: passes when it exits 0 (and prints output_contains, and not output_lacks).
    A string command runs with `sh -c`; a list runs as is. Grades real traffic, e.g.
    `nslookup` or `wget` from a client pod (busybox `nslookup` exits 0 on an empty answer:
    look for the expected address in the output)."""
    target = _running_pod(ctx, namespace, pod, selector)
    if isinstance(target, CheckResult):
        return target
    name = target.metadata.name
    argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
    shown = command if isinstance(command, str) else shlex.join(command)
    code, output = exec_in(ctx, namespace, name, container, argv, timeout)
    return _grade(f"`{shown}` in pod {name}", code, output, output_contains, output_lacks)


# busybox wget's words for "the name did not resolve" and "the server answered with an error":
# neither means the connection itself was blocked
_UNRESOLVED = "bad address"
_ANSWERED = "server returned error"


@CHECKS.register("http-from-pod")
def http_from_pod(
    ctx,
    url: str,
    pod: str | None = None,
    selector: str | None = None,
    namespace: str = "default",
    container: str | None = None,
    contains: str | None = None,
    blocked: bool = False,
    timeout: HttpTimeout = 5,
) -> CheckResult:
    """An HTTP GET from inside a pod (its image needs `timeout` and `wget`, as busybox has)
    returns a success status, and the body contains `contains` when given. With `blocked`,
    the opposite: the URL's host resolves but the request gets no answer within `timeout`
    (refused or dropped, as a NetworkPolicy does); an HTTP error status is an answer."""
    target = _running_pod(ctx, namespace, pod, selector)
    if isinstance(target, CheckResult):
        return target
    name = target.metadata.name
    # `timeout` rather than wget's own -T, which some static busybox builds crash on
    argv = ["timeout", str(timeout), "wget", "-q", "-O", "-", url]
    code, output = exec_in(ctx, namespace, name, container, argv, timeout + 10)
    what = f"GET {url} from pod {name}"
    if not blocked:
        return _grade(what, code, output, contains, None)
    tail = " ".join(output.split())[-200:]
    if code == 0 or _ANSWERED in output:
        return CheckResult(False, f"{what} got an answer: {tail or '(empty body)'}")
    if code is None or code == -1:
        return CheckResult(False, f"{what} could not be run: {tail or '(no output)'}")
    if _UNRESOLVED in output:
        return CheckResult(False, f"{what}: the name does not resolve ({tail})")
    return CheckResult(True, f"{what} got no answer within {timeout} s")
