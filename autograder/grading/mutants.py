"""Known mistakes as code: the source a mutant submission is, and its functions in-process.

A :class:`~dlgrade.spec.exercise.Mutant` is either a *patch* of the reference module's
source (``(old text, new text)`` pairs, each ``old`` found exactly once) or replacement
``functions`` (appended to the reference source, so they may use its names). Either way the
same source is what ``dlgrade validate`` grades through a child, and the same module is what
the grader runs in-process to learn what the mistake returns (for naming it).
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable, Iterable
from functools import cache
from types import ModuleType
from typing import Any

from dlgrade.courses.course import active
from dlgrade.spec.exercise import Mutant, Variant, apply_patch


def mutant_source(m: Mutant | Variant) -> str:
    """The whole student module that the mutant (or accepted variant) is."""
    module = active().exercise(m.exercise).module
    reference = active().reference_path(module).read_text()
    if m.patch:
        return apply_patch(reference, m.patch, m.id)
    parts = [reference]
    for name, function in m.functions.items():
        parts.append(textwrap.dedent(inspect.getsource(function)))
        parts.append(f"{name} = {function.__name__}\n")
    return "\n\n".join(parts)


@cache
def patched_module(m: Mutant | Variant) -> ModuleType:
    """A patch mutant's module, run once per process (trusted: it is course code)."""
    course = active()
    module = ModuleType(f"{course.package}.mutants.{m.exercise}.{m.name}")
    path = course.reference_path(course.exercise(m.exercise).module)
    exec(compile(mutant_source(m), f"{path} ({m.id})", "exec"), module.__dict__)  # noqa: S102
    return module


def mutant_functions(m: Mutant | Variant,
                     names: Iterable[str]) -> dict[str, Callable[..., Any]]:
    """The mutant's version of the functions ``names`` (only those it replaces, for a
    ``functions`` mutant; all of them, for a patch)."""
    if not m.patch:
        return dict(m.functions)
    module = patched_module(m)
    return {n: getattr(module, n) for n in names if callable(getattr(module, n, None))}
