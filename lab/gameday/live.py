"""A game day run in a thread, for a front end that draws it live (the TUI): the progress lines
so far, the latest state (a copy, refreshed as the runner measures), whether it ended and how.
Stopping it stops the injector at once; the runner still stops its traffic generator and records
the game day before its thread ends, so whoever started it joins it before the process exits."""

from __future__ import annotations

import threading

from lab.gameday.report import markdown
from lab.gameday.runner import GameDay
from lab.gameday.schedule import Injection, Timing
from lab.gameday.state import GameDayState


class LiveGameDay:
    def __init__(self, runner: GameDay, injections: list[Injection], *, seed: int, timing: Timing):
        self.runner = runner
        self.injections = injections
        self.seed = seed
        self.timing = timing
        self.lines: list[str] = []
        self.state: GameDayState | None = None
        self.error: BaseException | None = None
        self.stopped_by_user = False
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def objective(self):
        return self.runner.objective

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gameday", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.state = self.runner.run(self.injections, seed=self.seed, timing=self.timing, progress=self.lines.append,
                                         status=self._status, stop=self._stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the front end, which shows it
            self.error = exc
        finally:
            self._done.set()

    def _status(self, state: GameDayState) -> None:
        self.state = self.runner.snapshot(state)

    def stop(self) -> None:
        """No more injections from now on; the runner winds down (traffic generator, record)."""
        if not self.done:
            self.stopped_by_user = True
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def report(self) -> str | None:
        """The end report, once the game day ended."""
        return markdown(self.state, self.objective) if self.done and self.state is not None else None
