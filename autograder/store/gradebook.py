"""The SQLite gradebook: one row per student and exercise, written per submission in one
transaction, so an interrupted run never leaves a half-recorded student."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from dlgrade.results import CheckResult, ExerciseResult, SubmissionResult
from dlgrade.spec.exercise import Assignment

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    student      TEXT NOT NULL,
    assignment   TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,  -- of the course and grader that produced the grades
    score        REAL NOT NULL,
    max_score    REAL NOT NULL,
    output       TEXT NOT NULL,
    seconds      REAL NOT NULL,
    graded_at    TEXT NOT NULL,
    PRIMARY KEY (student, assignment)
);
CREATE TABLE IF NOT EXISTS grades (
    student     TEXT NOT NULL,
    assignment  TEXT NOT NULL,
    exercise    TEXT NOT NULL,
    score       REAL NOT NULL,
    max_score   REAL NOT NULL,
    status      TEXT NOT NULL,
    feedback    TEXT NOT NULL,  -- JSON: message, hint, checks
    PRIMARY KEY (student, exercise)
);
"""


class GradebookError(Exception):
    """The gradebook file cannot be opened or written."""


class Gradebook:
    """Grades of a class, kept in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
            self.db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise GradebookError(f"cannot use gradebook {self.path}: {exc}") from None

    def record(self, result: SubmissionResult,
               graded: list[tuple[Assignment, str, str]]) -> None:
        """Store one student's result, for each ``(assignment, content hash, fingerprint)``,
        in a single transaction (replacing older rows): a kill never leaves half a student."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        try:
            with self.db:
                for assignment, content_hash, fingerprint in graded:
                    ids = {e.id for e in assignment.exercises}
                    rows = [e for e in result.exercises if e.id in ids]
                    self.db.execute(
                        "INSERT OR REPLACE INTO submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (result.student, assignment.id, content_hash, fingerprint,
                         round(sum(e.score for e in rows), 4), sum(e.max_score for e in rows),
                         result.output, result.seconds, now),
                    )
                    self.db.executemany(
                        "INSERT OR REPLACE INTO grades VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [(result.student, assignment.id, e.id, e.score, e.max_score, e.status,
                          json.dumps({k: v for k, v in e.to_json().items()
                                      if k in ("message", "hint", "checks", "title")}))
                         for e in rows],
                    )
        except sqlite3.Error as exc:
            raise GradebookError(f"cannot write gradebook {self.path}: {exc}") from None

    def load(self, student: str, assignments: list[Assignment], hashes: dict[str, str],
             fingerprints: dict[str, str]) -> SubmissionResult | None:
        """The stored result of a student, if every assignment was graded from the same
        files (``hashes``) by the same course and grader (``fingerprints``); else None."""
        exercises: list[ExerciseResult] = []
        outputs, seconds = [], 0.0
        for a in assignments:
            row = self.db.execute(
                "SELECT content_hash, fingerprint, output, seconds FROM submissions "
                "WHERE student = ? AND assignment = ?", (student, a.id)).fetchone()
            if row is None or row[0] != hashes[a.id] or row[1] != fingerprints[a.id]:
                return None
            outputs.append(row[2])
            seconds += row[3]
            stored = {r[0]: r[1:] for r in self.db.execute(
                "SELECT exercise, score, max_score, status, feedback FROM grades "
                "WHERE student = ? AND assignment = ?", (student, a.id))}
            for e in a.exercises:
                if e.id not in stored:
                    return None
                score, max_score, status, feedback = stored[e.id]
                data = json.loads(feedback)
                checks = [CheckResult(name, **values) for name, values in data["checks"].items()]
                exercises.append(ExerciseResult(e.id, data["title"], score, max_score, status,
                                                data["message"], data["hint"], checks))
        return SubmissionResult(student, "", exercises, "".join(outputs), round(seconds, 3))

    def scores(self, assignment: str) -> dict[str, tuple[float, float]]:
        """Student -> (score, max score) for one assignment."""
        rows = self.db.execute(
            "SELECT student, score, max_score FROM submissions WHERE assignment = ?",
            (assignment,),
        )
        return {student: (score, max_score) for student, score, max_score in rows}

    def close(self) -> None:
        self.db.close()
