"""The game day's clock with the cluster left out: faults go in at their planned times and in
order, the game day ends early once every fault was repaired (after a cool-down), at its time
otherwise, and at once when a reset elsewhere removed it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from lab.gameday.runner import GameDay
from lab.gameday.schedule import Timing
from lab.gameday.state import GameDayState, IncidentState, PlannedFault
from lab.lock import lock_for


class StubLab:
    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.lock = lock_for(state_dir)
        self.gameday_file = state_dir / "gameday.json"


def game(*at: float) -> GameDayState:
    faults = [PlannedFault(number=n, at=a, scenario_id=f"s{n}", snapshot="/x") for n, a in enumerate(at, 1)]
    return GameDayState(gameday_id="g", seed=1, minutes=1, faults=faults, load_node="control-plane",
                        started_at=time.time())


@pytest.fixture
def runner(tmp_path, monkeypatch):
    day = GameDay(StubLab(tmp_path))
    day.tick, day.cooldown = 0.05, 0.3
    day.injected: list[tuple[int, float]] = []
    day.repair_after: float | None = 0.2

    def inject(state, fault, progress):
        at = time.time() - state.started_at
        day.injected.append((fault.number, at))
        incident = IncidentState(number=fault.number, injected=at, guards=[False], shown=at)
        if day.repair_after is not None:
            incident.repaired = at + day.repair_after
        state.incidents.append(incident)

    monkeypatch.setattr(day, "_inject", inject)
    monkeypatch.setattr(day, "_measure", lambda state, load: None)
    return day


def run_clock(day: GameDay, state: GameDayState, minutes: float) -> tuple[float, list[str]]:
    day.save(state)
    lines: list[str] = []
    day._clock(state, Timing(minutes=minutes, warmup=0.1, repair_window=0.1, min_gap=0.1), None, lines.append,
               lambda s: None, threading.Event())
    # from the game day's own start, which its plan is relative to (CI once measured from this
    # call, 0.4 s after the state was made on a busy machine, and saw the day end "too early")
    return time.time() - state.started_at, lines


def test_faults_go_in_at_their_times_in_order_and_every_repair_ends_it_early(runner) -> None:
    state = game(0.2, 0.6)
    took, lines = run_clock(runner, state, minutes=1)
    assert [n for n, _ in runner.injected] == [1, 2]
    assert all(planned <= at < planned + 0.3 for (_, at), planned in zip(runner.injected, (0.2, 0.6)))
    # the last repair at about 0.8 s, then the cool-down: far before the planned minute
    assert 1.0 < took < 5
    assert any("ends early" in line for line in lines)
    assert sum("closed: repaired" in line for line in lines) == 2
    assert state.stopped_early is None


def test_an_open_incident_keeps_it_running_until_its_time(runner) -> None:
    runner.repair_after = None
    state = game(0.2)
    took, lines = run_clock(runner, state, minutes=0.04)  # 2.4 s
    assert 2.3 < took < 4
    assert [i.open for i in state.incidents] == [True]
    assert not any("ends early" in line for line in lines)


def test_a_reset_from_another_terminal_stops_it_at_once(runner) -> None:
    runner.repair_after = None
    state = game(0.2)
    threading.Timer(0.5, lambda: runner.file.unlink()).start()
    took, _ = run_clock(runner, state, minutes=1)
    assert took < 2 and state.stopped_early == "reset from another terminal"
    assert not runner.file.exists()  # never written back behind the reset's back
