"""A8 (attention) content: the reference agrees with torch (F.scaled_dot_product_attention,
nn.MultiheadAttention) on fresh seeds, the cases hold what the mistakes need (Tk != Tq, both
mask forms, fully masked rows, a stability offset where exp overflows), every mutant differs
from the reference on exactly the checks it declares, the sample class grades as
samples/EXPECTED.md says, and a tensor implementation scores full marks on the torch
track."""

from __future__ import annotations

import warnings

import bundled
import numpy as np
import pytest
from dlgrade.core.compare import compare
from dlgrade.courses import registry
from dlgrade.grading.cases import build_cases, observe_quietly
from dlgrade.grading.grader import grade_submission, program_expectations
from dlgrade.grading.mutants import mutant_functions
from dlgrade.load.submission import Submission

attention = bundled.reference("attention")
ASSIGNMENT = bundled.COURSE.assignment("a8")
exercises = bundled.spec("a8.exercises")
oracles = bundled.spec("a8.oracles")

EXERCISES = {e.id: e for e in ASSIGNMENT.exercises}
MUTANTS = {m.id: m for m in ASSIGNMENT.mutants}
LAYERS = [e for e in ASSIGNMENT.exercises if e.kind == "layer"]


def test_a8_registers_the_curriculum_s_exercises_with_two_mistakes_each():
    assert list(EXERCISES) == ["a8.attention", "a8.masked_attention",
                               "a8.multi_head_attention", "a8.positional_encoding"]
    assert ASSIGNMENT.tracks == ("numpy", "torch")
    for exercise_id in EXERCISES:
        assert sum(m.exercise == exercise_id for m in MUTANTS.values()) >= 2, exercise_id


def _reference_values(exercise, inputs, params, dout):
    forward, backward = (getattr(attention, n) for n in exercise.functions)
    out, cache = forward(*(np.array(v, copy=True) for v in inputs.values()), **params)
    grads = backward(dout, cache)
    return dict(zip(exercise.grad_names, grads, strict=True), out=out)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("exercise", LAYERS, ids=lambda e: e.id)
def test_layer_reference_matches_torch_on_fresh_seeds(exercise, seed):
    pytest.importorskip("torch")
    rng = np.random.default_rng([8, seed])
    plans = [(s, False) for s in (*exercise.public_shapes, *exercise.hidden_shapes)]
    if exercise.stable:
        plans += [(s, True) for s in exercise.stability_shapes]
    for shape, huge in plans:
        for params in exercise.params:
            inputs = exercise.sample(rng, shape, huge)
            forward = getattr(attention, exercise.functions[0])
            dout = rng.standard_normal(forward(*inputs.values(), **params)[0].shape)
            ours = _reference_values(exercise, inputs, params, dout)
            theirs = exercise.oracle(inputs, params, dout)
            assert set(theirs) == set(ours)
            for name, value in theirs.items():
                assert compare(ours[name], value).ok, (shape, huge, params, name)


def test_positional_encoding_reference_agrees_with_the_formula_and_the_tutorial():
    assert EXERCISES["a8.positional_encoding"].oracle_check() == []
    pe = attention.positional_encoding(3, 5)
    assert pe.shape == (3, 5) and pe.dtype == np.float64
    assert np.allclose(pe[0], [0, 1, 0, 1, 0])  # t = 0: sines 0, cosines 1
    assert np.isclose(pe[2, 4], np.sin(2 / 10000 ** (4 / 5)))  # odd d: the last column a sine


def test_fully_masked_rows_give_zeros_and_no_gradient_as_documented():
    rng = np.random.default_rng(5)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 4))
    mask = np.ones((2, 3, 5), dtype=bool)
    mask[1, 2] = False
    mask[0, 0, :3] = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        out, cache = attention.scaled_dot_product_attention_forward(q, k, v, mask)
        dq, dk, dv = attention.scaled_dot_product_attention_backward(np.ones(out.shape), cache)
    assert np.all(out[1, 2] == 0) and np.all(dq[1, 2] == 0)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dk)) and np.all(np.isfinite(dv))
    # Keys 0..2 of batch 0 get attention from queries 1 and 2 only; the 2-D form broadcasts.
    shared, _ = attention.scaled_dot_product_attention_forward(q, k, v, mask[1])
    per_example, _ = attention.scaled_dot_product_attention_forward(q, k, v,
                                                                    np.stack([mask[1]] * 2))
    assert np.array_equal(shared, per_example)


def test_attention_cases_have_tk_different_from_tq():
    for exercise in LAYERS:
        for case in build_cases(exercise, True):
            first, second = list(case.inputs.values())[:2]
            assert first.shape[1] != second.shape[1], (exercise.id, case.label)


def test_the_stability_case_overflows_an_unshifted_exp_and_keeps_gradients_visible():
    exercise = EXERCISES["a8.attention"]
    (case,) = [c for c in build_cases(exercise, True) if c.huge]
    q, k, _ = case.inputs.values()
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1])
    assert scores[0].min() > 709.8 and scores[1].max() < -745  # exp: inf, and 0 / 0
    spread = scores.max(axis=-1) - scores.min(axis=-1)
    assert spread.max() < 20  # far from one-hot: the softmax's gradient is not ~0
    with np.errstate(all="raise"):
        ours = observe_quietly(exercise, {n: getattr(attention, n) for n in exercise.functions},
                               case)
    assert ours is not None and all(np.all(np.isfinite(v)) for v in ours.values())


