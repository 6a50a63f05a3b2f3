"""A7 (recurrent layers) content: the reference agrees with PyTorch's nn.RNNCell, nn.RNN,
nn.LSTMCell, nn.GRUCell and nn.Embedding on fresh seeds, the cases have the properties the
mistakes need (T >= 2, H != D, repeated indices, overflowing pre-activations), every mutant
differs from the reference on exactly the comparison checks it declares, and the sample
class and the torch-track fixture are graded end to end through the sandbox."""

from __future__ import annotations

import warnings

import bundled
import numpy as np
import pytest
from dlgrade.core.compare import compare
from dlgrade.courses import registry, templates
from dlgrade.grading.cases import build_cases, observe_quietly
from dlgrade.grading.grader import grade_submission, program_expectations
from dlgrade.grading.mutants import mutant_functions
from dlgrade.load.submission import Submission

rnn = bundled.reference("rnn")
ASSIGNMENT = bundled.COURSE.assignment("a7")
exercises = bundled.spec("a7.exercises")
oracles = bundled.spec("a7.oracles")

EXERCISES = {e.id: e for e in ASSIGNMENT.exercises}
MUTANTS = {m.id: m for m in ASSIGNMENT.mutants}
LAYERS = [e for e in ASSIGNMENT.exercises if e.kind == "layer"]


def test_a7_registers_the_curriculum_s_exercises():
    assert list(EXERCISES) == ["a7.rnn_step", "a7.rnn_sequence", "a7.lstm_step",
                               "a7.gru_step", "a7.embedding"]
    assert ASSIGNMENT.tracks == ("numpy", "torch")
    assert EXERCISES["a7.rnn_sequence"].builds_on == ("a7.rnn_step",)
    assert EXERCISES["a7.embedding"].wrt == ("W",)  # integer indices: no dx


def test_every_exercise_has_two_or_more_mistakes_and_the_issue_s_are_in():
    for exercise_id in EXERCISES:
        assert sum(m.exercise == exercise_id for m in MUTANTS.values()) >= 2, exercise_id
    for wanted in ("a7.rnn_sequence:not_accumulated", "a7.rnn_sequence:h_prev_gradient_dropped",
                   "a7.lstm_step:gates_ifgo", "a7.gru_step:gates_zr",
                   "a7.embedding:repeats_overwritten"):
        assert wanted in MUTANTS


# --- the reference against torch, on fresh seeds ------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("exercise", LAYERS, ids=lambda e: e.id)
def test_layer_reference_matches_torch_on_fresh_seeds(exercise, seed):
    pytest.importorskip("torch")
    rng = np.random.default_rng([17, seed])
    forward, backward = (getattr(rnn, n) for n in exercise.functions)
    huges = (False, True) if exercise.stable else (False,)
    for shape in (*exercise.public_shapes, *exercise.hidden_shapes):
        for huge in huges:
            inputs = exercise.sample(rng, shape, huge)
            out, cache = forward(*inputs.values())
            dout = rng.standard_normal(out.shape)
            grads = backward(dout, cache)
            grads = (grads,) if len(exercise.wrt) == 1 else grads
            ours = dict(zip(exercise.grad_names, grads, strict=True), out=out)
            theirs = exercise.oracle(inputs, {}, dout)
            assert set(theirs) == set(ours)
            for name, value in theirs.items():
                assert compare(ours[name], value).ok, (shape, huge, name)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lstm_reference_matches_torch_on_fresh_seeds(seed):
    pytest.importorskip("torch")
    rng = np.random.default_rng([19, seed])
    for n, d, h in ((2, 3, 4), (1, 5, 2), (4, 2, 6)):
        inputs = exercises.lstm_inputs(rng, n, d, h)
        dnext_h, dnext_c = rng.standard_normal((2, n, h))
        next_h, next_c, cache = rnn.lstm_step_forward(*inputs.values())
        grads = rnn.lstm_step_backward(dnext_h, dnext_c, cache)
        ours = dict(zip(exercises.LSTM_GRADS, grads, strict=True), next_h=next_h, next_c=next_c)
        theirs = oracles.lstm_torch(inputs, dnext_h, dnext_c)
        for name, value in theirs.items():
            assert compare(ours[name], value).ok, (n, d, h, name)


def test_lstm_reference_agrees_with_its_oracle_on_every_scenario():
    pytest.importorskip("torch")
    assert EXERCISES["a7.lstm_step"].oracle_check() == []


def test_the_lstm_pair_is_the_forward_regrouped():
    inputs = exercises.lstm_inputs(np.random.default_rng(5), 2, 3, 4)
    (pair_h, pair_c), _ = rnn.lstm_step_forward_pair(*inputs.values())
    next_h, next_c, _ = rnn.lstm_step_forward(*inputs.values())
    assert np.array_equal(pair_h, next_h) and np.array_equal(pair_c, next_c)


def test_the_template_provides_the_lstm_pair_unchanged_and_stubs_the_rest():
    text = next(f.text for f in templates.plan(bundled.COURSE) if f.target.name == "rnn.py")
    assert "next_h, next_c, cache = lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)\n" \
        "    return (next_h, next_c), cache" in text
    for fn, exercise_id in (("rnn_step_forward", "a7.rnn_step"), ("rnn_backward",
                            "a7.rnn_sequence"), ("lstm_step_backward", "a7.lstm_step"),
                            ("gru_step_forward", "a7.gru_step"),
                            ("embedding_backward", "a7.embedding")):
        assert f'NotImplementedError("{exercise_id}: implement {fn}")' in text


