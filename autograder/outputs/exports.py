"""Grades out to a spreadsheet or an LMS: CSV, Canvas's gradebook import CSV, and JSON.

Grades come from a run (its :class:`~dlgrade.results.SubmissionResult` objects, walked
once) or from the SQLite gradebook (:mod:`dlgrade.store.gradebook`), and are first put in
one :class:`Table`:

* ``csv``: one row per student, one column per exercise (its id), then the total (and, with
  deadlines, the raw total and the late penalty before it). Blank: never graded, not 0.
* ``canvas``: Canvas's gradebook import format: ``Student, ID, SIS User ID, SIS Login ID,
  Section``, one column per assignment, and a ``    Points Possible`` row (its label starts
  with four spaces, as in Canvas's own export). Canvas matches students by its ids, so
  ``roster`` (Canvas's own gradebook export) fills them in; without it the dlgrade student
  name goes in ``Student`` and ``SIS Login ID``. Scores are after any late penalty.
* ``json``: everything: per exercise score, max and status; per assignment raw score,
  penalty and final score; the maxima.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlgrade.courses import registry
from dlgrade.outputs import atomic
from dlgrade.policy.deadlines import (
    SOURCE_CSV,
    LateResult,
    SubmissionTime,
    apply_totals,
    for_student,
    submission_time,
)
from dlgrade.results import SubmissionResult
from dlgrade.sandbox.text import clean
from dlgrade.spec.exercise import Assignment

FORMATS = ("csv", "canvas", "json")
CANVAS_ID_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_LABEL = "    Points Possible"

#: ``student -> assignment id -> LateResult`` (see :mod:`dlgrade.policy.deadlines`).
Late = Mapping[str, Mapping[str, LateResult]]


class ExportError(ValueError):
    """A gradebook or roster that cannot be read, or nothing to export."""


@dataclass(frozen=True)
class Column:
    """One exercise: its id, title, points and assignment."""

    id: str
    title: str
    max_score: float
    assignment: str


@dataclass
class Row:
    """One student: score and status per exercise graded (absent: never graded)."""

    student: str
    scores: dict[str, float] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    late: dict[str, LateResult] = field(default_factory=dict)

    def assignment_raw(self, assignment: str, columns: Sequence[Column]) -> float | None:
        got = [self.scores[c.id] for c in columns
               if c.assignment == assignment and c.id in self.scores]
        return round(sum(got), 4) if got else None

    def assignment_final(self, assignment: str, columns: Sequence[Column]) -> float | None:
        if assignment in self.late:
            return self.late[assignment].final
        return self.assignment_raw(assignment, columns)

    @property
    def raw_total(self) -> float:
        return round(sum(self.scores.values()), 4)

    @property
    def penalty(self) -> float:
        return round(sum(late.penalty for late in self.late.values()), 4)

    @property
    def total(self) -> float:
        return round(self.raw_total - self.penalty, 4)


@dataclass
class Table:
    """Grades of a class: exercise columns in course order, students in name order."""

    columns: list[Column]
    rows: list[Row]
    titles: dict[str, str]  # assignment id -> title

    @property
    def assignments(self) -> list[str]:
        return list(dict.fromkeys(c.assignment for c in self.columns))

    def points(self, assignment: str) -> float:
        return sum(c.max_score for c in self.columns if c.assignment == assignment)

    @property
    def max_total(self) -> float:
        return sum(c.max_score for c in self.columns)

    @property
    def has_late(self) -> bool:
        return any(r.late for r in self.rows)


# ---------------------------------------------------------------- sources


def table_from_results(results: Iterable[SubmissionResult], assignments: Sequence[Assignment],
                       late: Late | None = None) -> Table:
    """A table from a grading run (``late``: from :func:`dlgrade.policy.deadlines.apply_class`),
    rows by student name. One walk over ``results`` (a class's may be read back from disk
    one student at a time): the rows, not the results, are sorted."""
    columns = [Column(e.id, e.title, e.points, a.id) for a in assignments for e in a.exercises]
    wanted = {c.id for c in columns}
    rows = []
    for result in results:
        row = Row(result.student, late=dict((late or {}).get(result.student, {})))
        for e in result.exercises:
            if e.id in wanted:
                row.scores[e.id] = e.score
                row.statuses[e.id] = e.status
        rows.append(row)
    rows.sort(key=lambda r: r.student)
    return Table(columns, rows, {a.id: a.title for a in assignments})


def table_from_gradebook(path: Path, assignments: Sequence[str] | None = None) -> Table:
    """A table from a dlgrade SQLite gradebook, opened read-only (``assignments``: ids to
    keep; None: every assignment it holds). Exercises unknown to this course keep the title
    and maximum stored with them."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{path} does not exist")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            grades = db.execute("SELECT student, assignment, exercise, score, max_score, status,"
                                " feedback FROM grades").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise ExportError(f"{path} is not a dlgrade gradebook: {exc}") from None
    if assignments is not None:
        grades = [g for g in grades if g[1] in assignments]
    if not grades:
        which = f" for {', '.join(assignments)}" if assignments else ""
        raise ExportError(f"{path} holds no grades{which}")
    known = registry.exercises()
    stored: dict[str, Column] = {}
    for _, assignment, exercise, _, max_score, _, feedback in grades:
        if exercise not in stored:
            try:
                title = json.loads(feedback).get("title", exercise)
            except (ValueError, AttributeError):
                title = exercise
            stored[exercise] = Column(exercise, title, max_score, assignment)
    order = {eid: i for i, eid in enumerate(known)}
    columns = sorted(stored.values(), key=lambda c: (order.get(c.id, len(order)), c.id))
    columns = [Column(c.id, known[c.id].title, known[c.id].points, c.assignment)
               if c.id in known and known[c.id].assignment == c.assignment else c
               for c in columns]
    rows: dict[str, Row] = {}
    for student, _, exercise, score, _, status, _ in grades:
        row = rows.setdefault(student, Row(student))
        row.scores[exercise] = score
        row.statuses[exercise] = status
    titles = {}
    for a in dict.fromkeys(c.assignment for c in columns):
        try:
            titles[a] = registry.assignment(a).title
        except registry.UnknownName:
            titles[a] = a
    return Table(columns, [rows[s] for s in sorted(rows)], titles)


