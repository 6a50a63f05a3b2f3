"""A1 (activations) content: the reference agrees with the torch oracles, is stable on huge
inputs, and every mutant fails exactly the checks it declares.

The checks here are an in-process model of the grader's (forward, backward, gradcheck,
stability); the graded run of the mutants lives with the engine's tests.
"""

from __future__ import annotations

import ast
import inspect
import warnings

import bundled
import numpy as np
import pytest
from dlgrade.core.compare import assert_close, compare
from dlgrade.courses.registry import assignment

reference = bundled.reference("activations")
ASSIGNMENT = bundled.COURSE.assignment("a1")
EXTREME = bundled.spec("a1.exercises").EXTREME
KINK_GAP = bundled.spec("a1.exercises").KINK_GAP
KINKED = bundled.spec("a1.exercises").KINKED
LIMIT = bundled.spec("a1.exercises").LIMIT

#: The activations CURRICULUM.md requires, in its order; the course may add more.
CURRICULUM = (
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu",
    "softplus", "gelu", "silu", "mish", "softmax", "log_softmax",
)  # fmt: skip
EXERCISES = {e.name: e for e in ASSIGNMENT.exercises}
#: Every exercise of the assignment: an exercise added to the course is tested like the rest.
NAMES = tuple(EXERCISES)
SEEDS = (0, 1, 2)


def _shapes(exercise):
    return exercise.public_shapes + exercise.hidden_shapes


def _case(exercise, seed, shape, huge):
    """Inputs and a random upstream gradient, drawn as the grader would."""
    rng = np.random.default_rng(seed)
    x = exercise.sample(rng, shape, huge)["x"]
    return x, rng.standard_normal(shape)


def _run(functions, exercise, x, params, dout):
    forward, backward = (functions[name] for name in exercise.functions)
    out, cache = forward(x.copy(), **params)
    return out, backward(dout.copy(), cache)


def _close(actual, expected, **tolerance):
    return compare(actual, expected, show_values=False, **tolerance).ok


# --- registration and samplers ----------------------------------------------------------


def test_registry_holds_the_curriculum_s_exercises():
    a1 = assignment("a1")
    assert a1 is ASSIGNMENT
    assert [n for n in NAMES if n in CURRICULUM] == list(CURRICULUM)  # all, in order
    for e in a1.exercises:
        e.validate()
        assert e.functions == (f"{e.name}_forward", f"{e.name}_backward")
        assert (e.kind, e.module, e.inputs, e.wrt) == ("layer", "activations", ("x",), ("x",))
        assert e.oracle is not None and e.hint
        assert sum(m.exercise == e.id for m in a1.mutants) >= 2
    assert len({m.id for m in a1.mutants}) == len(a1.mutants)
    assert any(len(shape) >= 3 for shape in EXERCISES["softmax"].hidden_shapes)
    assert any(len(shape) >= 3 for shape in EXERCISES["log_softmax"].hidden_shapes)


@pytest.mark.parametrize("name", NAMES)
def test_sampler(name):
    exercise = EXERCISES[name]
    gap = KINK_GAP if exercise.sample is KINKED else 0.0
    for shape in _shapes(exercise):
        for huge in (False, True):
            x, _ = _case(exercise, 0, shape, huge)
            again, _ = _case(exercise, 0, shape, huge)
            assert type(x) is np.ndarray and x.dtype == np.float64 and x.shape == shape
            np.testing.assert_array_equal(x, again)
            assert np.all(np.abs(x) >= gap)
            if huge:
                assert np.abs(x).max() <= EXTREME[1]
                assert x.max() >= EXTREME[0] and x.min() <= -EXTREME[0]
                assert np.sum(np.abs(x) <= LIMIT) >= 1
            else:
                assert np.abs(x).max() <= LIMIT


def test_samplers_handle_tiny_shapes():
    rng = np.random.default_rng(0)
    for exercise in EXERCISES.values():
        for shape in ((), (1,), (2,), (1, 1), (2, 1)):
            for huge in (False, True):
                x = exercise.sample(rng, shape, huge)["x"]
                assert type(x) is np.ndarray and x.dtype == np.float64
                assert x.shape == shape and np.all(np.isfinite(x))


# --- the reference ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_reference_matches_torch_oracle(name):
    exercise = EXERCISES[name]
    functions = vars(reference)
    for seed in SEEDS:
        for params in exercise.params:
            for shape in _shapes(exercise):
                for huge in (False, True):
                    x, dout = _case(exercise, seed, shape, huge)
                    out, dx = _run(functions, exercise, x, params, dout)
                    expected = exercise.oracle({"x": x}, dict(params), dout)
                    where = f"{exercise.id} {params} {shape} huge={huge} seed={seed}"
                    assert_close(out, expected["out"], name=f"out of {where}")
                    assert_close(dx, expected["dx"], name=f"dx of {where}")


def test_softplus_oracle_threshold_is_harmless():
    """F.softplus switches to the identity above x = 20; check across the switch."""
    x = np.linspace(15.0, 45.0, 301)
    dout = np.random.default_rng(0).standard_normal(x.shape)
    out, dx = _run(vars(reference), EXERCISES["softplus"], x, {}, dout)
    expected = EXERCISES["softplus"].oracle({"x": x}, {}, dout)
    assert_close(out, expected["out"], name="softplus out")
    assert_close(dx, expected["dx"], name="softplus dx")


@pytest.mark.parametrize("name", NAMES)
def test_reference_is_warning_free_on_huge_inputs(name):
    exercise = EXERCISES[name]
    for params in exercise.params:
        for shape in _shapes(exercise):
            x, dout = _case(exercise, 0, shape, huge=True)
            with warnings.catch_warnings(), np.errstate(over="warn", divide="warn", invalid="warn"):
                warnings.simplefilter("error")
                out, dx = _run(vars(reference), exercise, x, params, dout)
            assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))


def test_reference_source_is_template_ready():
    source = inspect.getsource(reference)
    tree = ast.parse(source)
    body = tree.body
    assert ast.get_docstring(tree)
    imports = [node for node in body if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(node) for node in imports] == ["import math", "import numpy as np"]
    functions = [node for node in body if isinstance(node, ast.FunctionDef)]
    assert len(body) == 1 + len(imports) + len(functions)
    expected = {f"{name}_{part}" for name in NAMES for part in ("forward", "backward")}
    assert {f.name for f in functions} == expected
    lines = source.splitlines()
    for f in functions:
        doc = ast.get_docstring(f)
        assert doc and "Args:" in doc and "Returns:" in doc, f.name
        region = lines[f.body[0].end_lineno : f.end_lineno + 1]  # the end marker is a comment
        assert region[0] == "    ### BEGIN SOLUTION", f.name
        assert region[-1] == "    ### END SOLUTION", f.name
    assert max(len(line) for line in lines) <= 100


# --- mutants ----------------------------------------------------------------------------
