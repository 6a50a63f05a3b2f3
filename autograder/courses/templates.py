"""Student templates, generated from a course's reference modules by stripping the solution regions.

In a reference module, the code between a line ``### BEGIN SOLUTION`` and a line
``### END SOLUTION`` is the solution (nbgrader's delimiters). In the template it becomes

    # YOUR CODE HERE
    raise NotImplementedError("a1.sigmoid: implement sigmoid_forward")

at the indentation of the BEGIN line, naming the exercise and the enclosing function.
Everything else (imports, docstrings with formulas and shapes) is copied as is, under a
first line that stamps the handout (:mod:`dlgrade.courses.handouts`).
A nested, unterminated, orphaned or misspelt marker is a :class:`TemplateError` naming the
file and line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dlgrade.courses import handouts
from dlgrade.courses.handouts import Handout

if TYPE_CHECKING:
    from dlgrade.courses.course import Course
    from dlgrade.spec.exercise import Assignment

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_MARKER_LIKE = re.compile(r"#.*\b(BEGIN|END)\s*_?SOLUTIONS?\b", re.IGNORECASE)
_DEF = re.compile(r"^(\s*)(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z0-9_]*)\s*[(:]")


class TemplateError(ValueError):
    """A malformed solution marker in a reference file."""


def strip_solutions(source: str, filename: str, exercise_of: dict[str, str]) -> str:
    """The template text for one reference module.

    Args:
        source: the reference module's text.
        filename: shown in errors (``reference/activations.py``).
        exercise_of: function name -> exercise id, to name the exercise in each stub.
    """
    out: list[str] = []
    enclosing: list[tuple[int, str]] = []  # (indent, name) of the defs around a line
    begin_line: int | None = None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped in (BEGIN, END) or _MARKER_LIKE.search(stripped):
            if stripped not in (BEGIN, END):
                raise TemplateError(
                    f"{filename}:{number}: malformed marker {stripped!r}; "
                    f"write exactly '{BEGIN}' or '{END}'"
                )
            indent = line[: len(line) - len(line.lstrip())]
            if stripped == BEGIN:
                if begin_line is not None:
                    raise TemplateError(
                        f"{filename}:{number}: '{BEGIN}' inside the solution region opened "
                        f"at line {begin_line}"
                    )
                begin_line = number
                inside = [name for i, name in enclosing if i < len(indent)]
                if not inside:
                    raise TemplateError(f"{filename}:{number}: a solution region must be "
                                        "inside a function")
                function = ".".join(inside)  # Value.__add__ for a method
                label = next((exercise_of[n] for n in reversed(inside) if n in exercise_of),
                             None)
                what = f"{label}: implement {function}" if label else f"implement {function}"
                out.append(f"{indent}# YOUR CODE HERE\n")
                out.append(f'{indent}raise NotImplementedError("{what}")\n')
            else:
                if begin_line is None:
                    raise TemplateError(f"{filename}:{number}: '{END}' without a matching "
                                        f"'{BEGIN}'")
                begin_line = None
            continue
        if begin_line is not None:
            continue
        match = _DEF.match(line)
        if match:
            indent = len(match.group(1))
            enclosing = [(i, n) for i, n in enclosing if i < indent] + [(indent, match.group(2))]
        out.append(line)
    if begin_line is not None:
        raise TemplateError(f"{filename}:{begin_line}: '{BEGIN}' is never closed by '{END}'")
    return "".join(out)


@dataclass(frozen=True)
class TemplateFile:
    source: Path
    target: Path
    text: str  # stamped with its handout (dlgrade.courses.handouts)
    handout: Handout

    def in_sync(self) -> bool:
        return self.target.is_file() and self.target.read_text() == self.text


def plan(course: Course, assignments: Sequence[Assignment] | None = None,
         out_dir: Path | None = None) -> list[TemplateFile]:
    """What ``build-templates`` would write: one template per student module of
    ``assignments`` (default: all of the course's), into ``out_dir`` (default: the course's
    templates folder)."""
    target = Path(out_dir) if out_dir is not None else course.templates_dir
    chosen = list(assignments) if assignments is not None else list(course.assignments.values())
    files = []
    for module in dict.fromkeys(m for a in chosen for m in a.modules):
        source = course.reference_path(module)
        text, handout = template(course, module)
        files.append(TemplateFile(source, target / source.name, text, handout))
    return files


def template(course: Course, module: str) -> tuple[str, Handout]:
    """The template of student module ``module``, stamped, and its handout."""
    # A module two assignments share (layers.py growing over a term) is one template, its
    # stubs named after every exercise of the course; a function used by two exercises is
    # named after the first.
    exercise_of: dict[str, str] = {}
    for e in (e for a in course.assignments.values() for e in a.exercises):
        for fn in e.functions:
            exercise_of.setdefault(fn, e.id)
    source = course.reference_path(module)
    shown = os.path.relpath(source, course.root)
    text = strip_solutions(source.read_text(), shown, exercise_of)
    handout = handouts.describe(source.name, course.version, text)
    return handouts.stamped(text, handout), handout


def current_handout(course: Course, module: str) -> Handout | None:
    """The current handout of student module ``module`` (a kit's: the one it was made
    with), to tell a file written against an older one; None when unknown."""
    if module not in course.handouts:
        course.handouts[module] = (course.kit.handouts.get(module) if course.kit is not None
                                   else template(course, module)[1])
    return course.handouts[module]


def write(files: list[TemplateFile]) -> list[Path]:
    """Write the templates that changed; return their paths."""
    changed = []
    for f in files:
        if not f.in_sync():
            f.target.parent.mkdir(parents=True, exist_ok=True)
            f.target.write_text(f.text)
            changed.append(f.target)
    return changed
