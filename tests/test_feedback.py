"""Grading fidelity and feedback on real student code (issue 12, part A), graded through real
children: on the fixture course (tests/fixtures/course, hw1: the cube layer, 5 points, and
the squared-error loss, 3 points) and, for the bundled course's own promises, on A1."""

from __future__ import annotations

import textwrap

import pytest
from dlgrade import api
from dlgrade.core.compare import NEAR_FACTOR, SHAPE_CREDIT
from dlgrade.grading.grader import grade_submission
from dlgrade.load.submission import Submission
from fixture_course import FIXTURE

RIGHT_CUBE = """
def cube_forward(x):
    return x * x * x, x


def cube_backward(dout, cache):
    return 3 * cache * cache * dout
"""
RIGHT_SQ = """
def sq_loss(pred, target, scale=1.0):
    d = pred - target
    return scale * float((d * d).sum()), 2 * scale * d
"""


@pytest.fixture
def course():
    return api.load_course(FIXTURE)


def _grade(course, tmp_path, cube=RIGHT_CUBE, sq=RIGHT_SQ, hidden=False):
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "ops.py").write_text("import numpy as np\n" + textwrap.dedent(cube)
                                   + textwrap.dedent(sq))
    result = grade_submission(Submission("s", folder), [course.assignment("hw1")],
                              hidden=hidden)
    return {e.id: e for e in result.exercises}


def _check(exercise, name):
    return next(c for c in exercise.checks if c.name == name)


# ------------------------------------------------------------- 1. singleton dimensions


def test_a_loss_of_shape_1_keeps_its_values_credit_less_the_stated_deduction(course, tmp_path):
    sq = """
    def sq_loss(pred, target, scale=1.0):
        d = pred - target
        return scale * np.sum(d * d).reshape(1), 2 * scale * d
    """
    e = _grade(course, tmp_path, sq=sq)["hw1.sq"]
    loss = _check(e, "loss")
    assert loss.score == pytest.approx(SHAPE_CREDIT * loss.max_score), e.message
    assert ("loss has shape (1,) where () is expected; the values are right, so this check "
            f"gets {SHAPE_CREDIT:.0%} of its credit") in loss.message
    others = [c for c in e.checks if c.name != "loss"]
    assert all(c.score == c.max_score for c in others), e.message
    assert e.status == "partial"


def test_an_output_with_an_extra_leading_axis_keeps_its_values_credit(course, tmp_path):
    cube = """
    def cube_forward(x):
        return (x * x * x)[None], x


    def cube_backward(dout, cache):
        return (3 * cache * cache * dout.reshape(cache.shape))[None]
    """
    e = _grade(course, tmp_path, cube=cube)["hw1.cube"]
    for name in ("forward", "backward"):
        check = _check(e, name)
        assert check.score == pytest.approx(SHAPE_CREDIT * check.max_score), e.message
    assert "out has shape (1, 3, 4) where (3, 4) is expected" in e.message
    assert e.score == pytest.approx(e.max_score * 0.9 + _check(e, "gradcheck").max_score * 0.1)


def test_right_size_wrong_values_in_another_shape_gets_nothing(course, tmp_path):
    cube = """
    def cube_forward(x):
        return (2 * x * x * x)[None], x


    def cube_backward(dout, cache):
        return 3 * cache * cache * dout
    """
    e = _grade(course, tmp_path, cube=cube)["hw1.cube"]
    assert _check(e, "forward").score == 0, e.message


# ------------------------------------------------------------- 2. a slightly-off forward