# ---------------------------------------------------------------- formats


def _number(value: float | None) -> str:
    """A score as a spreadsheet cell: at most 4 decimals, no trailing zeros; blank: none."""
    return "" if value is None else format(round(value, 4) + 0.0, ".12g")


#: What a spreadsheet reads as a formula at the start of a cell (OWASP's CSV injection list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    """A text cell a spreadsheet shows as text: one that would start a formula (a student
    folder named ``=HYPERLINK(...)``) gets a leading single quote, as OWASP advises, and
    control characters are shown as escapes (a bare carriage return, which the writer does
    not quote, would start a forged row)."""
    value = clean(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(table: Table) -> str:
    """One row per student: each exercise's score, then the total out of ``max_total``.
    With deadlines: per late assignment its submission time, the student's due date (their
    extension's where they have one), days late and penalty, then ``raw_total``,
    ``penalty`` before ``total``."""
    late_ids = [a for a in table.assignments if any(a in r.late for r in table.rows)]
    header = ["student", *(c.id for c in table.columns)]
    for a in late_ids:
        header += [f"{a} submitted_at", f"{a} due", f"{a} days_late", f"{a} penalty"]
    if late_ids:
        header += ["raw_total", "penalty"]
    header += ["total", "max_total"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in table.rows:
        cells = [_text(row.student), *(_number(row.scores.get(c.id)) for c in table.columns)]
        for a in late_ids:
            late = row.late.get(a)
            when = late.submitted.when.isoformat(timespec="seconds") \
                if late is not None and late.submitted is not None else ""
            due = late.due.isoformat(timespec="seconds") \
                if late is not None and late.due is not None else ""
            cells += [when, due, "" if late is None else str(late.days_late),
                      "" if late is None else _number(late.penalty)]
        if late_ids:
            cells += [_number(row.raw_total), _number(row.penalty)]
        cells += [_number(row.total), _number(table.max_total)]
        writer.writerow(cells)
    return out.getvalue()


@dataclass(frozen=True)
class RosterEntry:
    """A student's identity in Canvas (one row of Canvas's gradebook export)."""

    name: str
    canvas_id: str
    sis_user_id: str
    sis_login_id: str
    section: str

    @property
    def cells(self) -> list[str]:
        return [self.name, self.canvas_id, self.sis_user_id, self.sis_login_id, self.section]


def read_roster(path: Path) -> list[RosterEntry]:
    """Students from Canvas's gradebook export (Grades > Export): its ``Student``, ``ID``,
    ``SIS User ID``, ``SIS Login ID`` and ``Section`` columns; the points row, Canvas's test
    student and rows without an ID are skipped."""
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or "Student" not in reader.fieldnames \
                    or "ID" not in reader.fieldnames:
                raise ExportError(f"{path} is not a Canvas gradebook export (it needs the "
                                  "columns Student and ID)")
            entries = []
            for row in reader:
                name = (row.get("Student") or "").strip()
                canvas_id = (row.get("ID") or "").strip()
                if not canvas_id or name.lower() in ("points possible", "student, test"):
                    continue
                entries.append(RosterEntry(name, canvas_id, (row.get("SIS User ID") or "").strip(),
                                           (row.get("SIS Login ID") or "").strip(),
                                           (row.get("Section") or "").strip()))
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ExportError(f"{path} is not a readable CSV file: {exc}") from None
    return entries


def match_roster(student: str, roster: Sequence[RosterEntry]) -> RosterEntry | None:
    """The roster entry whose SIS Login ID, SIS User ID, Canvas ID or name (case-insensitive,
    in that order) is the dlgrade student name (the folder's name); None if none or several."""
    key = student.strip().lower()
    for attribute in ("sis_login_id", "sis_user_id", "canvas_id", "name"):
        found = [e for e in roster if getattr(e, attribute).lower() == key]
        if len(found) == 1:
            return found[0]
    return None


def to_canvas(table: Table, roster: Sequence[RosterEntry] | None = None,
              names: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """Canvas's gradebook import CSV (one column per assignment, after late penalties) and
    the students it could not match in ``roster`` (kept, with their dlgrade name).

    ``names``: assignment id -> the Canvas column, e.g. ``"Homework 1 (12345)"`` to fill an
    existing Canvas assignment (the number is its Canvas id); default ``"a1 Activations"``,
    which Canvas creates as a new assignment on import."""
    names = dict(names or {})
    assignments = table.assignments
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*CANVAS_ID_COLUMNS,
                     *(names.get(a, f"{a} {table.titles.get(a, '')}".strip())
                       for a in assignments)])
    writer.writerow([CANVAS_POINTS_LABEL, "", "", "", "",
                     *(_number(table.points(a)) for a in assignments)])
    unmatched = []
    for row in table.rows:
        entry = match_roster(row.student, roster) if roster else None
        if entry is None:
            if roster:
                unmatched.append(row.student)
            entry = RosterEntry(row.student, "", "", row.student, "")
        writer.writerow([*map(_text, entry.cells),
                         *(_number(row.assignment_final(a, table.columns)) for a in assignments)])
    return out.getvalue(), unmatched


