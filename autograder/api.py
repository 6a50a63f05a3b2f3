"""The Python entry points behind ``dlgrade check`` and ``dlgrade grade`` (one student)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from dlgrade.courses import course as courses
from dlgrade.courses import kit
from dlgrade.grading.grader import SubmissionResult, grade_submission
from dlgrade.load.submission import from_path


def open_course(root: str | os.PathLike[str]) -> courses.Course:
    """The course or the student kit whose ``course.toml`` is in ``root``."""
    root = Path(root).resolve()
    return kit.load(root) if "kit" in courses.read_config(root) else courses.load(root)


def load_course(path: str | os.PathLike[str] | None = None) -> courses.Course:
    """The course (or kit) at ``path``, else ``$DLGRADE_COURSE``, else the nearest
    ``course.toml`` above the current directory; it becomes the course in use."""
    return courses.use(open_course(courses.find(path)))


def _run(path: str | os.PathLike[str], assignments: Sequence[str] | None,
         course: str | os.PathLike[str] | None, hidden: bool) -> SubmissionResult:
    loaded = load_course(course)
    chosen = (loaded.resolve(",".join(assignments)) if assignments
              else list(loaded.assignments.values()))
    return grade_submission(from_path(Path(path)), chosen, hidden=hidden)


def check(path: str | os.PathLike[str], assignments: Sequence[str] | None = None, *,
          course: str | os.PathLike[str] | None = None) -> SubmissionResult:
    """Grade the submission at ``path`` (folder, ``.py`` file or notebook) on the public
    cases of ``assignments`` (ids; default: all of the course's)."""
    return _run(path, assignments, course, hidden=False)


def grade(path: str | os.PathLike[str], assignments: Sequence[str] | None = None, *,
          course: str | os.PathLike[str] | None = None) -> SubmissionResult:
    """Grade the submission at ``path`` on the public and the hidden cases (a course, not
    a kit: hidden cases need the course secret)."""
    return _run(path, assignments, course, hidden=True)
