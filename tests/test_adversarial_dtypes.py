"""Hostile dtypes: a student must not choose their own tolerance by returning low precision.

Issue 13, point 2: the tolerance used to follow the dtype the student returned, so float16
bought 1e-3 of relative error (27 of the 59 known A1/A2 mistakes gained points when cast to
float16, a declared mistake went from partial to full marks) and, in the gradient check,
float16 replies at the perturbed inputs carried so much allowed rounding noise that any
backward passed. Now the course declares which dtypes it accepts and at which tolerance
(``Assignment.dtypes`` / ``Exercise.dtypes``; float64 and float32 by default): any other
dtype fails its check with one line, public or hidden, and the gradient check is taken at
the step of the coarsest accepted dtype the forward returned anywhere.

Each hostile submission below scores what its wrong answer deserves, beside an honest
float64 and an honest float32 student keeping full marks. The fixture course (hw1: the cube
layer, 5 points, and a squared-error loss, 3 points) is used where the trick is the point;
the bundled course where the issue's A1 mistake is.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from dlgrade import api
from dlgrade.core import gradcheck
from dlgrade.core.compare import compare
from dlgrade.courses import registry
from dlgrade.grading.grader import SubmissionResult, grade_submission
from dlgrade.load.submission import Submission
from fixture_course import FIXTURE, copy_fixture

REFUSED = "has dtype float16; this course accepts float64 and float32"
_WHERE = re.compile(r"(public|hidden|stability) case \d+ \(shape \([\d, ]*\)(, [^()]*)?\)")

HONEST64 = (FIXTURE / "students" / "right" / "ops.py").read_text()

HONEST32 = '''import numpy as np


def cube_forward(x):
    return (x ** 3).astype(np.float32), x


def cube_backward(dout, cache):
    return (3 * cache ** 2 * dout).astype(np.float32)


def sq_loss(pred, target, scale=1.0):
    d = (pred - target).astype(np.float32)
    return np.float32(scale * (d * d).sum()), (2 * scale * d).astype(np.float32)
'''

HALF_EVERYTHING = HONEST32.replace("float32", "float16")

HALF_GRADIENTS = '''import numpy as np


def cube_forward(x):
    return x ** 3, x


def cube_backward(dout, cache):
    return (3 * cache ** 2 * dout).astype(np.float16)


def sq_loss(pred, target, scale=1.0):
    d = pred - target
    return scale * float((d * d).sum()), (2 * scale * d).astype(np.float16)
'''

# Right at the case itself (float64); at the gradient check's perturbed inputs (one entry
# moved by a small step) the same right values, rounded to {probe}; and a backward that is
# 3% off, which centred differences of float64 values catch at once.
LOW_PRECISION_PROBES = '''import numpy as np

SEEN = []


def _is_probe(x):
    for x0 in SEEN:
        if x0.shape == x.shape:
            moved = np.abs(x - x0)
            if np.count_nonzero(moved) == 1 and moved.max() < 0.1:
                return True
    return False


def cube_forward(x):
    if _is_probe(x):
        return (x ** 3).astype(np.{probe}), x
    SEEN.append(x.copy())
    return x ** 3, x


def cube_backward(dout, cache):
    return 2.9 * cache ** 2 * dout


def sq_loss(pred, target, scale=1.0):
    d = pred - target
    return scale * float((d * d).sum()), 2 * scale * d
'''

# float16 on some cases only: the hidden cube case (shape (2, 5)) and the scaled loss.
MIXED = '''import numpy as np


def cube_forward(x):
    out = x ** 3
    return (out.astype(np.float16) if x.shape == (2, 5) else out), x


def cube_backward(dout, cache):
    return 3 * cache ** 2 * dout


def sq_loss(pred, target, scale=1.0):
    d = pred - target
    loss, grad = scale * float((d * d).sum()), 2 * scale * d
    if scale != 1.0:
        return np.float16(loss), grad.astype(np.float16)
    return loss, grad
'''

INTEGERS = '''import numpy as np


def cube_forward(x):
    return np.rint(x ** 3).astype(np.int64), x


def cube_backward(dout, cache):
    return 3 * cache ** 2 * dout


def sq_loss(pred, target, scale=1.0):
    d = pred - target
    return int(round(scale * float((d * d).sum()))), 2 * scale * d
'''


def _grade(folder: Path, source: str, course: Path = FIXTURE) -> SubmissionResult:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ops.py").write_text(source)
    return api.grade(folder, course=course)


def _checks(result: SubmissionResult) -> dict[tuple[str, str], tuple[float, str]]:
    return {(e.id, c.name): (c.score, c.message) for e in result.exercises for c in e.checks}


def _scores(result: SubmissionResult) -> dict[str, float]:
    return {e.id: e.score for e in result.exercises}


def _hidden_lines(result: SubmissionResult) -> list[str]:
    return [line for e in result.exercises for text in (e.message, *(c.message for c in e.checks))
            for line in text.splitlines() if "hidden case" in line]


# ---------------------------------------------------------------- honest students


@pytest.mark.parametrize("source", [HONEST64, HONEST32], ids=["float64", "float32"])
def test_honest_float64_and_float32_students_keep_full_marks(tmp_path, source):
    result = _grade(tmp_path / "honest", source)
    assert result.score == result.max_score, [(e.id, e.message) for e in result.exercises]


# ---------------------------------------------------------------- hostile students


def test_float16_everywhere_is_refused_with_one_line(tmp_path):
    result = _grade(tmp_path / "half", HALF_EVERYTHING)
    assert result.score == 0, _scores(result)
    checks = _checks(result)
    for check in (("hw1.cube", "forward"), ("hw1.cube", "backward"), ("hw1.sq", "loss"),
                  ("hw1.sq", "gradient")):
        assert REFUSED in checks[check][1], (check, checks[check][1])
    # The gradient check is not scored on a refused forward either, and says why.
    assert "out " + REFUSED in checks[("hw1.cube", "gradcheck")][1]


def test_the_refusal_is_the_same_line_on_hidden_cases_and_holds_no_number(tmp_path):
    result = _grade(tmp_path / "mixed", MIXED)  # float16 on the hidden cube case only
    hidden = _hidden_lines(result)
    assert hidden and all(REFUSED in line for line in hidden), hidden
    for line in hidden:  # the case's label and shape are the only digits
        rest = _WHERE.sub("", line).replace("float16", "").replace("float64", "")
        assert not re.search(r"\d", rest.replace("float32", "")), line


def test_float16_gradients_alone_lose_the_gradient_checks(tmp_path):
    checks = _checks(_grade(tmp_path / "half-grads", HALF_GRADIENTS))
    assert checks[("hw1.cube", "forward")][0] == 2.5
    assert checks[("hw1.sq", "loss")][0] == 1.5
    for check in (("hw1.cube", "backward"), ("hw1.cube", "gradcheck"), ("hw1.sq", "gradient"),
                  ("hw1.sq", "gradcheck")):
        score, message = checks[check]
        assert score == 0 and "float16" in message, (check, score, message)


def test_float16_probe_replies_cannot_excuse_a_wrong_backward(tmp_path):
    """float16 rows at the perturbed inputs once carried ~1e-3 * |f| / 1e-6 of allowed
    rounding noise: a backward 3% off passed the gradient check. They are refused."""
    checks = _checks(_grade(tmp_path / "half-probes",
                            LOW_PRECISION_PROBES.format(probe="float16")))
    assert checks[("hw1.cube", "forward")][0] == 2.5
    assert checks[("hw1.cube", "backward")][0] == 0
    score, message = checks[("hw1.cube", "gradcheck")]
    assert score == 0, message
    assert "returned float16 values; this course accepts float64 and float32" in message


def test_float32_probe_replies_to_the_float64_step_are_judged_as_float32(tmp_path):
    """The same trick with an accepted dtype: the differences are taken again at float32's
    step, where a float32 function's rounding is small, and the 3% error shows."""
    checks = _checks(_grade(tmp_path / "single-probes",
                            LOW_PRECISION_PROBES.format(probe="float32")))
    assert checks[("hw1.cube", "forward")][0] == 2.5
    score, message = checks[("hw1.cube", "gradcheck")]
    assert score == 0, message
    assert "disagrees with the numerical gradient of your own cube_forward" in message


