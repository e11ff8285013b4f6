"""Grading a trainee's watchdog script by running it through a staged API outage.

The seed's defence against a control-plane fail-over is a loop that retries `kubectl get po`
until the API answers and the expected pods are listed. Reading such a script proves nothing;
running it does: the grader gives the script a kubeconfig whose API server (a `kubectl proxy` on
the node's loopback) it takes away for a bounded time, answering `connection refused` or
`Unauthorized` as the seed's fail-over did, while the pods the script looks for are away too.
The script passes when it kept retrying through all of that and exited 0 once they were back.

The grading runs as one shell script on the node, so a grader cut off half-way (cka-lab killed,
the node exec lost) still ends the same way: its EXIT trap stops the proxies and the script and
scales the Deployment back."""

from __future__ import annotations

import shlex
from typing import Annotated, Literal

from pydantic import Field

from lab.checks.result import CheckResult
from lab.params import NodeName, NodePath, Replicas
from lab.registry import CHECKS

PROXY_PORT = 8001
WORKDIR = "/run/cka-lab-watchdog"
SETTLE_SECONDS = 6
"""After the API is back, the pods stay away this long: a script that only waits for the API to
answer (and not for the pods) exits in that window and fails."""

OutageSeconds = Annotated[int, Field(ge=5, le=60)]
GradingSeconds = Annotated[int, Field(ge=90, le=300)]
"""The whole grading's bound: the outage, the settling time, and what is left for the script to
notice the recovery (at least 9 s)."""