def to_json(table: Table) -> dict[str, Any]:
    """``{"assignments": {id: {title, points, exercises: {id: {title, max_score}}}},
    "students": {name: {exercises: {id: {score, max_score, status}}, assignments: {id: {score,
    max_score[, raw, penalty, final, days_late, submitted_at, source, due, extension]}},
    raw_total, penalty,
    total, max_total}}}``."""
    assignments = {
        a: {"title": table.titles.get(a, a), "points": table.points(a),
            "exercises": {c.id: {"title": c.title, "max_score": c.max_score}
                          for c in table.columns if c.assignment == a}}
        for a in table.assignments}
    students = {}
    for row in table.rows:
        per_assignment = {}
        for a in table.assignments:
            raw = row.assignment_raw(a, table.columns)
            entry: dict[str, Any] = {"score": row.assignment_final(a, table.columns),
                                     "max_score": table.points(a)}
            if a in row.late:
                entry.update(row.late[a].to_json())
            if raw is not None or a in row.late:
                per_assignment[a] = entry
        students[row.student] = {
            "exercises": {c.id: {"score": row.scores[c.id], "max_score": c.max_score,
                                 "status": row.statuses.get(c.id, "")}
                          for c in table.columns if c.id in row.scores},
            "assignments": per_assignment,
            "raw_total": row.raw_total, "penalty": row.penalty, "total": row.total,
            "max_total": table.max_total,
        }
    return {"assignments": assignments, "students": students}


