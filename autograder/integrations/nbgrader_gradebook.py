"""Write dlgrade's scores into an nbgrader gradebook, through nbgrader's own Gradebook API.

One grade per exercise: the grade cell whose ``grade_id`` is the exercise's nbgrader id
(``a1-sigmoid``, see :func:`dlgrade.integrations.nbgrader_source.grade_id`) in the
notebook named after the assignment (``a1``, what ``dlgrade nbgrader-source`` makes).
dlgrade's score, partial credit included, becomes the grade's ``auto_score``; a
``manual_score`` the instructor set in formgrader is kept and still wins, as it does in
nbgrader. The assignment, notebook, grade cells, students and submissions are created when
the gradebook lacks them (a course that never ran ``nbgrader generate_assignment``), so the
scores always land.

Use :func:`write_scores` from Python (``dlgrade grade`` can call it with
:func:`scores_of` of its results) or the ``nbgrader-gradebook`` command on the JSON that
``dlgrade grade --json`` wrote. nbgrader must be installed (``pip install nbgrader``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.integrations.nbgrader_source import grade_id
from dlgrade.results import SubmissionResult
from dlgrade.spec.exercise import Assignment


class NbgraderMissing(RuntimeError):
    """nbgrader is not installed."""


@dataclass
class Written:
    """What :func:`write_scores` did."""

    students: list[str] = field(default_factory=list)
    grades: int = 0
    created_cells: list[str] = field(default_factory=list)  # grade cells the book lacked


def error_text(exc: BaseException) -> str:
    """One line for an SQLAlchemy or nbgrader error (theirs run to several, with the SQL)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def scores_of(results: Iterable[SubmissionResult]) -> dict[str, dict[str, float]]:
    """student -> exercise id -> score, from ``dlgrade grade``'s results."""
    return {r.student: {e.id: e.score for e in r.exercises} for r in results}


def database_url(location: str | Path) -> str:
    """An SQLAlchemy URL: a URL is kept, a file path becomes ``sqlite:///ABSOLUTE``."""
    text = str(location)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def write_scores(scores: Mapping[str, Mapping[str, float]], assignment: Assignment,
                 database: str | Path, *, notebook: str | None = None) -> Written:
    """Record ``scores`` (student -> exercise id -> points) for ``assignment`` as the
    auto-scores of nbgrader grades in ``database`` (a path or an SQLAlchemy URL), one
    transaction per student. Exercise ids of other assignments are ignored.

    Raises:
        NbgraderMissing: nbgrader is not installed.
    """
    try:
        from nbgrader.api import Gradebook, MissingEntry
    except ImportError:
        raise NbgraderMissing("writing an nbgrader gradebook needs nbgrader "
                              "(pip install nbgrader)") from None
    notebook = notebook or assignment.id
    done = Written()
    with Gradebook(database_url(database)) as book:
        try:
            book.find_assignment(assignment.id)
        except MissingEntry:
            book.update_or_create_assignment(assignment.id)
        try:
            book.find_notebook(notebook, assignment.id)
        except MissingEntry:
            book.add_notebook(notebook, assignment.id)
        for exercise in assignment.exercises:
            name = grade_id(exercise.id)
            try:
                book.find_grade_cell(name, notebook, assignment.id)
            except MissingEntry:
                done.created_cells.append(name)
            book.update_or_create_grade_cell(name, notebook, assignment.id,
                                             max_score=exercise.points, cell_type="code")
        for student, points in scores.items():
            with warnings.catch_warnings():  # nbgrader's add_submission warns as it works
                warnings.filterwarnings("ignore", message="Object of type .* not in session")
                done.grades += _write_student(book, assignment, notebook, student, points)
            done.students.append(student)
    return done


def _write_student(book: object, assignment: Assignment, notebook: str, student: str,
                   points: Mapping[str, float]) -> int:
    from nbgrader.api import Grade, MissingEntry

    book.update_or_create_student(student)  # type: ignore[attr-defined]
    try:
        book.find_submission(assignment.id, student)  # type: ignore[attr-defined]
    except MissingEntry:
        book.add_submission(assignment.id, student)  # type: ignore[attr-defined]
    submitted = book.find_submission_notebook(  # type: ignore[attr-defined]
        notebook, assignment.id, student)
    session = book.db  # type: ignore[attr-defined]
    written = 0
    try:
        for exercise in assignment.exercises:
            if exercise.id not in points:
                continue
            name = grade_id(exercise.id)
            try:
                grade = book.find_grade(  # type: ignore[attr-defined]
                    name, notebook, assignment.id, student)
            except MissingEntry:  # a grade cell added after this submission was made
                cell = book.find_grade_cell(  # type: ignore[attr-defined]
                    name, notebook, assignment.id)
                grade = Grade(cell_id=cell.id, notebook=submitted)
                session.add(grade)
            grade.auto_score = float(points[exercise.id])
            grade.needs_manual_grade = False
            written += 1
        session.commit()
    except Exception:
        session.rollback()
        raise
    return written
