"""The traffic generator: vegeta runs inside a node container (through the Docker engine, as
`cka-lab ssh` runs commands) against the Service by its cluster DNS name, and streams one JSON
line per request, which the host reads back as Samples while the game day runs.

Every request looks the name up anew at the cluster DNS (the kube-dns Service, as a pod's
resolver would), so that the service is felt down when its name stops resolving, as a real
client of it would feel it.

Inside the node the load runs as a systemd unit with a hard time limit, its results in a file:
killing cka-lab mid-way leaves a load that stops by itself, and the ledger holds the unit (reset
stops it and removes its file) and the tool's folder (reset removes it), like any fault."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from lab.cluster.node import Node, service_state, write_file
from lab.gameday.slo import Sample
from lab.ledger import FileState, PathState, ServiceState
from lab.shell import run

FOLDER = "/opt/cka-lab-gameday"
UNIT = "cka-lab-gameday-load.service"
UNIT_FILE = f"/run/systemd/system/{UNIT}"
"""A runtime unit: gone with the node's next boot even if nothing undid it."""
RESULTS = f"{FOLDER}/results.jsonl"
RATE = 10
"""Requests per second: enough to see a one-pod outage within seconds, little enough for 2 cores."""
REQUEST_TIMEOUT = 2.0
"""Seconds a request may take before it counts as failed (its latency is then this long)."""
GRACE = 30
"""Seconds the unit may outlive the planned load before systemd ends it."""


DNS_PORT = 53


def attack_script(target: str, seconds: int, rate: int = RATE, timeout: float = REQUEST_TIMEOUT,
                  resolver: str | None = None) -> str:
    """The load, as the unit's shell command: a fixed rate of fresh connections (no keep-alive:
    each request is balanced by the Service anew, as a new client's would be) for a bounded
    time, each result encoded as one JSON line as soon as it is in. With a `resolver` (an IP
    address), each request looks its host name up there, never from a cache."""
    vegeta = f"{FOLDER}/vegeta"
    lookup = f"-resolvers={resolver}:{DNS_PORT} -dns-ttl=-1 " if resolver else ""
    return (
        f"echo 'GET {target}' | {vegeta} attack -rate={rate}/1s -duration={seconds}s -timeout={timeout:g}s "
        f"{lookup}-keepalive=false -max-workers=200 -max-body=64 | {vegeta} encode --to json --output {RESULTS}"
    )


def unit_file(target: str, seconds: int, resolver: str | None = None) -> str:
    """The load's systemd unit: it stops by itself GRACE seconds after the load should have."""
    return (
        "[Unit]\nDescription=cka-lab game day traffic generator (ends by itself)\n\n"
        f"[Service]\nType=simple\nRuntimeMaxSec={seconds + GRACE}\n"
        f'ExecStart=/bin/sh -c "{attack_script(target, seconds, resolver=resolver)}"\n'
    )


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def epoch(stamp: str) -> float:
    """Seconds since the epoch of vegeta's RFC 3339 timestamps (nanoseconds, which Python's
    parser does not take)."""
    match = _STAMP.match(stamp)
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {stamp!r}")
    whole, fraction, zone = match.groups()
    offset = "+00:00" if zone == "Z" else zone
    moment = datetime.fromisoformat(whole + offset).astimezone(timezone.utc)
    return moment.timestamp() + (float("0." + fraction) if fraction else 0.0)


def parse_result(line: str, started: float) -> Sample | None:
    """One of vegeta's JSON result lines as a Sample (seconds after `started`), None for a line
    that is not one (a partial line at the end of the file, noise)."""
    try:
        result = json.loads(line)
        at = epoch(result["timestamp"]) - started
        code = int(result["code"])
        latency = int(result["latency"]) / 1e9
    except (ValueError, KeyError, TypeError):
        return None
    ok = 200 <= code < 400 and not result.get("error")
    return Sample(round(at, 3), ok, latency)


class LoadGenerator:
    """The load on one node for `seconds`, and the samples read back so far."""

    def __init__(self, node: Node, ledger, started: Callable[[], float]):
        self.node = node
        self.ledger = ledger
        self._started = started
        """The game day's time zero (seconds since the epoch), read when the first line comes."""
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.unreadable = 0
        self._reader: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        self.target = ""
        self.resolver: str | None = None

    def install(self, binary: Path, target: str, resolver: str | None = None) -> None:
        """Put the tool into the node (its folder recorded first: reset removes it)."""
        node = self.node
        self.ledger.record(PathState(node=node.short_name, path=FOLDER))
        node.run(["mkdir", "-p", FOLDER])
        run(["docker", "cp", str(binary), f"{node.container}:{FOLDER}/vegeta"], context="copying the load tool into the node")
        node.run(["chmod", "0755", f"{FOLDER}/vegeta"])
        self.target = target
        self.resolver = resolver

    def start(self, seconds: int) -> None:
        node = self.node
        # a unit file of its own rather than `systemd-run`: a transient unit vanishes when it
        # stops, and systemd then has no state for it that an undo could verify
        self.ledger.record(FileState(node=node.short_name, path=UNIT_FILE, content_b64=None))
        write_file(node, UNIT_FILE, unit_file(self.target, seconds, self.resolver).encode())
        node.run(["systemctl", "daemon-reload"])
        active, enabled = service_state(node, UNIT)
        self.ledger.record(ServiceState(node=node.short_name, service=UNIT, active=active, enabled=enabled))
        node.run(["rm", "-f", RESULTS])
        node.run(["systemctl", "start", UNIT])
        main_pid = node.run(["systemctl", "show", "-p", "MainPID", "--value", UNIT]).stdout.strip()
        # the reader ends with the load (or at the unit's own limit): never a process left behind
        argv = ["docker", "exec", node.container, "timeout", str(seconds + GRACE + 10),
                "tail", "-n", "+1", "-F", f"--pid={main_pid or 1}", "--sleep-interval=0.5", RESULTS]
        self._reader = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._thread = threading.Thread(target=self._read, name="gameday-traffic", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._reader is not None and self._reader.stdout is not None
        for line in self._reader.stdout:
            sample = parse_result(line, self._started())
            with self.lock:
                if sample is None:
                    self.unreadable += 1
                else:
                    self.samples.append(sample)

    def snapshot(self) -> list[Sample]:
        with self.lock:
            return list(self.samples)

    def stop(self, wait: float = 15) -> None:
        """End the load now and read what it wrote until then."""
        self.node.run(["systemctl", "stop", UNIT], check=False)
        if self._reader is not None:
            try:
                self._reader.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                self._reader.kill()
                self._reader.wait(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=wait)

    def running(self) -> bool:
        return self.node.run(["systemctl", "is-active", "--quiet", UNIT], check=False).returncode == 0