@pytest.mark.parametrize(("factor", "forgiven"), [(1e-5, True), (1e-2, False)])
def test_backward_credit_follows_the_gradcheck_of_a_slightly_off_forward(course, tmp_path,
                                                                          factor, forgiven):
    cube = f"""
    def cube_forward(x):
        return x * x * x * (1 + {factor}), x


    def cube_backward(dout, cache):
        return 3 * cache * cache * dout * (1 + {factor})
    """
    e = _grade(course, tmp_path, cube=cube, hidden=True)["hw1.cube"]
    assert _check(e, "forward").score == 0, e.message
    backward, gradcheck = _check(e, "backward"), _check(e, "gradcheck")
    if forgiven:
        assert backward.score == backward.max_score and gradcheck.score == gradcheck.max_score
        assert (f"only slightly off (within {NEAR_FACTOR:g} times the tolerance) and your "
                "gradient is the derivative of your own out") in e.message
    else:
        assert backward.score == 0 and gradcheck.score == 0, e.message


# ------------------------------------------------------------- 3. stubs that return None


@pytest.mark.parametrize("cube", [
    """
    def cube_forward(x):
        pass


    def cube_backward(dout, cache):
        pass
    """,
    """
    def cube_forward(x):
        out, cache = None, None
        return out, cache


    def cube_backward(dout, cache):
        dx = None
        return dx
    """,
    """
    def cube_forward(x):
        return None


    def cube_backward(dout, cache):
        raise NotImplementedError
    """,
])
def test_a_stub_that_returns_none_is_not_attempted(course, tmp_path, cube):
    e = _grade(course, tmp_path, cube=cube)["hw1.cube"]
    assert e.score == 0 and e.status == "not_attempted", (e.status, e.message)
    assert "cube_forward" in e.message and "not implemented yet" in e.message


def test_a_loss_stub_that_returns_none_is_not_attempted(course, tmp_path):
    sq = """
    def sq_loss(pred, target, scale=1.0):
        return None
    """
    e = _grade(course, tmp_path, sq=sq)["hw1.sq"]
    assert e.status == "not_attempted", e.message
    assert e.message == "sq_loss is not implemented yet (it returns None)."


def test_none_from_an_attempt_that_also_raises_is_still_an_error(course, tmp_path):
    cube = """
    def cube_forward(x):
        if x.shape[0] == 3:
            raise ValueError("boom")
        return None


    def cube_backward(dout, cache):
        return None
    """
    e = _grade(course, tmp_path, cube=cube, hidden=True)["hw1.cube"]
    assert e.status == "error", e.message


# ------------------------------------------------------------- 6. headlines and hints


@pytest.mark.parametrize(("backward", "said"), [
    ("raise ValueError('not today')", "Your forward pass is right, but cube_backward raised "
                                      "ValueError: not today"),
    ("return (3 * cache * cache * dout)[:, :2]", "Your forward pass is right, but "
                                                  "cube_backward returns dx in the wrong shape"),
    ("return None", "Your forward pass is right, but cube_backward returns None for dx"),
    ("raise NotImplementedError", "Your forward pass is right, but cube_backward is not "
                                  "implemented yet"),
])
def test_the_headline_says_what_happened_to_the_backward(course, tmp_path, backward, said):
    cube = f"""
    def cube_forward(x):
        return x * x * x, x


    def cube_backward(dout, cache):
        {backward}
    """
    e = _grade(course, tmp_path, cube=cube)["hw1.cube"]
    assert said in e.message, e.message
    assert "is not its derivative" not in e.message


def test_a_wrong_valued_backward_keeps_the_derivative_headline(course, tmp_path):
    cube = """
    def cube_forward(x):
        return x * x * x, x


    def cube_backward(dout, cache):
        return 3 * cache * dout
    """
    e = _grade(course, tmp_path, cube=cube)["hw1.cube"]
    assert "Your forward pass is right but your backward pass is not its derivative." \
        in e.message


def test_an_offset_loss_is_named_as_an_offset(course, tmp_path):
    sq = """
    def sq_loss(pred, target, scale=1.0):
        d = pred - target
        return scale * float((d * d).sum()) + 1.0, 2 * scale * d
    """
    e = _grade(course, tmp_path, sq=sq)["hw1.sq"]
    assert "loss is 1 too high." in e.message, e.message
    assert "constant factor" not in e.message


