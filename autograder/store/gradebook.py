"""The SQLite gradebook: one row per student and exercise, written per submission in one
transaction, so an interrupted run never leaves a half-recorded student.

``submissions`` and ``grades`` hold each student's current grades; ``history`` keeps every
grade ever recorded (when, from which files, under which course fingerprint, and why it was
graded again: first grading, files changed, course or grader changed, forced), so a regrade
never loses what a student had. :func:`changes` compares stored grades with a new run's, for
``dlgrade grade --dry-run``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
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
CREATE TABLE IF NOT EXISTS history (
    student      TEXT NOT NULL,
    assignment   TEXT NOT NULL,
    exercise     TEXT NOT NULL,
    score        REAL NOT NULL,
    max_score    REAL NOT NULL,
    status       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    graded_at    TEXT NOT NULL,
    reason       TEXT NOT NULL  -- why it was graded (again): see Gradebook.reason
);
CREATE INDEX IF NOT EXISTS history_student ON history (student, exercise);
"""

#: Why a student was graded (again), as :meth:`Gradebook.reason` says it.
FIRST, FILES, COURSE, FORCED = ("first grading", "files changed", "course or grader changed",
                                "regraded on request")


@dataclass(frozen=True)
class Change:
    """One exercise of one student whose stored grade a new run would change."""

    student: str
    exercise: str
    old_score: float | None  # None: never graded before
    new_score: float
    max_score: float
    old_status: str | None
    new_status: str

    @property
    def delta(self) -> float:
        return round(self.new_score - (self.old_score or 0.0), 4)


class GradebookError(Exception):
    """The gradebook file cannot be opened or written."""


class Gradebook:
    """Grades of a class, kept in one SQLite file."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """``read_only``: open an existing gradebook without ever writing to it (nor making
        it, nor its folder): ``dlgrade grade --dry-run``."""
        self.path = Path(path)
        self.read_only = read_only
        try:
            if read_only:
                if not self.path.is_file():
                    raise GradebookError(f"no gradebook at {self.path} to compare with")
                self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
                self.db.execute("SELECT 1 FROM submissions LIMIT 1")
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
            self.db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise GradebookError(f"cannot use gradebook {self.path}: {exc}") from None

    def reason(self, student: str, assignment: str, content_hash: str,
               fingerprint: str) -> str:
        """Why this student's ``assignment`` is being graded: never before, other files,
        another course or grader (fingerprint), or neither (forced)."""
        row = self.db.execute(
            "SELECT content_hash, fingerprint FROM submissions WHERE student = ? AND "
            "assignment = ?", (student, assignment)).fetchone()
        if row is None:
            return FIRST
        if row[0] != content_hash:
            return FILES
        return COURSE if row[1] != fingerprint else FORCED

    def record(self, result: SubmissionResult,
               graded: list[tuple[Assignment, str, str]]) -> None:
        """Store one student's result, for each ``(assignment, content hash, fingerprint)``,
        in a single transaction (replacing older rows): a kill never leaves half a student."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if self.read_only:
            raise GradebookError(f"gradebook {self.path} is open read-only")
        try:
            with self.db:
                for assignment, content_hash, fingerprint in graded:
                    ids = {e.id for e in assignment.exercises}
                    rows = [e for e in result.exercises if e.id in ids]
                    why = self.reason(result.student, assignment.id, content_hash, fingerprint)
                    self.db.executemany(
                        "INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [(result.student, assignment.id, e.id, e.score, e.max_score, e.status,
                          content_hash, fingerprint, now, why) for e in rows])
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

    def current(self, student: str) -> dict[str, tuple[float, float, str]]:
        """The student's stored grades: exercise id -> (score, max score, status)."""
        return {exercise: (score, max_score, status) for exercise, score, max_score, status
                in self.db.execute("SELECT exercise, score, max_score, status FROM grades "
                                   "WHERE student = ?", (student,))}

    def history(self, student: str | None = None, exercise: str | None = None
                ) -> list[dict[str, object]]:
        """Every grade recorded, oldest first, for one student and/or exercise or all."""
        where, args = [], []
        for column, value in (("student", student), ("exercise", exercise)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        query = ("SELECT graded_at, student, exercise, score, max_score, status, reason, "
                 "fingerprint, content_hash FROM history"
                 + (" WHERE " + " AND ".join(where) if where else "")
                 + " ORDER BY rowid")
        names = ("graded_at", "student", "exercise", "score", "max_score", "status", "reason",
                 "fingerprint", "content_hash")
        try:
            found = self.db.execute(query, args).fetchall()
        except sqlite3.OperationalError:  # a gradebook from before history was kept
            return []
        return [dict(zip(names, row, strict=True)) for row in found]

    def scores(self, assignment: str) -> dict[str, tuple[float, float]]:
        """Student -> (score, max score) for one assignment."""
        rows = self.db.execute(
            "SELECT student, score, max_score FROM submissions WHERE assignment = ?",
            (assignment,),
        )
        return {student: (score, max_score) for student, score, max_score in rows}

    def close(self) -> None:
        self.db.close()


def changes(stored: dict[str, tuple[float, float, str]], result: SubmissionResult
            ) -> list[Change]:
    """The exercises of ``result`` whose score or status differs from ``stored`` (a
    :meth:`Gradebook.current`), in the result's order."""
    found = []
    for e in result.exercises:
        old = stored.get(e.id)
        if old is not None and round(old[0], 4) == round(e.score, 4) and old[2] == e.status:
            continue
        found.append(Change(result.student, e.id, None if old is None else old[0], e.score,
                            e.max_score, None if old is None else old[2], e.status))
    return found
