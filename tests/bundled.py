"""The bundled fundamentals course, loaded as dlgrade loads any course: by path, under a
private module name. Course tests take its specs and references from here."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

from dlgrade.courses import course as courses

ROOT = Path(__file__).resolve().parent.parent
COURSE = courses.load(ROOT)


def use() -> courses.Course:
    """Make the bundled course the one in use (engine lookups answer from it)."""
    return courses.use(COURSE)


def spec(name: str) -> ModuleType:
    """A spec module of the course, e.g. ``spec("a1.exercises")``."""
    return sys.modules[f"{COURSE.package}.specs.{name}"]


def reference(module: str) -> ModuleType:
    """A reference module of the course, e.g. ``reference("activations")``."""
    return COURSE.reference_module(module)


use()
