"""How fast the trainee's loop is: start → read → fix → check → next.

    python3 bench/speed.py [--rounds N] [--skip-cold]

Prints, side by side in one run (its own cluster `cka-lab-bench` and state directory; the
user's lab is never touched):
- cold start: `cka-lab start control-plane-failure` (cluster created, task shown, fault
  observable) against a bare `kind create cluster --wait` with the same node image and nodes,
  alternated; the ratio is the figure;
- warm start and reset of one scenario per fault family;
- check latency: in-process (the TUI's path) and as a whole process, p50 and p95, and a whole
  `cka-lab check` while the API server is stuck (wrong etcd endpoint), with its sentence;
- `cka-lab --help` against `python3 -c pass`;
- idle memory of the cluster's node containers.
Figures are printed, never asserted: compare runs side by side."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FAMILIES = [
    ("API object", "rollout-rollback", None),
    ("static pod", "apiserver-down", "unknown-flag"),
    ("node service", "worker-node-failure", "kubelet-stopped"),
    ("node file", "worker-node-failure", "wrong-api-port"),
    ("cluster add-on", "network-failure", "corefile-broken"),
]


def timed(argv: list[str], env: dict[str, str], timeout: float = 1800) -> float:
    started = time.monotonic()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    took = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return took


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def measure(args, config, kind: str, lab: list[str], env: dict[str, str], state: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []

    if not args.skip_cold:
        bare_config = state / "bare.yaml"
        bare_config.write_text(
            "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n"
        )
        bare, ours = [], []
        for _ in range(args.rounds):
            bare.append(timed([kind, "create", "cluster", "--name", "cka-lab-bare", "--image", config.node_image,
                               "--config", str(bare_config), "--kubeconfig", str(state / "bare.kubeconfig"),
                               "--wait", "10m"], env))
            subprocess.run([kind, "delete", "cluster", "--name", "cka-lab-bare", "--kubeconfig",
                            str(state / "bare.kubeconfig")], capture_output=True, timeout=300)
            ours.append(timed([*lab, "start", "control-plane-failure", "--no-tui"], env))
            subprocess.run([*lab, "down"], env=env, capture_output=True, timeout=600)
        for index, (b, o) in enumerate(zip(bare, ours, strict=True), 1):
            rows.append((f"cold start, round {index}", f"{o:6.1f} s vs kind create --wait {b:6.1f} s: {o / b:4.2f}x"))
        # one round's ratio swings with the machine (kind alone took 39 s and 62 s in one run)
        rows.append(("cold start, median of the rounds",
                     f"{statistics.median(ours):6.1f} s vs {statistics.median(bare):6.1f} s: "
                     f"{statistics.median(ours) / statistics.median(bare):4.2f}x"))

    timed([*lab, "start", "rollout-rollback", "--no-tui"], env)  # creates (or reuses) the cluster
    timed([*lab, "reset"], env)
    for family, scenario, variant in FAMILIES:
        extra = ["--variant", variant] if variant else []
        start = timed([*lab, "start", scenario, "--no-tui", *extra], env)
        reset = timed([*lab, "reset"], env)
        rows.append((f"warm start / reset: {family}", f"{start:6.1f} s / {reset:6.1f} s  ({scenario} {variant or ''})"))

    timed([*lab, "start", "rollout-rollback", "--no-tui"], env)
    os.environ.update({k: env[k] for k in ("CKA_LAB_HOME", "CKA_LAB_CLUSTER")})
    from lab.session import Lab

    engine = Lab()
    in_process = []
    for _ in range(20):
        started = time.monotonic()
        engine.run_checks()
        in_process.append(time.monotonic() - started)
    whole = []
    for _ in range(7):
        started = time.monotonic()
        subprocess.run([*lab, "check"], env=env, capture_output=True, timeout=120)
        whole.append(time.monotonic() - started)
    rows.append(("check in-process (p50 / p95)", f"{percentile(in_process, .5):6.3f} s / {percentile(in_process, .95):6.3f} s"))
    rows.append(("check whole process (p50 / p95)", f"{percentile(whole, .5):6.3f} s / {percentile(whole, .95):6.3f} s"))
    timed([*lab, "reset"], env)

    timed([*lab, "start", "apiserver-down", "--variant", "wrong-etcd-endpoint", "--no-tui"], env)
    stuck, said = [], ""
    for _ in range(3):
        started = time.monotonic()
        graded = subprocess.run([*lab, "check", "--json"], env=env, capture_output=True, text=True, timeout=120)
        stuck.append(time.monotonic() - started)
        said = next((c["message"] for c in json.loads(graded.stdout)["checks"] if c["status"] == "failing"), "")
    rows.append(("check, API server stuck (median)", f"{statistics.median(stuck):6.3f} s: {said}"))
    timed([*lab, "reset"], env)

    helps = [timed([*lab, "--help"], env) for _ in range(5)]
    passes = [timed([sys.executable, "-c", "pass"], env) for _ in range(5)]
    rows.append(("cka-lab --help vs python3 -c pass (median)",
                 f"{statistics.median(helps):6.3f} s vs {statistics.median(passes):6.3f} s"))

    from bench.cluster import _bytes  # noqa: PLC0415  (same folder)

    nodes = subprocess.run(["docker", "ps", "--filter", "label=io.x-k8s.kind.cluster=cka-lab-bench", "--format",
                            "{{.Names}}"], capture_output=True, text=True, check=True).stdout.split()
    time.sleep(30)
    stats = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", *nodes],
                           capture_output=True, text=True, check=True).stdout.splitlines()
    total = sum(_bytes(line.split(" / ")[0].strip()) for line in stats)
    rows.append(("idle cluster memory", f"{total / 2**20:6.0f} MiB ({len(nodes)} nodes)"))
    subprocess.run([*lab, "down"], env=env, capture_output=True, timeout=600)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, help="alternated cold-start rounds")
    parser.add_argument("--skip-cold", action="store_true", help="only the warm figures")
    args = parser.parse_args()

    from lab import settings
    from lab.cluster.kindbin import ensure_kind

    config = settings.load()
    state = Path(tempfile.mkdtemp(prefix="cka-lab-bench-"))
    env = {**os.environ, "CKA_LAB_HOME": str(state), "CKA_LAB_CLUSTER": "cka-lab-bench"}
    # an installed tool runs from compiled bytecode (pip and pipx compile at install time): a
    # shell that forbids writing it would time the compiler instead of cka-lab
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    timed([sys.executable, "-c", "import lab.cli, lab.session, lab.scenario.loader, tui.app"], env)
    lab = [sys.executable, "-m", "lab"]
    kind = ensure_kind(config.kind_binary)
    try:
        rows = measure(args, config, kind, lab, env, state)
    finally:
        # a failed round must not leave its clusters behind (the next run would reuse them)
        for name in ("cka-lab-bare", "cka-lab-bench"):
            subprocess.run([kind, "delete", "cluster", "--name", name, "--kubeconfig", str(state / f"{name}.kubeconfig")],
                           capture_output=True, timeout=300)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
