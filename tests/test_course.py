"""Courses are folders: found by --course, $DLGRADE_COURSE or the nearest course.toml,
loaded under a private name, refused in one line when wrong; hidden cases are seeded by the
course secret. These tests use the fixture course (tests/fixtures/course), copied outside
the repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from dlgrade.cli import main
from dlgrade.courses import course as courses
from dlgrade.grading.cases import build_cases
from fixture_course import copy_fixture


@pytest.fixture
def outside(tmp_path) -> Path:
    """The fixture course, copied to a folder outside the repository (no secret yet)."""
    return copy_fixture(tmp_path / "my course")


def run(args, cwd=None, env=None):
    """The real command in a subprocess (its cwd and environment are its own)."""
    return subprocess.run([sys.executable, "-m", "dlgrade", *args], cwd=cwd,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=120)


def test_grade_a_course_outside_the_repository(outside, tmp_path):
    out = tmp_path / "scores.json"
    done = run(["grade", "all", str(outside / "students"), "--course", str(outside),
                "--no-gradebook", "--json", str(out)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    scores = json.loads(out.read_text())
    assert scores["right"]["hw1.cube"]["score"] == 5.0
    assert scores["right"]["hw1.sq"]["score"] == 3.0
    wrong = scores["wrong"]
    assert wrong["hw1.sq"]["status"] == "not_attempted"
    assert "the backward drops the factor 3" in wrong["hw1.cube"]["message"]
    assert 0 < wrong["hw1.cube"]["score"] < 5


def test_the_nearest_course_toml_upward_and_the_environment(outside, tmp_path):
    nested = outside / "students" / "right"
    done = run(["list"], cwd=nested)
    assert done.returncode == 0 and "hw1.cube" in done.stdout and "a1." not in done.stdout
    done = run(["list"], cwd=tmp_path, env={"DLGRADE_COURSE": str(outside)})
    assert done.returncode == 0 and "hw1.sq" in done.stdout
    # --course wins over the environment.
    done = run(["list", "--course", str(outside)], cwd=tmp_path,
               env={"DLGRADE_COURSE": str(tmp_path / "nowhere")})
    assert done.returncode == 0 and "hw1.sq" in done.stdout


@pytest.mark.parametrize("args, env, expected", [
    (["list"], {}, "no course here: no course.toml in"),
    (["list", "--course", "nowhere"], {}, "--course nowhere: no course.toml there"),
    (["list"], {"DLGRADE_COURSE": "/nonexistent"}, "$DLGRADE_COURSE /nonexistent: no course"),
])
def test_no_course_is_one_line(tmp_path, args, env, expected):
    done = run(args, cwd=tmp_path, env={"DLGRADE_COURSE": "", **env})
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("toml, expected", [
    ("[course]\nassignments = ['hw1']\nspecs = 'specs'\nreference = 'solutions'\n"
     "colour = 'red'\n", "unknown key(s) colour"),
    ("[course]\nassignments = 'hw1'\n", "assignments must be a list"),
    ("[course\n", "not valid TOML"),
    ("name = 'x'\n", "needs a [course] table"),
    ("[course]\nassignments = ['hw1']\nspecs = '../../etc'\n", "is outside the course"),
    ("[course]\nassignments = ['hw1', 'hw9']\nspecs = 'specs'\nreference = 'solutions'\n",
     "assignment 'hw9' has no package"),
    ("[course]\nassignments = ['hw1']\nspecs = 'specs'\nreference = 'missing'\n",
     "the reference folder"),
])
def test_a_wrong_course_toml_is_refused_in_one_line(outside, toml, expected):
    (outside / "course.toml").write_text(toml)
    done = run(["list", "--course", str(outside)])
    assert done.returncode == 2, done.stdout
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_course_modules_are_private_and_not_shadowed(outside, tmp_path):
    """A student's reference.py or specs.py in the folder being graded (or in the current
    directory) changes nothing: the course is imported by path under a private name."""
    for name in ("solutions", "specs", "hw1", "ops_reference"):
        (outside / "students" / "right" / f"{name}.py").write_text("raise SystemExit(3)\n")
    shutil.copy(outside / "students" / "right" / "solutions.py", tmp_path / "solutions.py")
    done = run(["grade", "hw1", str(outside / "students"), "--course", str(outside),
                "--no-gradebook"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "right     8.00 / 8" in done.stdout
    loaded = courses.load(outside)
    assert loaded.package.startswith("_dlgrade_course_")
    assert sys.modules[f"{loaded.package}.reference.ops"].__file__ == str(
        outside / "solutions" / "ops.py")
    assert "solutions" not in sys.modules and "specs" not in sys.modules


def test_hidden_cases_come_from_the_secret_and_public_ones_do_not(outside, tmp_path):
    first = courses.load(outside)
    secret = outside / ".secret" / "key"
    with courses.using(first):
        cube = first.exercise("hw1.cube")
        hidden_a = [c for c in build_cases(cube, True) if c.hidden]
        public_a = build_cases(cube, False)
    assert secret.is_file() and secret.stat().st_mode & 0o777 == 0o600
    # The same secret again (another folder, same files): the same cases, the same grade.
    twin_root = tmp_path / "twin"
    shutil.copytree(outside, twin_root)
    twin = courses.load(twin_root)
    with courses.using(twin):
        hidden_b = [c for c in build_cases(twin.exercise("hw1.cube"), True) if c.hidden]
    assert all(np.array_equal(a.inputs["x"], b.inputs["x"])
               for a, b in zip(hidden_a, hidden_b, strict=True))
    # A new secret: other hidden inputs, the same public ones.
    other_root = tmp_path / "other"
    shutil.copytree(outside, other_root)
    (other_root / ".secret" / "key").write_text("f" * 64 + "\n")
    other = courses.load(other_root)
    with courses.using(other):
        hidden_c = [c for c in build_cases(other.exercise("hw1.cube"), True) if c.hidden]
        public_c = build_cases(other.exercise("hw1.cube"), False)
    assert not any(np.array_equal(a.inputs["x"], c.inputs["x"])
                   for a, c in zip(hidden_a, hidden_c, strict=True))
    assert all(np.array_equal(a.inputs["x"], c.inputs["x"])
               for a, c in zip(public_a, public_c, strict=True))


def test_a_short_secret_is_refused(outside):
    (outside / ".secret").mkdir()
    (outside / ".secret" / "key").write_text("guessable\n")
    done = run(["grade", "hw1", str(outside / "students"), "--course", str(outside),
                "--no-gradebook"])
    assert done.returncode == 2
    assert "the course secret must be at least 32 characters" in done.stderr


def test_validate_and_build_templates_on_an_outside_course(outside):
    runner = CliRunner()
    (outside / "templates" / "ops.py").unlink()
    result = runner.invoke(main, ["build-templates", "--check", "--course", str(outside)])
    assert result.exit_code == 1 and "out of date" in result.output
    result = runner.invoke(main, ["build-templates", "--course", str(outside)])
    assert result.exit_code == 0 and (outside / "templates" / "ops.py").is_file()
    assert "### BEGIN SOLUTION" not in (outside / "templates" / "ops.py").read_text()
    result = runner.invoke(main, ["validate", "--course", str(outside)])
    assert result.exit_code == 0, result.output
    assert "mutants: 4/4 ok" in result.output


def test_init_makes_a_course_that_validates_and_grades(tmp_path):
    """`dlgrade init my-course && cd my-course && dlgrade validate && dlgrade grade all
    samples/`, each step a real command in its own process."""
    done = run(["init", "my-course"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "my-course"
    assert (folder / "student_templates" / "ops.py").is_file()
    assert "### BEGIN SOLUTION" not in (folder / "student_templates" / "ops.py").read_text()
    done = run(["validate"], cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Everything is valid." in done.stdout and "mutants: 2/2 ok" in done.stdout
    scores = folder / "scores.json"
    done = run(["grade", "all", "samples/", "--json", str(scores)], cwd=folder)
    assert done.returncode == 0, done.stderr
    graded = json.loads(scores.read_text())
    assert graded["right"]["hw1.cube"]["status"] == "passed"
    assert "the backward pass drops the factor 3" in graded["wrong"]["hw1.cube"]["message"]
    # Never over an existing folder.
    done = run(["init", "my-course"], cwd=tmp_path)
    assert done.returncode == 2 and "not an empty folder" in done.stderr


def test_validate_fails_an_exercise_with_fewer_than_two_known_mistakes(outside):
    spec = outside / "specs" / "hw1" / "__init__.py"
    spec.write_text(spec.read_text() + "\nimport dataclasses\n\nASSIGNMENT = dataclasses."
                    "replace(ASSIGNMENT, mutants=ASSIGNMENT.mutants[:3])\n")
    result = CliRunner().invoke(main, ["validate", "--course", str(outside)])
    assert result.exit_code == 1
    assert "FAIL hw1.sq has known mistakes: 1 declared, at least 2 needed" in result.output
    assert "no known mistake fails loss" in result.output  # the check nothing exercises


def test_an_exercise_tolerance_replaces_the_dtype_table(outside):
    """A course that accepts 1e-3 relative error gives full marks to an answer 1e-5 off,
    which the float64 table (1e-7) would call wrong; in a kit too."""
    from dlgrade import api

    student = outside / "students" / "close"
    student.mkdir()
    (student / "ops.py").write_text(
        "def cube_forward(x):\n    return x**3 * (1 + 1e-5), x\n\n\n"
        "def cube_backward(dout, cache):\n    return 3 * cache**2 * dout * (1 + 1e-5)\n")
    strict = api.check(student, ["hw1"], course=outside).exercises[0]
    assert strict.id == "hw1.cube" and strict.status != "passed"
    spec = outside / "specs" / "hw1" / "__init__.py"
    text = spec.read_text()
    assert 'oracle=_cube_oracle),' in text
    spec.write_text(text.replace('oracle=_cube_oracle),',
                                 'oracle=_cube_oracle, tolerance=(1e-3, 1e-9)),'))
    relaxed_root = outside.parent / "relaxed"
    shutil.copytree(outside, relaxed_root)
    relaxed = api.check(student, ["hw1"], course=relaxed_root).exercises[0]
    assert relaxed.status == "passed", relaxed.message
    kit_dir = outside.parent / "relaxed-kit"
    assert CliRunner().invoke(main, ["kit", "hw1", str(kit_dir), "--course",
                                     str(relaxed_root)]).exit_code == 0
    assert api.check(student, ["hw1"], course=kit_dir).exercises[0].status == "passed"


PATCH_MUTANT = '''
import dataclasses

ASSIGNMENT = dataclasses.replace(ASSIGNMENT, mutants=ASSIGNMENT.mutants + (
    Mutant("hw1.cube", "two", "the backward uses 2 x^2 where d/dx x^3 is 3 x^2",
           ("backward", "gradcheck"), patch=((@OLD@, @NEW@),)),))
'''


@pytest.mark.parametrize("old, expected", [
    ("return 3.0 * x**2 * dout", None),
    ("return 3.0 * x**2 * dout if False else 0", "is not in the reference"),
    ("x", "occurs 12 times"),
])
def test_a_known_mistake_as_a_patch_of_the_reference(outside, old, expected):
    spec = outside / "specs" / "hw1" / "__init__.py"
    new = "return 2.0 * x**2 * dout" if expected is None else "y"
    spec.write_text(spec.read_text() + PATCH_MUTANT.replace("@OLD@", repr(old))
                    .replace("@NEW@", repr(new)))
    result = CliRunner().invoke(main, ["validate", "--course", str(outside)])
    if expected is not None:  # refused when the course is loaded, in one line
        assert result.exit_code == 2 and expected in result.output, result.output
        return
    assert result.exit_code == 0, result.output
    assert "mutants: 5/5 ok" in result.output
    student = outside / "students" / "two"
    student.mkdir()
    (student / "ops.py").write_text(
        (outside / "students" / "right" / "ops.py").read_text().replace("3 * cache", "2 * cache"))
    from dlgrade import api

    cube = api.check(student, ["hw1"], course=outside).exercises[0]
    assert "the backward uses 2 x^2 where d/dx x^3 is 3 x^2" in cube.message


VARIANT = '''
import dataclasses

from dlgrade.authoring import Variant

ASSIGNMENT = dataclasses.replace(ASSIGNMENT, variants=(
    Variant("hw1.cube", "other-order", "x * x * x for x ** 3",
            patch=(("return x**3, x", @NEW@),)),))
'''


@pytest.mark.parametrize("new, passes", [("return x * x * x, x", True),
                                         ("return x * x * x * 1.001, x", False)])
def test_accepted_variants_must_score_full_marks(outside, new, passes):
    spec = outside / "specs" / "hw1" / "__init__.py"
    spec.write_text(spec.read_text() + VARIANT.replace("@NEW@", repr(new)))
    result = CliRunner().invoke(main, ["validate", "--course", str(outside)])
    if passes:
        assert result.exit_code == 0, result.output
        assert "accepted variants: 1/1 ok" in result.output
        assert "variant hw1.cube:other-order scores full marks: worst error" in result.output
    else:
        assert result.exit_code == 1
        assert "FAIL variant hw1.cube:other-order scores full marks" in result.output


def test_support_files_reach_the_sandbox_and_the_kit(outside, tmp_path, monkeypatch):
    """A course-provided package (support/im2col) is importable by the reference and the
    student's code, in
    `grade`, in a kit's `check`, and a student's own im2col.py cannot stand in for it."""
    from dlgrade import api

    package = outside / "support" / "im2col"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("def cube(x):\n    return x * x * x\n")
    spec = outside / "specs" / "hw1" / "__init__.py"
    spec.write_text(spec.read_text() + "\nimport dataclasses\n\nASSIGNMENT = dataclasses."
                    "replace(ASSIGNMENT, support=('im2col',))\n")
    # The reference imports it too, as a student's code does.
    solution = outside / "solutions" / "ops.py"
    solution.write_text(solution.read_text().replace(
        "    return x**3, x", "    from im2col import cube\n    return cube(x), x"))
    assert "from im2col import cube" in solution.read_text()
    monkeypatch.delitem(sys.modules, "im2col", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    student = tmp_path / "uses-helper"
    student.mkdir()
    (student / "ops.py").write_text(
        (outside / "students" / "right" / "ops.py").read_text().replace(
            "return x * x * x, x", "from im2col import cube\n    return cube(x), x"))
    (student / "im2col.py").write_text("def cube(x):\n    return 0 * x\n")  # overridden
    graded = api.grade(student, ["hw1"], course=outside)
    assert graded.exercises[0].status == "passed", graded.exercises[0].message
    kit_dir = tmp_path / "kit"
    assert CliRunner().invoke(main, ["kit", "hw1", str(kit_dir), "--course",
                                     str(outside)]).exit_code == 0
    assert (kit_dir / "im2col" / "__init__.py").is_file()
    assert api.check(student, ["hw1"], course=kit_dir).exercises[0].status == "passed"
    # A course that names a support file it does not have is refused in one line.
    spec.write_text(spec.read_text().replace("support=('im2col',)", "support=('nothere',)"))
    done = run(["list", "--course", str(outside)])  # a new process: the course is read again
    assert done.returncode == 2 and "support 'nothere': no such file" in done.stderr


HW9 = '''import numpy as np

from dlgrade.authoring import Assignment, Exercise, Mutant


def _x(rng, shape, huge):
    return {"x": rng.uniform(-2.0, 2.0, size=shape)}


def _oracle(inputs, params, dout):
    return {"out": 2.0 * inputs["x"], "dx": 2.0 * dout}


ASSIGNMENT = Assignment(id="hw9", title="More of ops.py", exercises=(
    Exercise(id="hw9.double", title="Double", module="ops", kind="layer",
             functions=("double_forward", "double_backward"), inputs=("x",), wrt=("x",),
             sample=_x, stable=False, oracle=_oracle),
), mutants=(
    Mutant("hw9.double", "one", "the backward forgets the 2", ("backward", "gradcheck"),
           patch=(("return 2.0 * dout", "return dout"),)),
    Mutant("hw9.double", "zero", "the backward returns zeros", ("backward", "gradcheck"),
           patch=(("return 2.0 * dout", "return 0.0 * dout"),)),
))
'''


def test_two_assignments_share_a_student_module(outside):
    """hw9 adds functions to hw1's ops.py (a file that grows over a term): one template,
    each assignment graded on its own exercises."""
    ops = outside / "solutions" / "ops.py"
    ops.write_text(ops.read_text() + '''

def double_forward(x):
    """out = 2 x."""
    ### BEGIN SOLUTION
    return 2.0 * x, None
    ### END SOLUTION


def double_backward(dout, cache):
    """dx = 2 dout."""
    ### BEGIN SOLUTION
    return 2.0 * dout
    ### END SOLUTION
''')
    (outside / "specs" / "hw9").mkdir()
    (outside / "specs" / "hw9" / "__init__.py").write_text(HW9)
    toml = outside / "course.toml"
    toml.write_text(toml.read_text().replace('assignments = ["hw1"]',
                                             'assignments = ["hw1", "hw9"]'))
    runner = CliRunner()
    assert runner.invoke(main, ["build-templates", "--course", str(outside)]).exit_code == 0
    template = (outside / "templates" / "ops.py").read_text()
    assert 'NotImplementedError("hw9.double: implement double_forward")' in template
    assert 'NotImplementedError("hw1.cube: implement cube_forward")' in template
    result = runner.invoke(main, ["validate", "--course", str(outside)])
    assert result.exit_code == 0, result.output
    student = outside / "students" / "right"
    (student / "ops.py").write_text((student / "ops.py").read_text() + (
        "\n\ndef double_forward(x):\n    return x + x, None\n\n\n"
        "def double_backward(dout, cache):\n    return dout + dout\n"))
    from dlgrade import api

    graded = api.grade(student, ["hw1", "hw9"], course=outside)
    assert [(e.id, e.status) for e in graded.exercises] == [
        ("hw1.cube", "passed"), ("hw1.sq", "passed"), ("hw9.double", "passed")]


def test_stability_shapes_are_the_course_s(outside, tmp_path):
    """An exercise's stability cases run at the shapes it declares (one per shape), the
    student sees them in `check`, and stable=True without a shape is a spec error."""
    import dataclasses

    from dlgrade import api
    from dlgrade.authoring import SpecError

    spec = outside / "specs" / "hw1" / "__init__.py"
    spec.write_text(spec.read_text() + (
        "\nimport dataclasses\n\nASSIGNMENT = dataclasses.replace(ASSIGNMENT, exercises=("
        "dataclasses.replace(ASSIGNMENT.exercises[0], stable=True,"
        " stability_shapes=((2, 3), (7,))), *ASSIGNMENT.exercises[1:]))\n"))
    course = courses.load(outside)
    with courses.using(course):
        cube = course.exercise("hw1.cube")
        stability = [c for c in build_cases(cube, False) if c.huge]
        assert [next(iter(c.inputs.values())).shape for c in stability] == [(2, 3), (7,)]
        with pytest.raises(SpecError, match="at least one stability shape"):
            dataclasses.replace(cube, stability_shapes=()).validate()
    # A right student passes both; one whose forward overflows at the 1-D shape only is
    # told so at the course's own stability case.
    checked = api.check(outside / "students" / "right", ["hw1"], course=outside)
    assert all(e.status == "passed" for e in checked.exercises)
    fragile = tmp_path / "fragile"
    fragile.mkdir()
    (fragile / "ops.py").write_text((outside / "students" / "right" / "ops.py").read_text()
                                    + "\n_cube = cube_forward\n\n\ndef cube_forward(x):\n"
                                    "    return (_cube(x)[0] * (x.ndim > 1), x)\n")
    cube = api.check(fragile, ["hw1"], course=outside).exercises[0]
    assert cube.status != "passed"
    assert "stability case 2 (shape (7,))" in cube.message, cube.message


def test_a_backward_only_exercise_scores_no_forward(outside, tmp_path):
    """weights={"forward": 0} makes a backward-only exercise (CS231n's
    batchnorm_backward_alt): the forward still runs to make the cache, but its check is worth
    nothing. A right student gets every point; one whose forward value is wrong (its cache
    right) loses no forward points and keeps the backward's; one whose backward is wrong
    loses the backward's."""
    from dlgrade import api

    spec = outside / "specs" / "hw1" / "__init__.py"
    spec.write_text(spec.read_text() + (
        "\nimport dataclasses\n\nASSIGNMENT = dataclasses.replace(ASSIGNMENT, exercises=("
        "dataclasses.replace(ASSIGNMENT.exercises[0], weights={'forward': 0.0}),"
        " *ASSIGNMENT.exercises[1:]))\n"))
    right = (outside / "students" / "right" / "ops.py").read_text()
    forward_off = tmp_path / "forward-off"
    forward_off.mkdir()
    (forward_off / "ops.py").write_text(right.replace("return x * x * x, x",
                                                      "return x * x, x"))
    assert api.check(outside / "students" / "right", ["hw1"],
                     course=outside).exercises[0].score == 5.0
    checks = {c.name: c for c in api.check(forward_off, ["hw1"],
                                           course=outside).exercises[0].checks}
    assert checks["forward"].max_score == 0.0 and checks["forward"].score == 0.0
    assert checks["backward"].score == checks["backward"].max_score > 0
    backward_off = tmp_path / "backward-off"
    backward_off.mkdir()
    (backward_off / "ops.py").write_text(right.replace("return 3 * cache * cache * dout",
                                                       "return cache * cache * dout"))
    assert api.check(backward_off, ["hw1"], course=outside).exercises[0].score < 1.0
