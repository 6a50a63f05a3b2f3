"""The one registry: the assignments and exercises of the course in use.

Lookups answer from :func:`dlgrade.courses.course.active` (the course a command was given, or the
nearest ``course.toml``); the engine never names a course's assignments itself.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from types import ModuleType

from dlgrade.courses.course import UnknownName, active
from dlgrade.spec.exercise import Assignment, Exercise, Mutant

__all__ = ["UnknownName", "assignment", "assignments", "exercise", "exercises", "fingerprint",
           "mutants", "reference_module", "resolve"]


def assignments() -> dict[str, Assignment]:
    """All assignments by id, in course order (validated)."""
    return active().assignments


def reference_module(module: str) -> ModuleType:
    """The reference solution module of student module ``module``."""
    return active().reference_module(module)


def assignment(assignment_id: str) -> Assignment:
    return active().assignment(assignment_id)


def exercises() -> dict[str, Exercise]:
    """Every exercise by id, in course order."""
    return active().exercises()


def exercise(exercise_id: str) -> Exercise:
    return active().exercise(exercise_id)


def mutants(exercise_id: str | None = None) -> tuple[Mutant, ...]:
    return active().mutants(exercise_id)


def resolve(selector: str) -> list[Assignment]:
    """Assignments named by a CLI selector: ``a1``, ``a1,a2`` or ``all``."""
    return active().resolve(selector)


@cache
def fingerprint(assignment: Assignment) -> str:
    """Hash of everything that decides an assignment's grades: the grading engine, the
    assignment's specs, its reference modules and the course secret. Stored grades are
    reused only while it is unchanged."""
    import dlgrade

    course = active()
    digest = hashlib.sha256()
    sources = sorted(Path(dlgrade.__file__).parent.rglob("*.py"))
    sources += course.sources(assignment)
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    if course.kit is None:
        digest.update(hashlib.sha256(course.secret()).digest())
    return digest.hexdigest()[:16]
