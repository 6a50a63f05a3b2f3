"""The one registry of assignments and exercises.

Assignments are declared in ``assignments/<id>/__init__.py`` as ``ASSIGNMENT``; the list of
assignment packages is ``assignments.ASSIGNMENT_IDS``. Everything is validated once, at first
use: ids unique, functions present in the reference module, mutants aimed at real exercises.
"""

from __future__ import annotations

import hashlib
import importlib
from functools import cache
from pathlib import Path
from types import ModuleType

from autograder.spec import Assignment, Exercise, Mutant, SpecError


class UnknownName(LookupError):
    """An assignment or exercise id that the registry does not know."""


@cache
def assignments() -> dict[str, Assignment]:
    """All assignments by id, in course order (validated)."""
    import assignments as package

    found: dict[str, Assignment] = {}
    for assignment_id in package.ASSIGNMENT_IDS:
        module = importlib.import_module(f"assignments.{assignment_id}")
        assignment: Assignment = module.ASSIGNMENT
        if assignment.id != assignment_id:
            raise SpecError(f"assignments/{assignment_id} declares id {assignment.id!r}")
        found[assignment_id] = assignment
    _validate(found)
    return found


def reference_module(module: str) -> ModuleType:
    """The reference solution module, e.g. ``reference.activations``."""
    return importlib.import_module(f"reference.{module}")


def assignment(assignment_id: str) -> Assignment:
    known = assignments()
    if assignment_id not in known:
        raise UnknownName(
            f"unknown assignment {assignment_id!r}; known: {', '.join(known) or 'none'}"
        )
    return known[assignment_id]


def exercises() -> dict[str, Exercise]:
    """Every exercise by id, in course order."""
    return {e.id: e for a in assignments().values() for e in a.exercises}


def exercise(exercise_id: str) -> Exercise:
    known = exercises()
    if exercise_id not in known:
        raise UnknownName(f"unknown exercise {exercise_id!r} (see `dlgrade list`)")
    return known[exercise_id]


def mutants(exercise_id: str | None = None) -> tuple[Mutant, ...]:
    everything = tuple(m for a in assignments().values() for m in a.mutants)
    if exercise_id is None:
        return everything
    return tuple(m for m in everything if m.exercise == exercise_id)


def resolve(selector: str) -> list[Assignment]:
    """Assignments named by a CLI selector: ``a1``, ``a1,a2`` or ``all``."""
    if selector.strip() == "all":
        return list(assignments().values())
    names = [s.strip() for s in selector.split(",") if s.strip()]
    if not names:
        raise UnknownName("no assignment given")
    return [assignment(n) for n in dict.fromkeys(names)]


def _validate(found: dict[str, Assignment]) -> None:
    seen: set[str] = set()
    modules: dict[str, str] = {}
    for a in found.values():
        for module in a.modules:
            if module in modules:
                raise SpecError(f"assignments {modules[module]} and {a.id} share module "
                                f"{module}")
            modules[module] = a.id
        by_id = {}
        for e in a.exercises:
            reference = reference_module(e.module)
            e.validate()
            if e.id in seen:
                raise SpecError(f"duplicate exercise id {e.id!r}")
            seen.add(e.id)
            if e.assignment != a.id:
                raise SpecError(f"exercise {e.id!r} does not belong to assignment {a.id!r}")
            for fn in e.functions:
                if not callable(getattr(reference, fn, None)):
                    raise SpecError(f"exercise {e.id!r}: reference.{e.module} has no {fn}()")
            by_id[e.id] = e
        for m in a.mutants:
            target = by_id.get(m.exercise)
            if target is None:
                raise SpecError(f"mutant {m.id!r} targets an unknown exercise")
            if not set(m.fails) <= set(target.checks) or not m.fails:
                raise SpecError(f"mutant {m.id!r}: fails must name checks of {target.id}")
            if not set(m.functions) <= set(target.functions) or not m.functions:
                raise SpecError(f"mutant {m.id!r} replaces functions {target.id} does not have")


@cache
def fingerprint(assignment: Assignment) -> str:
    """Hash of everything that decides an assignment's grades: the grading engine, the
    assignment's specs and its reference module. Stored grades are reused only while it is
    unchanged."""
    import autograder

    digest = hashlib.sha256()
    sources = sorted(Path(autograder.__file__).parent.rglob("*.py"))
    package = importlib.import_module(f"assignments.{assignment.id}")
    sources += sorted(Path(package.__file__).parent.rglob("*.py"))
    sources += [Path(reference_module(m).__file__) for m in assignment.modules]
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