def render(table: Table, fmt: str, *, roster: Sequence[RosterEntry] | None = None,
           names: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """The table in ``fmt`` (csv, canvas or json), and warnings for the user."""
    if fmt == "csv":
        return to_csv(table), []
    if fmt == "canvas":
        text, unmatched = to_canvas(table, roster, names)
        warnings = []
        if unmatched:
            warnings.append(f"not in the roster (kept under their dlgrade name; Canvas will "
                            f"not match them): {', '.join(unmatched)}")
        elif not roster:
            warnings.append("no --roster: students are named by their dlgrade name in Student "
                            "and SIS Login ID; Canvas matches students by its own ids, so "
                            "pass Canvas's gradebook export as --roster")
        return text, warnings
    if fmt == "json":
        return json.dumps(to_json(table), indent=2) + "\n", []
    raise ExportError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")


def export_results(results: Iterable[SubmissionResult], assignments: Sequence[Assignment],
                   path: Path, fmt: str, *, late: Late | None = None,
                   roster: Path | None = None, names: Mapping[str, str] | None = None
                   ) -> list[str]:
    """Write a grading run's scores to ``path`` in ``fmt``; return warnings to show.

    For ``dlgrade grade --csv OUT`` / ``--canvas OUT``; ``late`` comes from
    :func:`dlgrade.policy.deadlines.apply_class`."""
    table = table_from_results(results, assignments, late)
    text, warnings = render(table, fmt, roster=read_roster(roster) if roster else None,
                            names=names)
    atomic.write_text(path, text)
    return warnings


def write_scores_json(results: Iterable[SubmissionResult], path: Path) -> None:
    """``dlgrade grade --json``: ``{student: {exercise id: ExerciseResult.to_json()}}``,
    exactly as ``json.dumps(..., indent=2)`` would write it, written one student at a time
    (atomically: the old file stays until the new one is whole)."""
    with atomic.writing(path) as f:
        first = True
        for r in results:
            one = json.dumps({r.student: {e.id: e.to_json() for e in r.exercises}}, indent=2)
            f.write((("{\n" if first else ",\n") + one[2:-2]).encode())  # one[2:-2]: its item
            first = False
        f.write(b"{}" if first else b"\n}")


# ---------------------------------------------------------------- late penalties


def late_from_gradebook(table: Table, deadlines: Mapping[str, Any],
                        times: Mapping[tuple[str, str | None], Any] | None,
                        submissions: Path | None,
                        extensions: Mapping[tuple[str, str | None], Any] | None = None) -> None:
    """Fill each row's late results from the submission times (folders, then the CSV), for
    ``dlgrade export --due``: the gradebook holds no submission times. ``extensions``:
    students' own due dates (:func:`dlgrade.policy.deadlines.read_extensions`)."""
    from dlgrade.load.submission import discover

    folders = {s.student: s for s in discover(submissions)} if submissions else {}
    for row in table.rows:
        totals = {}
        when: dict[str, SubmissionTime | None] = {}
        for a in table.assignments:
            raw = row.assignment_raw(a, table.columns)
            if raw is None or a not in deadlines:
                continue
            totals[a] = (raw, table.points(a))
            if row.student in folders:
                when[a] = submission_time(folders[row.student], times, a)
            elif times:
                given = for_student(times, row.student, a)
                when[a] = SubmissionTime(given, SOURCE_CSV) if given is not None else None
        row.late = apply_totals(row.student, totals, deadlines, when, extensions)
