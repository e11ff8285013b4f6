"""The state lock: exclusive between processes, re-entrant in one thread, released when its
holder dies, and a holder's "busy" message names what it is doing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lab.errors import LabBusy
from lab.lock import lock_for

HOLDER = """
import sys, time
from pathlib import Path
from lab.lock import lock_for
with lock_for(Path(sys.argv[1])).hold("check"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_in_another_process(state_dir: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(state_dir), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_another_process_holding_it_makes_a_busy_error_naming_it(tmp_path: Path) -> None:
    holder = _hold_in_another_process(tmp_path, 30)
    try:
        with pytest.raises(LabBusy) as info:
            with lock_for(tmp_path).hold("reset", wait=0):
                pass
        assert f"`cka-lab check` (pid {holder.pid})" in info.value.message
    finally:
        holder.kill()
        holder.wait()


def test_a_waiting_holder_gets_it_once_the_other_releases(tmp_path: Path) -> None:
    holder = _hold_in_another_process(tmp_path, 1.0)
    started = time.monotonic()
    with lock_for(tmp_path).hold("reset", wait=30):
        assert holder.poll() is not None or time.monotonic() - started >= 0.5
    holder.wait()


def test_a_killed_holder_leaves_no_stuck_lock(tmp_path: Path) -> None:
    holder = _hold_in_another_process(tmp_path, 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with lock_for(tmp_path).hold("reset", wait=5):
        pass


def test_reentrant_in_one_thread_exclusive_across_threads(tmp_path: Path) -> None:
    lock = lock_for(tmp_path)
    other_got_it = threading.Event()

    def other() -> None:
        try:
            with lock.hold("check", wait=0.2):
                other_got_it.set()
        except LabBusy:
            pass

    with lock.hold("start"):
        with lock.hold("reset"):  # start calls reset: must not deadlock
            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
    assert not other_got_it.is_set()
    with lock.hold("check", wait=0):  # released after the outer hold ends
        pass
