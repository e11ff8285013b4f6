"""The training record: every attempt, practice or exam, in SQLite in the state directory.

One row per attempt (scenario, variant, seed, times, hints, reveals, solutions, score), one per
step (time, help used, solved) and one per check (its last outcome and weight). `history`,
`stats`, the browser's "last result" column and the exam's "practise next" read it back.
SQLite because the record is appended to by whichever process ends an attempt (the TUI, `check`
or `reset` in another terminal) and read with ad-hoc questions: per domain, per scenario, trend."""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    scenario TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    domain TEXT NOT NULL DEFAULT '',
    variant TEXT,
    seed INTEGER,
    mode TEXT NOT NULL DEFAULT 'practice',      -- practice | exam | gameday
    exam_id TEXT,                                 -- the exam's (or game day's) id
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    finished INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    steps_done INTEGER NOT NULL,
    seconds REAL NOT NULL,
    hints INTEGER NOT NULL DEFAULT 0,
    reveals INTEGER NOT NULL DEFAULT 0,
    solutions INTEGER NOT NULL DEFAULT 0,
    score REAL,                                   -- points earned (exam tasks)
    points REAL                                   -- points possible (exam tasks)
);
CREATE INDEX IF NOT EXISTS attempts_by_scenario ON attempts (scenario, ended_at);
CREATE TABLE IF NOT EXISTS steps (
    attempt_id INTEGER NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    title TEXT NOT NULL,
    seconds REAL,
    hints INTEGER NOT NULL DEFAULT 0,
    reveals INTEGER NOT NULL DEFAULT 0,
    solution_viewed INTEGER NOT NULL DEFAULT 0,
    solved INTEGER NOT NULL,
    PRIMARY KEY (attempt_id, step)
);
CREATE TABLE IF NOT EXISTS checks (
    attempt_id INTEGER NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    number INTEGER NOT NULL,
    type TEXT NOT NULL,
    weight INTEGER NOT NULL DEFAULT 1,
    passed INTEGER,                               -- NULL: never graded
    message TEXT,
    PRIMARY KEY (attempt_id, step, number)
);
CREATE TABLE IF NOT EXISTS gamedays (         -- since version 2; each incident is also an attempt
    id TEXT PRIMARY KEY,
    seed INTEGER NOT NULL,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    faults INTEGER NOT NULL,
    repaired INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    bad INTEGER NOT NULL,
    budget_burned REAL NOT NULL,                  -- share of the error budget spent (1.0: all of it)
    score INTEGER NOT NULL,
    report TEXT NOT NULL                          -- the end report, Markdown
);
"""


@dataclass
class CheckOutcome:
    number: int
    type: str
    weight: int
    passed: bool | None
    message: str | None = None


@dataclass
class StepOutcome:
    step: int
    title: str
    solved: bool
    seconds: float | None = None
    hints: int = 0
    reveals: int = 0
    solution_viewed: bool = False
    checks: list[CheckOutcome] = field(default_factory=list)


@dataclass
class Attempt:
    """One attempt at a scenario (a practice session, or one task of an exam)."""

    scenario: str
    started_at: float
    ended_at: float
    finished: bool
    steps: int
    steps_done: int
    seconds: float
    title: str = ""
    domain: str = ""
    variant: str | None = None
    seed: int | None = None
    mode: str = "practice"
    exam_id: str | None = None
    hints: int = 0
    reveals: int = 0
    solutions: int = 0
    score: float | None = None
    points: float | None = None
    step_outcomes: list[StepOutcome] = field(default_factory=list)
    id: int | None = None

    @property
    def succeeded(self) -> bool:
        """Solved without viewing a solution (an exam task: every point earned)."""
        if self.mode == "exam" and self.points:
            return bool(self.score is not None and self.score >= self.points)
        return self.finished and not self.solutions

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "step_outcomes"}
        data["succeeded"] = self.succeeded
        data["steps_detail"] = [
            {**{k: v for k, v in s.__dict__.items() if k != "checks"}, "checks": [c.__dict__ for c in s.checks]}
            for s in self.step_outcomes
        ]
        return data


@dataclass
class GameDayRecord:
    """One game day's outcome (its incidents are attempts of mode "gameday" with its id)."""

    id: str
    seed: int
    started_at: float
    ended_at: float
    faults: int
    repaired: int
    requests: int
    bad: int
    budget_burned: float
    score: int
    report: str


