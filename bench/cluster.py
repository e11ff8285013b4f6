"""Measure the lab cluster: time to create a 2-node cluster, time until every system pod is
Ready, memory of the running node containers; and the cached `offline prepare` re-run.

    python3 bench/cluster.py            # prints the figures (creates and deletes cka-lab-bench)

Figures are printed, never asserted: compare runs side by side."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lab import settings
from lab.cluster.lab_cluster import LabCluster


def _bytes(text: str) -> float:
    units = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "kB": 1000, "MB": 1000**2, "GB": 1000**3}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    return float(text)


def main() -> None:
    state = Path(tempfile.mkdtemp(prefix="cka-lab-bench-"))
    config = settings.load().model_copy(update={"cluster_name": "cka-lab-bench"})
    cluster = LabCluster(config, state)
    if cluster.exists():
        subprocess.run(["docker", "rm", "-f", *[n.container for n in cluster.nodes()]], check=False)
    started = time.monotonic()
    cluster.create(workers=1)
    created = time.monotonic() - started
    cluster.wait_until_healthy(timeout=600)
    healthy = time.monotonic() - started
    time.sleep(30)  # let start-up spikes settle
    stats = subprocess.run(
        ["docker", "stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", *[n.container for n in cluster.nodes()]],
        capture_output=True, text=True, check=True,
    ).stdout
    memory = {line.split("\t")[0]: _bytes(line.split("\t")[1].split(" / ")[0].strip()) for line in stats.splitlines()}
    cluster.delete()
    prepare_started = time.monotonic()
    subprocess.run([sys.executable, "-m", "lab", "offline", "prepare"], check=True, capture_output=True,
                   env={**os.environ})
    prepare_cached = time.monotonic() - prepare_started
    print(f"node image:                     {config.node_image}")
    print(f"kind create cluster (2 nodes):  {created:6.1f} s")
    print(f"… until all system pods Ready:  {healthy:6.1f} s")
    for name, used in sorted(memory.items()):
        print(f"memory {name:<24} {used / 2**20:6.0f} MiB")
    print(f"memory total:                   {sum(memory.values()) / 2**20:6.0f} MiB")
    print(f"offline prepare, cached re-run: {prepare_cached:6.1f} s")


if __name__ == "__main__":
    main()
