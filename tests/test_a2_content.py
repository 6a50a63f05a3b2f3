"""A2 (losses) content: the reference agrees with torch, is stable and validates ``reduction``;
every mutant fails exactly the checks it declares.

The checks are approximated in-process here, with seeds of our own (the graded path, through
the sandbox, is tests/test_exercises.py): loss / gradient on standard cases; gradcheck as
central differences of a function's own loss, failed as well where that loss is wrong (as the
grader scores it); stability on huge cases.
"""

from __future__ import annotations

import warnings

import bundled
import numpy as np
import pytest
from dlgrade.core.compare import assert_close
from dlgrade.spec.exercise import Exercise

losses = bundled.reference("losses")
ASSIGNMENT = bundled.COURSE.assignment("a2")

EXERCISES = {e.id: e for e in ASSIGNMENT.exercises}
MUTANTS = {m.id: m for m in ASSIGNMENT.mutants}
SEED = 2024
FD_STEP = 1e-6
FD_TOLERANCE = {"rtol": 1e-4, "atol": 1e-6}


def _cases(exercise: Exercise, huge: bool, shapes=None):
    """``(label, inputs, params)`` for every shape and parameter set, like the grader (which
    runs its stability cases at the exercise's stability_shapes; here the other shapes get
    one too)."""
    if shapes is None:
        shapes = exercise.public_shapes + exercise.hidden_shapes
        if huge:
            shapes += exercise.stability_shapes
    for index, shape in enumerate(shapes):
        rng = np.random.default_rng([SEED, index, int(huge)])
        inputs = exercise.sample(rng, shape, huge)
        for params in exercise.params:
            yield f"{exercise.id} shape={shape} params={params} huge={huge}", inputs, params


def _call(function, exercise: Exercise, inputs, params):
    return function(*(inputs[name] for name in exercise.inputs), **params)


def _reference(exercise: Exercise):
    return getattr(losses, exercise.functions[0])


def _all_cases(exercise: Exercise):
    yield from _cases(exercise, huge=False)
    if exercise.stable:
        yield from _cases(exercise, huge=True)


#: The losses CURRICULUM.md requires, in its order; the course may add more.
CURRICULUM = ("mse", "mae", "huber", "log_cosh", "bce", "bce_with_logits",
              "softmax_cross_entropy", "nll", "kl_div", "multiclass_hinge", "binary_focal")


def test_a2_registers_the_curriculum_s_losses():
    assert "a2" in bundled.COURSE.assignments  # loading the course validated it
    names = [e.name for e in ASSIGNMENT.exercises]
    assert [n for n in names if n in CURRICULUM] == list(CURRICULUM)  # all, in order
    for e in ASSIGNMENT.exercises:
        assert e.kind == "loss" and e.functions == (e.name + "_loss",)
        assert e.params[:2] == ({}, {"reduction": "sum"}) and 2 <= len(e.params) <= 4
        assert e.oracle is not None and e.hint


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_samplers_give_float64_inputs_and_int64_labels(exercise_id):
    exercise = EXERCISES[exercise_id]
    for label, inputs, _ in _all_cases(exercise):
        assert list(inputs) == list(exercise.inputs), label
        for name, value in inputs.items():
            expected = np.int64 if name == "y" else np.float64
            assert type(value) is np.ndarray and value.dtype == expected, (label, name)
            assert np.isfinite(value).all(), (label, name)
    if exercise.stable:
        for label, inputs, _ in _cases(exercise, huge=True):
            main = inputs[exercise.inputs[0]]
            if "target" in inputs and exercise.inputs[0] == "pred":
                main = main - inputs["target"]
            assert np.abs(main).max() >= 500, label  # of the order of 1e3


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_agrees_with_torch(exercise_id):
    exercise = EXERCISES[exercise_id]
    reference = _reference(exercise)
    grad_name = exercise.grad_names[0]
    for label, inputs, params in _all_cases(exercise):
        loss, grad = _call(reference, exercise, inputs, params)
        expected = exercise.oracle(inputs, dict(params), None)
        assert isinstance(loss, float), label
        assert_close(loss, expected["loss"], name=f"{label} loss")
        assert_close(grad, expected[grad_name], name=f"{label} {grad_name}")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_raises_no_floating_point_warning(exercise_id):
    exercise = EXERCISES[exercise_id]
    reference = _reference(exercise)
    with warnings.catch_warnings(), np.errstate(over="warn", divide="warn", invalid="warn"):
        warnings.simplefilter("error")
        for label, inputs, params in _all_cases(exercise):
            loss, grad = _call(reference, exercise, inputs, params)
            assert np.isfinite(loss) and np.isfinite(grad).all(), label


@pytest.mark.parametrize("exercise_id", EXERCISES)
@pytest.mark.parametrize("reduction", ["none", "avg", "MEAN", None])
def test_reference_rejects_unknown_reduction(exercise_id, reduction):
    exercise = EXERCISES[exercise_id]
    _, inputs, _ = next(_cases(exercise, huge=False))
    with pytest.raises(ValueError):
        _call(_reference(exercise), exercise, inputs, {"reduction": reduction})
    other_mean = "mean" if exercise.name == "kl_div" else "batchmean"
    with pytest.raises(ValueError):
        _call(_reference(exercise), exercise, inputs, {"reduction": other_mean})
