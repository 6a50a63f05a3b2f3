"""dlgrade: auto-graded deep-learning exercises, gradient-aware, behind a trust boundary.

The engine only: a course (its specs, reference solutions and secret) is a folder found by
path (:mod:`dlgrade.courses.course`); a student kit is a course's public cases as data
(:mod:`dlgrade.courses.kit`). The public API, loaded on first use so that ``import dlgrade`` stays
cheap (a sandboxed child imports it too):

* grading: :func:`check` (public cases, as ``dlgrade check``) and :func:`grade` (public and
  hidden cases, as ``dlgrade grade``) of one submission, giving a :class:`SubmissionResult`
  of :class:`ExerciseResult`\\ s of :class:`CheckResult`\\ s;
* courses: :func:`load_course`, :class:`Course`;
* authoring a course: :mod:`dlgrade.authoring` (``Exercise``, ``Assignment``, ``Mutant``,
  ``Scenario``, ``Step`` ...).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["CheckResult", "Course", "ExerciseResult", "SubmissionResult", "check", "grade",
           "load_course"]

_LAZY = {
    "CheckResult": "dlgrade.results",
    "ExerciseResult": "dlgrade.results",
    "SubmissionResult": "dlgrade.results",
    "Course": "dlgrade.courses.course",
    "check": "dlgrade.api",
    "grade": "dlgrade.api",
    "load_course": "dlgrade.api",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dlgrade' has no attribute {name!r}")