def test_float16_on_some_cases_loses_those_cases_only(tmp_path):
    result = _grade(tmp_path / "mixed", MIXED)
    checks = _checks(result)
    # cube: public (3, 4) right, hidden (2, 5) refused: half the forward's and the gradient
    # check's shares (forward 2.5, backward 1.875, gradcheck 0.625 of 5 points).
    assert checks[("hw1.cube", "forward")][0] == 1.25
    assert checks[("hw1.cube", "backward")][0] == 1.875
    assert checks[("hw1.cube", "gradcheck")][0] == 0.3125
    assert REFUSED in checks[("hw1.cube", "forward")][1]
    # sq: four cases (public, hidden) x (scale 1, 0.5); the two scaled ones are refused.
    assert checks[("hw1.sq", "loss")][0] == 0.75
    assert checks[("hw1.sq", "gradient")][0] == pytest.approx(0.5625)
    assert REFUSED in checks[("hw1.sq", "loss")][1]


def test_integer_answers_to_float_questions_are_refused(tmp_path):
    checks = _checks(_grade(tmp_path / "ints", INTEGERS))
    assert checks[("hw1.cube", "forward")] == (
        0, "public case 1 (shape (3, 4)): out has dtype int64; this course accepts float64 "
           "and float32")
    assert checks[("hw1.sq", "loss")][0] == 0
    assert "loss has dtype int64; this course accepts float64 and float32" in \
        checks[("hw1.sq", "loss")][1]
    assert checks[("hw1.cube", "backward")][0] == 1.875  # the right part keeps its credit