# --- the cases have what the mistakes need -------------------------------------------------


def test_sizes_differ_sequences_are_long_and_embeddings_repeat_an_index():
    for exercise in LAYERS:
        for case in build_cases(exercise, True):
            inputs = case.inputs
            if "Wx" in inputs:  # hidden size != input size
                assert inputs["Wx"].shape[0] != inputs["Wh"].shape[0], exercise.id
            if exercise.id == "a7.rnn_sequence":
                assert inputs["x"].shape[1] >= 2
            if exercise.id == "a7.embedding":
                x = inputs["x"]
                assert x.dtype.kind == "i" and len(np.unique(x)) < x.size
                assert x.max() < inputs["W"].shape[0] != inputs["W"].shape[1]
    for scenario in exercises.lstm_scenarios(True):
        x, h_prev = scenario.steps[0].args[:2]
        assert x.shape[1] != h_prev.shape[1]


def test_the_stability_case_overflows_a_tanh_made_of_exp_and_keeps_moderate_rows():
    (case,) = [c for c in build_cases(EXERCISES["a7.rnn_step"], False) if c.huge]
    x, h_prev, Wx, Wh, b = case.inputs.values()
    a = x @ Wx + h_prev @ Wh + b
    assert a.max() > 355 and a.min() < -355  # exp(2a) overflows float64 above a ~ 354.9
    assert np.abs(a[1:]).max() < 20  # the other rows are not saturated: gradients show
    out, cache = rnn.rnn_step_forward(*case.inputs.values())
    grads = rnn.rnn_step_backward(case.dout, cache)
    assert all(np.isfinite(g).all() for g in (out, *grads))


# --- mutants: differ exactly on the observations of their declared comparison checks ------


def _layer_differences(mutant) -> set[str]:
    exercise = EXERCISES[mutant.exercise]
    functions = {n: getattr(rnn, n) for n in exercise.functions}
    theirs_functions = {**functions, **mutant_functions(mutant, exercise.functions)}
    differing = set()
    for case in build_cases(exercise, True):
        ours = observe_quietly(exercise, functions, case)
        theirs = observe_quietly(exercise, theirs_functions, case)
        assert ours is not None
        for name, value in ours.items():
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if theirs is None or not compare(theirs[name], value).ok:
                    differing.add("stability" if case.huge else
                                  "forward" if name == "out" else "backward")
    return differing


def _program_differences(mutant) -> set[str]:
    exercise = EXERCISES[mutant.exercise]
    differing = set()
    for expectation in program_expectations(exercise, True):
        known = {m.id: v for m, v in expectation.known}
        assert mutant.id in known, "the mutant broke on a scenario"
        for check, names in expectation.scenario.compare.items():
            if any(not compare(known[mutant.id][n], expectation.reference[n]).ok for n in names):
                differing.add(check)
    return differing


@pytest.mark.parametrize("mutant_id", list(MUTANTS))
def test_mutant_differs_where_declared(mutant_id):
    mutant = MUTANTS[mutant_id]
    layer = EXERCISES[mutant.exercise].kind == "layer"
    differing = _layer_differences(mutant) if layer else _program_differences(mutant)
    # gradcheck is judged on the student's own forward, through the sandbox (validate).
    assert differing == set(mutant.fails) - {"gradcheck"}


# --- graded end to end, through the sandbox ------------------------------------------------


@pytest.fixture(scope="module")
def graded_class(root):
    assignment = registry.assignment("a7")
    found = {}
    for student in ("ada", "ben", "cleo", "dev"):
        result = grade_submission(Submission(student, root / "samples" / "class" / student),
                                  [assignment], hidden=True)
        found[student] = {e.id: e for e in result.exercises}
    return found


def test_ada_scores_full_marks(graded_class):
    for e in graded_class["ada"].values():
        assert e.status == "passed", (e.id, e.message)


def test_dev_the_template_scores_zero(graded_class):
    for e in graded_class["dev"].values():
        assert e.score == 0 and e.status == "not_attempted", (e.id, e.status)


def test_ben_s_mistakes_are_named(graded_class):
    ben = graded_class["ben"]
    assert {i for i, e in ben.items() if e.status != "passed"} == {"a7.rnn_sequence",
                                                                   "a7.embedding"}
    assert "not accumulated over time" in ben["a7.rnn_sequence"].message
    assert "a repeated index keeps one of its gradients" in ben["a7.embedding"].message
    assert 0 < ben["a7.rnn_sequence"].score < ben["a7.rnn_sequence"].max_score


def test_cleo_s_errors_are_reported(graded_class):
    cleo = graded_class["cleo"]
    assert cleo["a7.rnn_step"].status == cleo["a7.embedding"].status == "passed"
    assert cleo["a7.rnn_sequence"].score == 0 and "ValueError" in cleo["a7.rnn_sequence"].message
    assert "does not define lstm_step_forward_pair()" in cleo["a7.lstm_step"].message
    assert "does not define gru_step_forward()" in cleo["a7.gru_step"].message


def test_the_torch_track_fixture_scores_full_marks(root):
    pytest.importorskip("torch")
    result = grade_submission(Submission("torchy", root / "tests" / "fixtures" / "torch_track"),
                              [registry.assignment("a7")], hidden=True,
                              track={"name": "torch", "device": "cpu"})
    for e in result.exercises:
        assert e.status == "passed", (e.id, e.message)