@dataclass
class DomainStats:
    domain: str
    attempts: int
    succeeded: int
    median_seconds: float | None
    """Median time of the finished attempts."""
    trend: float | None
    """Success rate of the last five attempts minus that of the five before (None: too few)."""

    @property
    def success_rate(self) -> float:
        return self.succeeded / self.attempts if self.attempts else 0.0


class TrainingRecord:
    """The SQLite file `training.db` in the state directory."""

    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / "training.db"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        fresh = not self.path.exists()
        connection = sqlite3.connect(self.path, timeout=10)
        try:
            if fresh:
                self.path.chmod(0o600)
            connection.execute("PRAGMA foreign_keys = ON")
            if connection.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                connection.executescript(SCHEMA)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            with connection:  # one transaction: an attempt is written whole or not at all
                yield connection
        finally:
            connection.close()

    def add(self, attempt: Attempt) -> int:
        """Append an attempt with its steps and checks; returns its id."""
        columns = [
            "scenario", "title", "domain", "variant", "seed", "mode", "exam_id", "started_at", "ended_at",
            "finished", "steps", "steps_done", "seconds", "hints", "reveals", "solutions", "score", "points",
        ]
        with self._db() as db:
            cursor = db.execute(
                f"INSERT INTO attempts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [getattr(attempt, c) for c in columns],
            )
            attempt_id = int(cursor.lastrowid or 0)
            for step in attempt.step_outcomes:
                db.execute(
                    "INSERT INTO steps VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (attempt_id, step.step, step.title, step.seconds, step.hints, step.reveals,
                     int(step.solution_viewed), int(step.solved)),
                )
                db.executemany(
                    "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(attempt_id, step.step, c.number, c.type, c.weight, None if c.passed is None else int(c.passed),
                      c.message) for c in step.checks],
                )
        attempt.id = attempt_id
        return attempt_id

    def add_gameday(self, game: GameDayRecord) -> None:
        columns = list(GameDayRecord.__dataclass_fields__)
        with self._db() as db:
            db.execute(f"INSERT OR REPLACE INTO gamedays ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                       [getattr(game, c) for c in columns])

    def gamedays(self, limit: int | None = None) -> list[GameDayRecord]:
        """Game days, newest first."""
        if not self.path.exists():
            return []
        query = "SELECT * FROM gamedays ORDER BY ended_at DESC" + (f" LIMIT {int(limit)}" if limit is not None else "")
        with self._db() as db:
            db.row_factory = sqlite3.Row
            return [GameDayRecord(**dict(row)) for row in db.execute(query).fetchall()]

    def attempts(self, *, scenario: str | None = None, limit: int | None = None, with_steps: bool = False) -> list[Attempt]:
        """Attempts, newest first."""
        if not self.path.exists():
            return []
        query = "SELECT * FROM attempts" + (" WHERE scenario = ?" if scenario else "") + " ORDER BY ended_at DESC, id DESC"
        if limit is not None:
            query += f" LIMIT {int(limit)}"
        with self._db() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(query, (scenario,) if scenario else ()).fetchall()
            found = [self._attempt(dict(row)) for row in rows]
            if with_steps:
                for attempt in found:
                    attempt.step_outcomes = self._steps(db, attempt.id)
        return found

    @staticmethod
    def _attempt(row: dict) -> Attempt:
        row["finished"] = bool(row["finished"])
        return Attempt(**row)

    @staticmethod
    def _steps(db: sqlite3.Connection, attempt_id: int | None) -> list[StepOutcome]:
        steps = []
        for row in db.execute("SELECT * FROM steps WHERE attempt_id = ? ORDER BY step", (attempt_id,)).fetchall():
            step = StepOutcome(
                step=row["step"], title=row["title"], solved=bool(row["solved"]), seconds=row["seconds"],
                hints=row["hints"], reveals=row["reveals"], solution_viewed=bool(row["solution_viewed"]),
            )
            for check in db.execute(
                "SELECT * FROM checks WHERE attempt_id = ? AND step = ? ORDER BY number", (attempt_id, row["step"])
            ).fetchall():
                passed = None if check["passed"] is None else bool(check["passed"])
                step.checks.append(CheckOutcome(check["number"], check["type"], check["weight"], passed, check["message"]))
            steps.append(step)
        return steps

    def last_per_scenario(self) -> dict[str, Attempt]:
        """The newest practice attempt of each scenario (the browser's "last result" column)."""
        last: dict[str, Attempt] = {}
        for attempt in self.attempts():
            if attempt.mode == "practice":
                last.setdefault(attempt.scenario, attempt)
        return last

    def last_met(self) -> dict[tuple[str, str | None], float]:
        """When each (scenario, variant) was last played, in either mode (for a retake that
        prefers what the candidate has not met recently)."""
        met: dict[tuple[str, str | None], float] = {}
        for attempt in self.attempts():
            met.setdefault((attempt.scenario, attempt.variant), attempt.ended_at)
        return met

    def domain_stats(self) -> list[DomainStats]:
        """Per domain: attempts, successes, median time of finished attempts, trend."""
        by_domain: dict[str, list[Attempt]] = {}
        for attempt in reversed(self.attempts()):  # oldest first
            by_domain.setdefault(attempt.domain or "(unknown)", []).append(attempt)
        stats = []
        for domain, attempts in sorted(by_domain.items()):
            finished = [a.seconds for a in attempts if a.finished]
            trend = None
            if len(attempts) >= 10:
                recent, before = attempts[-5:], attempts[-10:-5]
                trend = (sum(a.succeeded for a in recent) - sum(a.succeeded for a in before)) / 5
            stats.append(DomainStats(
                domain, len(attempts), sum(a.succeeded for a in attempts),
                statistics.median(finished) if finished else None, trend,
            ))
        return stats

    def weakest(self, limit: int = 3) -> list[tuple[str, float, int]]:
        """The scenarios (competencies) the candidate does worst at: (scenario, success rate,
        attempts), lowest rate first; more help used breaks ties."""
        per: dict[str, list[Attempt]] = {}
        for attempt in self.attempts():
            per.setdefault(attempt.scenario, []).append(attempt)
        ranked = sorted(
            per.items(),
            key=lambda item: (
                sum(a.succeeded for a in item[1]) / len(item[1]),
                -sum(a.hints + a.reveals + a.solutions for a in item[1]) / len(item[1]),
                item[0],
            ),
        )
        return [(name, sum(a.succeeded for a in tries) / len(tries), len(tries)) for name, tries in ranked[:limit]]

    def import_results_file(self, results_json: Path) -> int:
        """Bring the per-scenario last results of earlier versions (results.json) into the
        record once; the file is renamed so it is not imported twice."""
        try:
            raw = json.loads(results_json.read_text())
        except (OSError, ValueError):
            return 0
        count = 0
        for scenario, entry in raw.items() if isinstance(raw, dict) else []:
            try:
                ended = float(entry["ended_at"])
                self.add(Attempt(
                    scenario=scenario, started_at=ended - float(entry["seconds"]), ended_at=ended,
                    finished=bool(entry["finished"]), steps=int(entry["steps"]), steps_done=int(entry["steps_done"]),
                    seconds=float(entry["seconds"]), hints=int(entry["hints"]), solutions=int(entry["solutions"]),
                ))
                count += 1
            except (KeyError, TypeError, ValueError):
                continue
        results_json.rename(results_json.with_name(results_json.name + ".imported"))
        return count
