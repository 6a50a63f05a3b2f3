"""The gradient check's perturbed forward calls are asked for only where an answer is wrong
(issue 16): a correct student is not called at perturbed inputs at all, a wrong one is, and
the diagnosis the differences give is the same as before."""

from __future__ import annotations

from pathlib import Path

from dlgrade import api
from dlgrade.courses import course as courses
from dlgrade.grading.grader import expectations, grade_submission
from dlgrade.load.submission import Submission
from fixture_course import FIXTURE

COUNTING = """import numpy as np


def cube_forward(x):
    print("forward")
    return x**3, x


def cube_backward(dout, cache):
    return {backward}


def sq_loss(pred, target, scale=1.0):
    d = pred - target
    return scale * float((d * d).sum()), 2 * scale * d
"""


def _grade(tmp_path: Path, backward: str):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "ops.py").write_text(COUNTING.format(backward=backward))
    course = api.load_course(FIXTURE)
    courses.use(course)
    cube = course.exercise("hw1.cube")
    result = grade_submission(Submission("s", folder), course.resolve("hw1"), hidden=False,
                              only={"hw1.cube"})
    return result, len(expectations(cube, False))


def test_a_correct_student_is_never_called_at_perturbed_inputs(tmp_path):
    result, cases = _grade(tmp_path, "3 * cache**2 * dout")
    assert result.score == result.max_score
    assert result.output.count("forward") == cases  # once per case, no probe


def test_a_wrong_backward_gets_the_differences_and_their_diagnosis(tmp_path):
    result, cases = _grade(tmp_path, "cache**2 * dout")
    assert result.output.count("forward") > 10 * cases  # the perturbed inputs were asked
    cube = result.exercises[0]
    gradcheck = next(c for c in cube.checks if c.name == "gradcheck")
    assert gradcheck.score == 0
    said = "Your forward pass is right but your backward pass is not its derivative."
    assert said in cube.message
