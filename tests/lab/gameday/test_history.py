"""A game day in the training record: each incident that took is an attempt of mode "gameday"
(repaired or not, its time, its repair credit), the game day itself a row with its figures."""

from __future__ import annotations

import sqlite3

import pytest

from lab.gameday.history import attempts, summary
from lab.gameday.slo import Objective
from lab.gameday.state import GameDayState, IncidentState, PlannedFault
from lab.record import SCHEMA, TrainingRecord

T0 = 1_700_000_000.0


def game() -> GameDayState:
    faults = [PlannedFault(number=n, at=60.0 * n, scenario_id=f"s{n}", variant="v" if n == 1 else None, snapshot="/x")
              for n in (1, 2, 3)]
    incidents = [
        IncidentState(number=1, injected=60.0, guards=[False], shown=70.0, repaired=510.0),  # 7.5 min: half credit
        IncidentState(number=2, injected=120.0, guards=[False], shown=130.0),  # never repaired
        IncidentState(number=3, injected=180.0, guards=[False], took=False),  # never showed
    ]
    return GameDayState(gameday_id="cafe", seed=3, minutes=20, faults=faults, load_node="control-plane",
                        started_at=T0, ended_at=T0 + 900, incidents=incidents, requests=1000, bad=5)


def test_each_incident_that_took_is_an_attempt_with_its_repair_time_and_credit() -> None:
    found = attempts(game(), {1: ("Title one", "Troubleshooting", "Step one")})
    assert [(a.scenario, a.variant, a.finished) for a in found] == [("s1", "v", True), ("s2", None, False)]
    first, second = found
    assert first.mode == "gameday" and first.exam_id == "cafe" and first.title == "Title one"
    assert first.seconds == 450 and first.score == 0.5 and first.started_at == T0 + 60 and first.ended_at == T0 + 510
    assert second.seconds == 900 - 120 and second.score == 0.0 and second.ended_at == T0 + 900
    assert first.succeeded and not second.succeeded


def test_the_game_day_row_round_trips_through_the_record(tmp_path) -> None:
    record = TrainingRecord(tmp_path)
    record.add_gameday(summary(game(), Objective()))
    (row,) = record.gamedays()
    assert (row.id, row.faults, row.repaired, row.requests, row.bad) == ("cafe", 3, 1, 1000, 5)
    assert row.budget_burned == pytest.approx(0.5)
    # half the budget left (25) and (0.5 + 0) / 2 of the repairs (12.5): the incident that never showed is not scored
    assert row.score == round(25 + 12.5)
    assert "# Game day cafe" in row.report and "s1 (v)" in row.report


def test_a_record_written_before_game_days_gains_their_table(tmp_path) -> None:
    path = tmp_path / "training.db"
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA.split("CREATE TABLE IF NOT EXISTS gamedays")[0])
        db.execute("PRAGMA user_version = 1")
    record = TrainingRecord(tmp_path)
    record.add_gameday(summary(game(), Objective()))
    assert [g.id for g in record.gamedays()] == ["cafe"]


def test_a_game_day_whose_start_failed_is_no_game_day_in_the_record(tmp_path) -> None:
    from lab.gameday.history import record

    class StubLab:
        record_attempts = True

        class results:  # noqa: N801 - stands in for the engine's ResultsStore
            record = TrainingRecord(tmp_path)

            @staticmethod
            def add(attempt) -> None:
                raise AssertionError("no attempt for a game day that never began")

    state = game().model_copy(update={"started_at": None, "incidents": []})
    record(StubLab(), state, Objective())
    assert StubLab.results.record.gamedays() == []


def test_history_lists_game_days_with_their_figures_as_json_and_as_a_table(tmp_path, monkeypatch) -> None:
    import json

    from typer.testing import CliRunner

    from lab.cli import app

    monkeypatch.setenv("CKA_LAB_HOME", str(tmp_path))
    runner = CliRunner()
    assert "No game days yet" in runner.invoke(app, ["history", "--gamedays"]).output
    TrainingRecord(tmp_path).add_gameday(summary(game(), Objective()))
    result = runner.invoke(app, ["history", "--gamedays", "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)
    assert (row["id"], row["seed"], row["faults"], row["repaired"], row["requests"], row["bad"]) == ("cafe", 3, 3, 1, 1000, 5)
    assert row["score"] == 38 and row["budget_burned"] == pytest.approx(0.5) and "# Game day cafe" in row["report"]
    table = runner.invoke(app, ["history", "--gamedays"], env={"COLUMNS": "200"}).output
    assert "cafe" in table and "1/3" in table and "50 %" in table
