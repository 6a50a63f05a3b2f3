"""What grading gives back: per check, per exercise and per submission results.

A leaf: it imports nothing from dlgrade, so the reports, the gradebook and the exports can
use these types without loading the sandbox or the grading machinery.
"""

from __future__ import annotations

import operator
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")

STATUS_TEXT = {
    "passed": "passed",
    "partial": "partly right",
    "failed": "wrong",
    "not_attempted": "not attempted",
    "missing": "missing",
    "error": "raised an error",
    "syntax": "syntax error",
    "import": "import failed",
    "timeout": "timed out",
    "crash": "crashed",
    "autograd": "used autograd",
}


def _pickled_by_fields(cls: type[T]) -> type[T]:
    """Pickle instances as ``cls(*fields)``: a dataclass with slots is pickled through
    ``__getstate__``/``__setstate__``, which call ``dataclasses.fields`` for every object (an
    A1+A2 student's result has ~110 of them: 1 ms to load, 0.35 ms to dump). Results cross
    from each grading worker and into the class's result log, so this is paid per student."""
    values = operator.attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]
    cls.__reduce__ = lambda self: (cls, values(self))  # type: ignore[method-assign,assignment]
    return cls


@_pickled_by_fields
@dataclass(slots=True)
class CheckResult:
    """One check of one exercise: its share of the points and its first failure."""

    name: str
    score: float
    max_score: float
    passed: int
    total: int
    message: str = ""


@_pickled_by_fields
@dataclass(slots=True)
class ExerciseResult:
    id: str
    title: str
    score: float
    max_score: float
    status: str
    message: str = ""
    hint: str = ""
    checks: list[CheckResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("id")
        data["checks"] = {c.name: {k: v for k, v in asdict(c).items() if k != "name"}
                          for c in self.checks}
        return data


@_pickled_by_fields
@dataclass(slots=True)
class SubmissionResult:
    student: str
    content_hash: str
    exercises: list[ExerciseResult]
    output: str = ""  # what the code printed before any hidden input reached it
    seconds: float = 0.0
    #: What it printed once a child had hidden inputs (they can be printed): instructors only.
    withheld_output: str = ""
    #: What the student should know before the scores: a file written against an older
    #: handout of the course (dlgrade.courses.handouts), say.
    notices: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 4)
