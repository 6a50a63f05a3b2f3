"""A9 (generative models: VAE and GAN losses) content: the reference agrees with torch on
fresh seeds, the cases hit what the stability and mistake checks need, every mutant differs
from the reference on the observations of exactly the comparison checks it declares, and the
sample class and the torch-track fixture are graded end to end through the sandbox."""

from __future__ import annotations

import warnings

import bundled
import numpy as np
import pytest
from dlgrade.core.compare import compare
from dlgrade.courses import registry
from dlgrade.grading.cases import build_cases, observe_quietly
from dlgrade.grading.grader import grade_submission, program_expectations
from dlgrade.load.submission import Submission

generative = bundled.reference("generative")
ASSIGNMENT = bundled.COURSE.assignment("a9")
exercises = bundled.spec("a9.exercises")
oracles = bundled.spec("a9.oracles")

EXERCISES = {e.id: e for e in ASSIGNMENT.exercises}
MUTANTS = {m.id: m for m in ASSIGNMENT.mutants}
DIRECT = [e for e in ASSIGNMENT.exercises if e.kind != "program"]
PROGRAMS = [e for e in ASSIGNMENT.exercises if e.kind == "program"]
REQUIRED = ["a9.reparameterize", "a9.gaussian_kl", "a9.bce_reconstruction",
            "a9.mse_reconstruction", "a9.discriminator_loss", "a9.generator_loss"]


def test_a9_registers_the_curriculum_s_exercises_with_two_mistakes_each():
    assert ASSIGNMENT is registry.assignment("a9")
    assert [e for e in EXERCISES if e in REQUIRED] == REQUIRED
    assert ASSIGNMENT.tracks == ("numpy", "torch")
    for e in ASSIGNMENT.exercises:
        e.validate()
        assert sum(m.exercise == e.id for m in ASSIGNMENT.mutants) >= 2, e.id
    # the two-gradient losses are programs: the "loss" kind grades one gradient only
    assert {e.id for e in PROGRAMS} == {"a9.gaussian_kl", "a9.discriminator_loss"}


def _direct_values(exercise, inputs, params, rng):
    """The reference's observations on one case, and the dout a layer's backward got."""
    functions = [getattr(generative, n) for n in exercise.functions]
    if exercise.kind == "layer":
        out, cache = functions[0](*inputs.values(), **params)
        dout = rng.standard_normal(out.shape)
        grads = functions[1](dout, cache)
        return {"out": out, **dict(zip(exercise.grad_names, grads, strict=True))}, dout
    loss, grad = functions[0](*inputs.values(), **params)
    return {"loss": np.asarray(loss), exercise.grad_names[0]: grad}, None


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("exercise", DIRECT, ids=lambda e: e.id)
def test_reference_matches_torch_on_fresh_seeds(exercise, seed):
    pytest.importorskip("torch")
    rng = np.random.default_rng([9, seed])
    for shape in (*exercise.public_shapes, *exercise.hidden_shapes, (5, 3, 2)):
        for huge in (False, True) if exercise.stable else (False,):
            for params in exercise.params:
                inputs = exercise.sample(rng, shape, huge)
                # the stable forms warn of nothing (underflow to 0 is fine)
                with np.errstate(over="raise", divide="raise", invalid="raise"):
                    ours, dout = _direct_values(exercise, inputs, params, rng)
                theirs = exercise.oracle(inputs, params, dout)
                for name, value in theirs.items():
                    assert compare(ours[name], value).ok, (shape, huge, params, name)


@pytest.mark.parametrize("exercise", PROGRAMS, ids=lambda e: e.id)
def test_program_reference_agrees_with_torch(exercise):
    pytest.importorskip("torch")
    assert exercise.oracle_check() == []


def test_kl_is_nonnegative_and_zero_at_the_prior():
    rng = np.random.default_rng(4)
    mu, logvar = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    assert generative.gaussian_kl(mu, logvar)[0] > 0
    kl, dmu, dlogvar = generative.gaussian_kl(np.zeros((2, 4)), np.zeros((2, 4)))
    assert kl == 0.0 and not dmu.any() and not dlogvar.any()


# --- what the cases must contain -----------------------------------------------------------


def _stability_inputs(exercise_id):
    return [c.inputs for c in build_cases(EXERCISES[exercise_id], True) if c.huge]


def test_reparameterize_stability_needs_exp_of_half_logvar():
    for inputs in _stability_inputs("a9.reparameterize"):
        logvar = inputs["logvar"]
        assert logvar.max() > 709.8  # exp(logvar) overflows, exp(0.5 * logvar) does not
        assert np.isfinite(np.exp(0.5 * logvar)).all()


def test_bce_stability_saturates_and_standard_cases_stay_inside():
    for case in build_cases(EXERCISES["a9.bce_reconstruction"], True):
        prob, target = case.inputs["prob"], case.inputs["target"]
        if not case.huge:
            assert prob.min() >= 0.05 and prob.max() <= 0.95
            continue
        assert (prob == 0).any() and (prob == 1).any()
        assert ((prob == 0) & (target == 1)).any() and ((prob == 1) & (target == 0)).any()
        assert (np.log(prob[prob > 0]) < -100).any()  # the clamp at -100 is reached