def test_hints_follow_the_failed_check_and_the_named_mistake(course, tmp_path):
    """The fixture cube's hint is about the derivative: a per-check hint replaces it for
    the check that failed first, and a known mistake's own hint wins over both."""
    from dataclasses import replace

    hw1 = course.assignment("hw1")
    cube = next(e for e in hw1.exercises if e.id == "hw1.cube")
    hinted = replace(cube, hints={"forward": "out = x ** 3."})
    mutants = tuple(replace(m, hint="Keep the 3 of 3 x^2.") if m.name == "no_three" else m
                    for m in hw1.mutants)
    assignment = replace(hw1, exercises=(hinted,), mutants=mutants)
    course.assignments["hw1"] = assignment
    try:
        folder = tmp_path / "s"
        folder.mkdir()
        wrong_forward = RIGHT_CUBE.replace("x * x * x, x", "x * x, x")
        for source, hint in ((wrong_forward, "out = x ** 3."),
                             (RIGHT_CUBE.replace("3 * cache", "cache"), "Keep the 3 of 3 x^2."),
                             (RIGHT_CUBE.replace("3 * cache * cache", "3 * cache"),
                              "d/dx x^3 = 3 x^2.")):
            (folder / "ops.py").write_text(source)
            e = grade_submission(Submission("s", folder), [assignment], hidden=False,
                                 only={"hw1.cube"}).exercises[0]
            assert e.hint == hint, (e.hint, e.message)
    finally:
        course.assignments["hw1"] = hw1


# ------------------------------------------------------------- 5 and 6 on the bundled A1


def _grade_a1(tmp_path, source, exercise_id, hidden=False):
    import bundled

    bundled.use()
    (tmp_path / "activations.py").write_text("import numpy as np\n" + textwrap.dedent(source))
    from dlgrade.courses import registry

    result = grade_submission(Submission("s", tmp_path), [registry.assignment("a1")],
                              hidden=hidden, only={exercise_id})
    return result.exercises[0]


NAIVE_SIGMOID = """
def sigmoid_forward(x):
    out = 1.0 / (1.0 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    return dout * cache * (1.0 - cache)
"""


def test_a_naive_sigmoid_that_overflows_fails_the_stability_check(tmp_path):
    """Its values come out right (1 / inf is 0) but the template forbids the overflow."""
    e = _grade_a1(tmp_path, NAIVE_SIGMOID, "a1.sigmoid")
    stability = _check(e, "stability")
    assert stability.score == 0, e.message
    assert "sigmoid_forward raised RuntimeWarning: overflow encountered in exp" in \
        stability.message
    assert all(c.score == c.max_score for c in e.checks if c.name != "stability")
    assert e.hint.startswith("Rewrite the formula for x < 0")


def test_a_sigmoid_backward_bug_gets_the_backward_hint(tmp_path):
    source = NAIVE_SIGMOID.replace("np.exp(-x))", "np.exp(-np.clip(x, -500, 500)))").replace(
        "dout * cache * (1.0 - cache)", "dout * cache")
    e = _grade_a1(tmp_path, source, "a1.sigmoid")
    assert _check(e, "backward").score == 0, e.message
    assert e.hint.startswith("The derivative is out * (1 - out)"), e.hint


def test_a_softmax_over_axis_1_fails_a_public_case(tmp_path):
    """The template promises the last axis for any shape; a hidden (3, 4, 6) case tests it,
    so a public 3-D case does too."""
    source = """
    def softmax_forward(x):
        shifted = np.exp(x - x.max(axis=1, keepdims=True))
        out = shifted / shifted.sum(axis=1, keepdims=True)
        return out, out


    def softmax_backward(dout, cache):
        return cache * (dout - (dout * cache).sum(axis=1, keepdims=True))
    """
    e = _grade_a1(tmp_path, source, "a1.softmax")
    assert _check(e, "forward").score < _check(e, "forward").max_score, e.message
    assert "shape (2, 3, 4)" in e.message
    assert e.hint.startswith("Work along the last axis"), e.hint
