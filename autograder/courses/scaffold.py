"""``dlgrade init DIR``: a new course that validates and grades as generated.

One assignment (``hw1``) with one worked exercise: a cube layer, ``out = x ** 3`` and its
backward pass, in the student module ``ops.py``. Its reference marks the solution, its spec
declares the exercise, an independent oracle and two known mistakes; its templates are
generated; a correct and a buggy sample student show what grading says; ``ci.sh`` is the
course's own CI. The instructor's README says what to change first.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from dlgrade.courses import templates
from dlgrade.courses.course import CourseError, load, using

FILES: dict[str, str] = {
    "course.toml": '''# A dlgrade course (dlgrade init), used by commands run here or below.
[course]
name = "My course"
assignments = ["hw1"]
specs = "assignments"
reference = "reference"
templates = "student_templates"
# The seed of the hidden cases: made on first use; keep it out of version control.
secret = ".dlgrade/secret"
# Stamped into templates, kits and notebooks: bump it when you hand out a changed template.
version = "1"
# How much a failed hidden case tells the student: full, mistake or none.
[feedback]
hidden = "full"
''',
    ".gitignore": ".dlgrade/\n__pycache__/\ngradebook.sqlite\n",
    "ci.sh": '''#!/usr/bin/env bash
# The course's CI: the references pass, the stubs score 0, every known mistake is caught and
# named, the templates are in sync, and the sample class grades.
set -euo pipefail
cd "$(dirname "$0")"
dlgrade validate
dlgrade build-templates --check
dlgrade grade all samples --no-gradebook
''',
    "assignments/__init__.py": '"""The assignments, one package each (see course.toml)."""\n',
    "assignments/hw1/__init__.py": '''"""hw1: the cube layer (``ops.py``).

An exercise is declared, not programmed: which functions make the forward and the backward
pass, which inputs are differentiable, how inputs are drawn, the points, a hint, an
independent oracle for `dlgrade validate`, and the known mistakes whose feedback names them.
"""

import numpy as np

from dlgrade.authoring import Assignment, Exercise, Mutant


def sample(rng, shape, huge):
    """Inputs of one case: x uniform in [-2, 2] (up to 1e3 for the stability case)."""
    x = rng.uniform(-2.0, 2.0, size=shape)
    return {"x": x * 500.0 if huge else x}


def oracle(inputs, params, dout):
    """An independent implementation: what the reference must agree with."""
    x = inputs["x"]
    return {"out": x * x * x, "dx": 3.0 * x * x * dout}


# Known mistakes: replacements of the reference's functions, as students get them wrong.
def cube_backward_no_three(dout, cache):
    return cache**2 * dout


def cube_backward_no_dout(dout, cache):
    return 3.0 * cache**2


ASSIGNMENT = Assignment(
    id="hw1",
    title="Layers by hand",
    exercises=(
        Exercise(
            id="hw1.cube", title="Cube layer", module="ops", kind="layer",
            functions=("cube_forward", "cube_backward"), inputs=("x",), wrt=("x",),
            sample=sample, points=4.0, public_shapes=((3, 4),), hidden_shapes=((2, 5), (6,)),
            stable=False, oracle=oracle,
            hint="d/dx x^3 = 3 x^2, times the upstream gradient dout.",
        ),
    ),
    mutants=(
        Mutant("hw1.cube", "no_three", "the backward pass drops the factor 3",
               ("backward", "gradcheck"), {"cube_backward": cube_backward_no_three}),
        Mutant("hw1.cube", "no_dout", "the backward pass ignores the upstream gradient dout",
               ("backward", "gradcheck"), {"cube_backward": cube_backward_no_dout}),
    ),
)
''',
    "reference/ops.py": '''"""hw1: layers with a forward and a backward pass.

Each forward returns ``(out, cache)``; the backward takes the upstream gradient ``dout`` (the
shape of ``out``) and that cache, and returns the gradient with respect to the input.
"""

import numpy as np


def cube_forward(x):
    """out = x ** 3, elementwise.

    Args:
        x: array of any shape.

    Returns:
        (out, cache): out has the shape of x; cache is what the backward pass needs.
    """
    ### BEGIN SOLUTION
    return np.power(x, 3), x
    ### END SOLUTION


def cube_backward(dout, cache):
    """dx = 3 x ** 2 * dout.

    Args:
        dout: upstream gradient, the shape of out.
        cache: what cube_forward returned with out.

    Returns:
        dx, the shape of x.
    """
    ### BEGIN SOLUTION
    x = cache
    return 3.0 * x**2 * dout
    ### END SOLUTION
''',
    "samples/right/ops.py": '''def cube_forward(x):
    return x * x * x, x


def cube_backward(dout, cache):
    return 3 * cache * cache * dout
''',
    "samples/wrong/ops.py": '''def cube_forward(x):
    return x**3, x


def cube_backward(dout, cache):
    return cache**2 * dout  # the 3 is missing
''',
    "README.md": '''# My course

A dlgrade course: `course.toml` names its assignments and folders.

| folder | what it holds |
|---|---|
| `assignments/hw1/` | the spec of hw1: its exercises, their oracle and known mistakes |
| `reference/` | the solutions, between `### BEGIN SOLUTION` and `### END SOLUTION` |
| `student_templates/` | generated from `reference/` by `dlgrade build-templates` |
| `samples/` | a correct and a buggy student |

```bash
dlgrade validate                       # references pass, stubs score 0, mistakes are caught
dlgrade grade all samples/             # grade a class: one folder (or .py file) per student
dlgrade kit hw1 hw1-kit/               # what students get: templates and public cases
./ci.sh                                # all of it, for the course's CI
```

To add an exercise: write its functions with solution markers in a reference module, declare
it in its assignment's spec (and two or more known mistakes), run `dlgrade build-templates`
and `dlgrade validate`. The secret in `.dlgrade/` seeds the hidden cases: keep it out of
version control and copy it wherever you grade.
''',
}


def create(target: Path) -> list[Path]:
    """Write a new course into ``target`` (new or empty), generate its templates and check
    that it loads; return the files written. Nothing is left behind when it fails."""
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CourseError(f"{target} exists and is not an empty folder: dlgrade init makes a "
                          "new course")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, text in FILES.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        (staging / "ci.sh").chmod(0o755)
        staging.chmod(0o755)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    course = load(target)
    with using(course):
        templates.write(templates.plan(course))
    return sorted(p for p in target.rglob("*") if p.is_file())
