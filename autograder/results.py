"""What grading gives back: per check, per exercise and per submission results.

A leaf: it imports nothing from dlgrade, so the reports, the gradebook and the exports can
use these types without loading the sandbox or the grading machinery.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from typing import Any

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


@dataclass(slots=True)
class CheckResult:
    """One check of one exercise: its share of the points and its first failure."""

    name: str
    score: float
    max_score: float
    passed: int
    total: int
    message: str = ""


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

    def compact(self) -> SubmissionResult:
        """This result, its strings shared with every other result that repeats them (ids,
        titles, statuses, check names, a known mistake's message): a result that came from
        a worker process has copies of its own, and a class report keeps every student's
        (a correct A1+A2 student: 41 KB before, 20 KB after, with the slots)."""
        share = sys.intern
        for e in self.exercises:
            e.id, e.title, e.status = share(e.id), share(e.title), share(e.status)
            e.message, e.hint = share(e.message), share(e.hint)
            for c in e.checks:
                c.name, c.message = share(c.name), share(c.message)
        return self