# ---------------------------------------------------------------- the torch track

TORCH_SIGMOID = '''import torch


def sigmoid_forward(x):
    out = torch.sigmoid(x)
    return out.{cast}(), out


def sigmoid_backward(dout, cache):
    return (dout * cache * (1 - cache)).{cast}()
'''


@pytest.mark.parametrize("cast", ["half", "bfloat16"])
def test_low_precision_tensors_score_nothing_on_the_torch_track(tmp_path, cast):
    pytest.importorskip("torch")
    (tmp_path / "activations.py").write_text(TORCH_SIGMOID.format(cast=cast))
    result = grade_submission(Submission("torchy", tmp_path), [registry.assignment("a1")],
                              hidden=True, only={"a1.sigmoid"},
                              track={"name": "torch", "device": "cpu"})
    (e,) = result.exercises
    assert e.score == 0, (e.status, e.message)
    if cast == "half":  # float16 tensors arrive as float16 arrays: refused like any other
        assert REFUSED in e.message, e.message
    else:  # bfloat16 has no numpy dtype: the child cannot send it at all (a regression
        assert e.status == "error", e.message  # guard: it scored 0 before this change too)


def test_float32_tensors_keep_full_marks_on_the_torch_track(tmp_path):
    pytest.importorskip("torch")
    (tmp_path / "activations.py").write_text(TORCH_SIGMOID.format(cast="float"))
    result = grade_submission(Submission("torchy", tmp_path), [registry.assignment("a1")],
                              hidden=True, only={"a1.sigmoid"},
                              track={"name": "torch", "device": "cpu"})
    (e,) = result.exercises
    assert e.score == e.max_score, e.message


# ---------------------------------------------------------------- the A1 mistake

# a1.selu:rounded-constants (1.6733, 1.0507): only the forward is (slightly) wrong, and in
# float16 it used to pass every check of a1.selu.
ROUNDED_SELU = '''import numpy as np


def selu_forward(x):
    out = 1.0507 * np.where(x > 0, x, 1.6733 * np.expm1(np.minimum(x, 0.0)))
    return out.astype(np.{dtype}), x


def selu_backward(dout, cache):
    x = cache
    slope = np.where(x > 0, 1.0, 1.6733 * np.exp(np.minimum(x, 0.0)))
    return (1.0507 * slope * dout).astype(np.{dtype})
'''


def _selu(folder: Path, dtype: str):
    folder.mkdir()
    (folder / "activations.py").write_text(ROUNDED_SELU.format(dtype=dtype))
    result = grade_submission(Submission(folder.name, folder), [registry.assignment("a1")],
                              hidden=True, only={"a1.selu"})
    return result.exercises[0]


def test_a_declared_mistake_cast_to_float16_gains_nothing(tmp_path):
    mistake = _selu(tmp_path / "float64", "float64")
    assert 0 < mistake.score < mistake.max_score  # the forward's share is lost
    assert "selu uses rounded constants" in mistake.message
    cast = _selu(tmp_path / "float16", "float16")
    assert cast.score == 0, cast.message
    assert REFUSED in cast.message


# ---------------------------------------------------------------- a course that says so

HALF_OK = ('Exercise(id="hw1.cube"', 'Exercise(dtypes={"float64": (1e-7, 1e-7), '
           '"float16": (1e-3, 1e-5)}, id="hw1.cube"')


def _course_accepting_float16(tmp_path: Path, tolerance: str = "(1e-3, 1e-5)") -> Path:
    course = copy_fixture(tmp_path / "course")
    spec = course / "specs" / "hw1" / "__init__.py"
    old, new = HALF_OK
    spec.write_text(spec.read_text().replace(old, new.replace("(1e-3, 1e-5)", tolerance)))
    return course