def test_masks_take_both_forms_and_always_hold_a_fully_masked_row_where_tq_is_3_or_more():
    exercise = EXERCISES["a8.masked_attention"]
    forms = {False: set(), True: set()}
    for case in build_cases(exercise, True):
        q, k, _, mask = case.inputs.values()
        n, tq, tk = q.shape[0], q.shape[1], k.shape[1]
        assert mask.dtype == bool
        assert mask.shape == ((tq, tk) if n % 2 else (n, tq, tk))
        forms[case.hidden].add(mask.ndim)
        rows = mask.reshape(-1, tk)
        full = ~rows.any(axis=1)
        assert list(np.flatnonzero(full)) == ([tq - 1] if tq >= 3 else [])
        assert not rows.all()
    assert forms == {False: {2, 3}, True: {2, 3}}


def test_mask_sampler_guarantees_hold_for_many_draws():
    """The hidden masks come from the secret: the guarantees are the sampler's, for any
    generator. A mask whose rows are each all allowed or all forbidden would give the
    masking-after-the-softmax mistake the right values (a fresh clone's secret once drew
    one: ben's mistake scored a sixth of the exercise)."""
    for seed in range(2000):
        rng = np.random.default_rng(seed)
        n, tq, tk = int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(2, 7))
        rows = exercises.mask_for(rng, n, tq, tk).reshape(-1, tk)
        full = np.flatnonzero(~rows.any(axis=1))
        assert list(full) == ([tq - 1] if tq >= 3 else []) and not rows.all()
        assert any(row.any() and not row.all() for row in rows), (seed, rows)


def test_positional_encoding_cases_cover_even_and_odd_d_in_public_and_hidden():
    plans = exercises.pe_plans(True)
    for secret in (False, True):
        ds = [d for _label, hidden, _t, d in plans if hidden == secret]
        assert any(d % 2 for d in ds) and any(d % 2 == 0 for d in ds)
    assert all(t >= 3 and d >= 4 for _label, _hidden, t, d in plans)


# --- mutants: differ exactly on the observations of their declared comparison checks ------


def _layer_differences(mutant) -> set[str]:
    exercise = EXERCISES[mutant.exercise]
    functions = {n: getattr(attention, n) for n in exercise.functions}
    theirs_functions = mutant_functions(mutant, exercise.functions)
    differing = set()
    for case in build_cases(exercise, True):
        ours = observe_quietly(exercise, functions, case)
        theirs = observe_quietly(exercise, theirs_functions, case)
        assert ours is not None
        for name, value in ours.items():
            with np.errstate(all="ignore"):
                if theirs is None or not compare(theirs[name], value).ok:
                    differing.add("stability" if case.huge else
                                  ("forward" if name == "out" else "backward"))
    return differing


def _program_differences(mutant) -> set[str]:
    exercise = EXERCISES[mutant.exercise]
    differing = set()
    for expectation in program_expectations(exercise, True):
        known = dict((m.id, v) for m, v in expectation.known)
        assert mutant.id in known, "the mutant broke on a scenario"
        for check, names in expectation.scenario.compare.items():
            if any(not compare(known[mutant.id][n], expectation.reference[n]).ok
                   for n in names):
                differing.add(check)
    return differing


@pytest.mark.parametrize("mutant_id", list(MUTANTS))
def test_mutant_differs_where_declared(mutant_id):
    mutant = MUTANTS[mutant_id]
    layer = EXERCISES[mutant.exercise].kind == "layer"
    differing = _layer_differences(mutant) if layer else _program_differences(mutant)
    # gradcheck is judged through the sandbox (dlgrade validate grades every mutant there).
    assert differing == set(mutant.fails) - {"gradcheck"}


# --- the sample class and the torch track, through real sandboxed children ---------------


@pytest.fixture(scope="module")
def sample_class(root):
    graded = {}
    for student in ("ada", "ben", "cleo", "dev"):
        folder = root / "samples" / "class" / student
        result = grade_submission(Submission(student, folder), [registry.assignment("a8")],
                                  hidden=True)
        graded[student] = {e.id: e for e in result.exercises}
    return graded


def test_ada_scores_full_marks_and_dev_scores_zero(sample_class):
    for e in sample_class["ada"].values():
        assert e.status == "passed" and e.score == e.max_score, (e.id, e.message)
    for e in sample_class["dev"].values():
        assert e.score == 0 and e.status == "not_attempted", (e.id, e.status)


def test_ben_s_mistakes_are_named(sample_class):
    ben = sample_class["ben"]
    assert ben["a8.attention"].status == "passed"
    assert ben["a8.multi_head_attention"].status == "passed"
    assert ben["a8.masked_attention"].score == 0
    assert MUTANTS["a8.masked_attention:mask_after_softmax"].mistake in \
        ben["a8.masked_attention"].message
    assert ben["a8.positional_encoding"].score == 0
    assert MUTANTS["a8.positional_encoding:sin_cos_swapped"].mistake in \
        ben["a8.positional_encoding"].message


def test_cleo_nan_rows_are_named_missing_and_crashing_functions_reported(sample_class):
    cleo = sample_class["cleo"]
    assert cleo["a8.attention"].status == "passed"
    masked = cleo["a8.masked_attention"]
    assert 0 < masked.score < masked.max_score
    assert MUTANTS["a8.masked_attention:fully_masked_nan"].mistake in masked.message
    assert cleo["a8.multi_head_attention"].status == "missing"
    pe = cleo["a8.positional_encoding"]
    assert {c.name for c in pe.checks if c.score < c.max_score} == {"odd_d"}
    assert "ValueError" in pe.message


def test_tensor_code_scores_full_marks_on_the_torch_track(root):
    pytest.importorskip("torch")
    folder = root / "tests" / "fixtures" / "torch_track"
    result = grade_submission(Submission("torchy", folder), [registry.assignment("a8")],
                              hidden=True, track={"name": "torch", "device": "cpu"})
    for e in result.exercises:
        assert e.status == "passed" and e.score == e.max_score, (e.id, e.message)