def grader_script(
    path: str,
    namespace: str,
    deployment: str,
    replicas: int,
    outage: int,
    mode: str,
    recovery: int,
    *,
    settle: int = SETTLE_SECONDS,
    port: int = PROXY_PORT,
    workdir: str = WORKDIR,
    admin_conf: str = "/etc/kubernetes/admin.conf",
    ca_file: str = "/etc/kubernetes/pki/ca.crt",
) -> str:
    """The shell script that stages the outage and watches the trainee's script. Its last line
    of output is the verdict's sentence; it exits 0 only when the script passed."""
    q = shlex.quote
    outage_proxy = f"start_proxy {q(workdir)}/revoked.conf" if mode == "unauthorized" else ": nothing listens"
    answer = "Unauthorized" if mode == "unauthorized" else "connection refused"
    admin = f"kubectl --kubeconfig {q(admin_conf)} --request-timeout=10s"
    scale = f"{admin} -n {q(namespace)} scale deployment {q(deployment)}"
    return f"""
set -u
work={q(workdir)}
mkdir -p "$work"
exec 9>"$work/lock"
flock -n 9 || {{ echo "another grading of the watchdog runs on this node; try again in a minute"; exit 2; }}
script={q(path)}
if [ ! -f "$script" ] || [ ! -x "$script" ]; then
  echo "$script is not an executable file (chmod +x it)"; exit 3
fi
proxy=""; watched=""
stop_proxy() {{ if [ -n "$proxy" ]; then kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null; proxy=""; fi; }}
cleanup() {{
  stop_proxy
  # the script runs in a session of its own: end it with everything it started
  if [ -n "$watched" ]; then kill -- -"$watched" 2>/dev/null || kill "$watched" 2>/dev/null; fi
  {scale} --replicas={replicas} >/dev/null 2>&1
}}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
port_open() {{ (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null; }}
start_proxy() {{
  kubectl proxy --address=127.0.0.1 --port={port} --kubeconfig="$1" >"$work/proxy.log" 2>&1 &
  proxy=$!
  for _ in $(seq 50); do port_open && return 0; pause 0.2; done
  echo "the grader's API proxy did not start: $(tail -c 300 "$work/proxy.log")"; exit 1
}}
tail_of_output() {{ tail -c 400 "$work/output" | tr '\\n' ' ' | sed 's/ *$//'; }}
still_running() {{ kill -0 "$watched" 2>/dev/null; }}
# bash runs a trap only once its foreground command ends: sleep in the background, so that a
# TERM during a 20 s pause ends the grading (and puts everything back) at once
pause() {{ sleep "$1" & wait $!; }}

# the kubeconfig the script runs with: the API behind the grader's proxy, no credentials of its own
cat >"$work/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{{name: lab, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
contexts: [{{name: lab, context: {{cluster: lab, user: lab}}}}]
current-context: lab
users: [{{name: lab, user: {{}}}}]
EOF
# credentials the API server does not know: through the proxy every request is Unauthorized
server=$(kubectl --kubeconfig {q(admin_conf)} config view --minify -o jsonpath='{{.clusters[0].cluster.server}}')
cat >"$work/revoked.conf" <<EOF
apiVersion: v1
kind: Config
clusters: [{{name: lab, cluster: {{server: "$server", certificate-authority: {ca_file}}}}}]
contexts: [{{name: lab, context: {{cluster: lab, user: revoked}}}}]
current-context: lab
users: [{{name: revoked, user: {{token: cka-lab-revoked-token}}}}]
EOF
if port_open; then echo "port {port} on this node is taken: stop what listens there"; exit 1; fi

# the outage: the pods away, the API refused (nothing listens) or answering Unauthorized
{scale} --replicas=0 >/dev/null || {{ echo "could not scale {deployment} in {namespace} down for the test"; exit 1; }}
{outage_proxy}
KUBECONFIG="$work/kubeconfig" setsid "$script" >"$work/output" 2>&1 </dev/null &
watched=$!
pause {outage}
if ! still_running; then
  wait "$watched"; code=$?
  echo "the script exited (code $code) while the API was away; its output: $(tail_of_output)"; exit 4
fi
stop_proxy
start_proxy {q(admin_conf)}
pause {settle}
if ! still_running; then
  wait "$watched"; code=$?
  echo "the script exited (code $code) once the API answered, before the pods were listed; its output: $(tail_of_output)"; exit 4
fi
{scale} --replicas={replicas} >/dev/null || {{ echo "could not scale {deployment} in {namespace} back"; exit 1; }}
for _ in $(seq {recovery}); do still_running || break; pause 1; done
if still_running; then
  echo "the script was still running {recovery}s after the API and the pods were back; its output: $(tail_of_output)"; exit 6
fi
wait "$watched"; code=$?
watched=""
if [ "$code" -ne 0 ]; then
  echo "the script exited $code after the recovery (0 expected); its output: $(tail_of_output)"; exit 5
fi
echo "the script retried through {outage}s of {answer} and exited 0 once the pods were listed"
"""


@CHECKS.register("script-survives-api-outage")
def script_survives_api_outage(
    ctx,
    path: NodePath,
    namespace: str,
    deployment: str,
    node: NodeName = "control-plane",
    replicas: Replicas = 2,
    outage: OutageSeconds = 20,
    mode: Literal["refused", "unauthorized"] = "refused",
    timeout: GradingSeconds = 120,
) -> CheckResult:
    """Run the executable script at `path` on the node with a KUBECONFIG whose API the grader
    takes away for `outage` seconds (`refused`: nothing listens; `unauthorized`: every request
    is refused as Unauthorized) while the Deployment's pods are away, then brings both back.
    Passes when the script kept running through the outage and until the pods were listed
    again, then exited 0. Slow and disruptive by design: mark it `on_demand`."""
    recovery = timeout - outage - SETTLE_SECONDS - 15
    script = grader_script(path, namespace, deployment, replicas, outage, mode, recovery)
    result = ctx.node(node).run(["bash", "-c", script], check=False, timeout=timeout)
    lines = [line for line in (result.stdout + result.stderr).strip().splitlines() if line.strip()]
    sentence = lines[-1] if lines else f"the grader exited {result.returncode} without a word"
    return CheckResult(result.returncode == 0, sentence)