def test_logits_reach_plus_and_minus_1e3_in_every_stability_case():
    for inputs in _stability_inputs("a9.generator_loss"):
        assert inputs["fake_logits"].max() == 1e3 and inputs["fake_logits"].min() == -1e3
    huge = [s for s in exercises.gan_scenarios(True) if s.label.startswith("stability")]
    assert len(huge) == 1 and not huge[0].hidden
    for logits in huge[0].steps[0].args:
        assert logits.max() == 1e3 and logits.min() == -1e3


def test_gan_batches_differ_in_size_publicly_so_one_mean_is_told_from_two():
    public = [s for s in exercises.gan_scenarios(False) if not s.label.startswith("stab")]
    assert any(s.steps[0].args[0].size != s.steps[0].args[1].size for s in public)


def test_kl_scenarios_grade_both_reductions_and_a_batch_of_one():
    calls = [s.steps[0] for s in exercises.kl_scenarios(True)]
    assert {(c.kwargs or {}).get("reduction", "batchmean") for c in calls} == {"batchmean",
                                                                               "sum"}
    assert any(c.args[0].shape[0] == 1 for c in calls)


# --- mutants: differ exactly on the observations of their declared comparison checks ------


def _direct_differences(mutant) -> set[str]:
    exercise = EXERCISES[mutant.exercise]
    functions = {n: getattr(generative, n) for n in exercise.functions}
    replaced = {**functions, **mutant.functions}
    if mutant.patch:
        from dlgrade.grading.mutants import patched_module

        module = patched_module(mutant)
        replaced = {n: getattr(module, n) for n in exercise.functions}
    value_check, grad_check = exercise.checks[:2]
    differing = set()
    for case in build_cases(exercise, True):
        ours = observe_quietly(exercise, functions, case)
        theirs = observe_quietly(exercise, replaced, case)
        assert ours is not None
        for name, value in ours.items():
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                same = theirs is not None and compare(theirs[name], value).ok
            if not same:
                differing.add("stability" if case.huge else
                              value_check if name == exercise.value_name else grad_check)
    return differing


def _program_differences(mutant) -> set[str]:
    exercise = EXERCISES[mutant.exercise]
    differing = set()
    for expectation in program_expectations(exercise, True):
        known = {m.id: v for m, v in expectation.known}
        assert mutant.id in known, "the mutant broke on a scenario"
        values = known[mutant.id]
        for check, names in expectation.scenario.compare.items():
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if any(not compare(values[n], expectation.reference[n]).ok for n in names):
                    differing.add(check)
    return differing


@pytest.mark.parametrize("mutant_id", list(MUTANTS))
def test_mutant_differs_where_declared(mutant_id):
    mutant = MUTANTS[mutant_id]
    program = EXERCISES[mutant.exercise].kind == "program"
    differing = _program_differences(mutant) if program else _direct_differences(mutant)
    # gradcheck is judged on the student's own function, through the sandbox (validate).
    assert differing == set(mutant.fails) - {"gradcheck"}


def test_the_issue_s_mistakes_are_all_declared():
    for wanted in ("a9.reparameterize:logvar_as_std", "a9.gaussian_kl:kl_sign",
                   "a9.generator_loss:saturating", "a9.generator_loss:naive_log_sigmoid",
                   "a9.discriminator_loss:naive_log_sigmoid"):
        assert wanted in MUTANTS


# --- graded end to end ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_class(root):
    found = {}
    for student in ("ada", "ben", "cleo", "dev"):
        result = grade_submission(Submission(student, root / "samples" / "class" / student),
                                  [ASSIGNMENT], hidden=True)
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
    assert ben["a9.reparameterize"].score == 0
    assert "logvar is used as the standard deviation" in ben["a9.reparameterize"].message
    assert ben["a9.generator_loss"].score == 0
    assert "the saturating generator loss" in ben["a9.generator_loss"].message
    passed = {i for i, e in ben.items() if e.status == "passed"}
    assert passed == set(REQUIRED) - {"a9.reparameterize", "a9.generator_loss"}


def test_cleo_is_graded_exercise_by_exercise(graded_class):
    cleo = graded_class["cleo"]
    assert cleo["a9.discriminator_loss"].status == "missing"
    assert cleo["a9.reparameterize"].status == cleo["a9.generator_loss"].status == "passed"
    kl = cleo["a9.gaussian_kl"]
    assert 0 < kl.score < kl.max_score and "dmu expected an array" in kl.message
    bce = cleo["a9.bce_reconstruction"]
    assert [c.name for c in bce.checks if c.score < c.max_score] == ["stability"]
    assert "not clamped at -100" in bce.message
    mse = cleo["a9.mse_reconstruction"]
    assert 0 < mse.score < mse.max_score and "A2's 'mean'" in mse.message


def test_torch_track_fixture_scores_full_marks_on_cpu(root):
    pytest.importorskip("torch")
    folder = root / "tests" / "fixtures" / "torch_track"
    result = grade_submission(Submission("torchy", folder), [ASSIGNMENT], hidden=True,
                              track={"name": "torch", "device": "cpu"})
    for e in result.exercises:
        assert e.status == "passed", (e.id, e.message)