def test_a_course_accepting_float16_judges_it_at_its_own_tolerance(tmp_path):
    course = _course_accepting_float16(tmp_path)
    # float16 passes the cube (the course says so) at the course's 1e-3, the gradient check
    # at float16's step; float32 is not accepted for the cube, and the loss keeps the default.
    checks = _checks(_grade(tmp_path / "half", HALF_EVERYTHING, course))
    assert checks[("hw1.cube", "forward")][0] == 2.5
    assert checks[("hw1.cube", "backward")][0] == 1.875
    assert checks[("hw1.cube", "gradcheck")][0] == 0.625
    assert checks[("hw1.sq", "loss")][0] == 0
    checks32 = _checks(_grade(tmp_path / "single", HONEST32, course))
    assert checks32[("hw1.cube", "forward")] == (
        0, "public case 1 (shape (3, 4)): out has dtype float32; this course accepts "
           "float64 and float16")
    # 1% off in float16: wrong at the course's 1e-3.
    off = HALF_EVERYTHING.replace("(x ** 3)", "(1.01 * x ** 3)")
    checks_off = _checks(_grade(tmp_path / "off", off, course))
    assert checks_off[("hw1.cube", "forward")][0] == 0
    assert "differ" in checks_off[("hw1.cube", "forward")][1]


def test_the_courses_float16_tolerance_is_the_one_used(tmp_path):
    strict = _course_accepting_float16(tmp_path, "(1e-6, 1e-9)")  # finer than float16 itself
    checks = _checks(_grade(tmp_path / "half", HALF_EVERYTHING, strict))
    assert checks[("hw1.cube", "forward")][0] == 0
    assert "entries differ" in checks[("hw1.cube", "forward")][1]


def test_a_student_kit_carries_the_declaration(tmp_path):
    from click.testing import CliRunner
    from dlgrade.cli import main

    course = _course_accepting_float16(tmp_path)
    kit = tmp_path / "kit"
    done = CliRunner().invoke(main, ["kit", "hw1", str(kit), "--course", str(course)])
    assert done.exit_code == 0, done.output
    # float16 is the cube's only low precision (float32 is not accepted there); the loss
    # keeps the default. A kit holds float64's probes only, so at float16's step the probes'
    # own values go unchecked in a kit: an honest float16 student scores the same anyway.
    for number, (source, expected) in enumerate((
            (HALF_EVERYTHING, {"hw1.cube": 5.0, "hw1.sq": 0.0}),
            (HONEST32, {"hw1.cube": 0.0, "hw1.sq": 3.0}))):
        folder = tmp_path / f"student{number}"
        folder.mkdir()
        (folder / "ops.py").write_text(source)
        in_kit = api.check(folder, course=kit)
        assert _checks(in_kit) == _checks(api.check(folder, course=course))
        assert _scores(in_kit) == expected


def test_the_default_kit_refuses_float16_as_grade_does(tmp_path):
    from click.testing import CliRunner
    from dlgrade.cli import main

    kit = tmp_path / "kit"
    assert CliRunner().invoke(main, ["kit", "hw1", str(kit), "--course",
                                     str(FIXTURE)]).exit_code == 0
    folder = tmp_path / "half"
    folder.mkdir()
    (folder / "ops.py").write_text(HALF_EVERYTHING)
    result = api.check(folder, course=kit)
    assert result.score == 0
    assert REFUSED in _checks(result)[("hw1.cube", "forward")][1]


# ---------------------------------------------------------------- the one comparison


def test_compare_and_gradcheck_take_the_courses_dtypes():
    expected = np.linspace(1, 2, 50)
    half = expected.astype(np.float16)
    assert compare(half, expected).message == REFUSED
    assert compare(half, expected, dtypes={"float16": (1e-3, 1e-5)}).ok
    assert not compare(half, expected, dtypes={"float16": (1e-6, 1e-9)}).ok
    assert compare(expected.astype(np.float32), expected).ok
    with pytest.raises(gradcheck.GradcheckError, match="returned float16 values"):
        gradcheck.vjp_from_outputs(np.zeros((2, 3), np.float16), np.ones(3), 1e-6)
    picked = gradcheck.check_entries(np.ones(3, np.float16), gradcheck.Estimate(np.ones(1), 0),
                                     [(0,)], gradcheck.settings_for(np.float64))
    assert picked.reason == "dtype"


@pytest.mark.parametrize("dtypes", [{"bfloat16": (1e-2, 1e-3)}, {"int64": (0.0, 0.0)},
                                    {"float16": (1e-3,)}, {"float32": (-1.0, 0.0)}, {}])
def test_a_wrong_declaration_is_a_spec_error(dtypes):
    from dlgrade.authoring import Exercise, SpecError

    exercise = Exercise(id="hw1.x", title="X", module="ops", kind="loss", functions=("f",),
                        inputs=("x",), wrt=("x",), sample=lambda rng, shape, huge: {},
                        dtypes=dtypes)
    with pytest.raises(SpecError, match="dtypes"):
        exercise.validate()
