"""One lock on the state directory, held by whoever changes the lab: start, check-and-advance,
reset, down, selftest, and every ledger or session write.

Between processes it is an exclusive `flock` on `<state dir>/lock` (released by the kernel when
a holder dies, so a killed process never leaves it stuck); inside one process a re-entrant
thread lock, so `start` can call `reset` and a fault can write the ledger while its caller
holds the lock. The holder writes what it is doing next to the lock, for the "busy" message."""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lab.errors import LabBusy

_registry_guard = threading.Lock()
_locks: dict[str, StateLock] = {}


class StateLock:
    """Use `lock_for(state_dir)`: one instance per state directory and process."""

    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / "lock"
        self.info_path = Path(state_dir) / "lock.holder"
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def holder(self) -> str:
        """What the current holder said it is doing (best effort, for messages)."""
        try:
            info = json.loads(self.info_path.read_text())
            return f"`cka-lab {info['what']}` (pid {info['pid']})"
        except (OSError, ValueError, KeyError, TypeError):
            return "another cka-lab command"

    def held_by_this_thread(self) -> bool:
        return self._depth > 0 and self._thread_lock._is_owned()  # type: ignore[attr-defined]

    @contextmanager
    def hold(self, what: str, *, wait: float | None = 30.0) -> Iterator[None]:
        """Hold the lock for `what`. Waits up to `wait` seconds for another holder (None: for
        as long as it takes, 0: not at all), then raises LabBusy naming the holder."""
        deadline = None if wait is None else time.monotonic() + wait
        if not self._thread_lock.acquire(timeout=-1 if wait is None else max(wait, 0)):
            raise LabBusy(f"{self.holder()} is changing the lab right now", hint="wait for it to finish, then try again")
        try:
            if self._depth == 0:
                self._acquire_file(what, deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release_file()
        finally:
            self._thread_lock.release()

    def _acquire_file(self, what: str, deadline: float | None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    os.close(fd)
                    raise LabBusy(
                        f"{self.holder()} is changing the lab right now",
                        hint="wait for it to finish, then try again",
                    ) from None
                time.sleep(0.1)
        self._fd = fd
        try:
            tmp = self.info_path.with_name(f".lock.holder.{os.getpid()}")
            tmp.write_text(json.dumps({"pid": os.getpid(), "what": what, "since": time.time()}))
            os.replace(tmp, self.info_path)
        except OSError:
            pass  # the holder note is for messages only

    def _release_file(self) -> None:
        if self._fd is not None:
            try:
                self.info_path.unlink(missing_ok=True)
            except OSError:
                pass
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def lock_for(state_dir: Path) -> StateLock:
    key = str(Path(state_dir).resolve())
    with _registry_guard:
        if key not in _locks:
            _locks[key] = StateLock(Path(state_dir))
        return _locks[key]
