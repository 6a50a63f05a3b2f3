"""A5 (regularisation, normalisation, initialisation) content, in-process: the reference
agrees with the torch oracles and closed forms, the statistical properties accept correct
draws and name the known mistakes, and the batch-norm layer cases stay free of running
averages. The graded run of the mutants lives in tests/test_exercises.py."""

from __future__ import annotations

import bundled
import numpy as np
import pytest
from dlgrade.core.compare import compare
from dlgrade.courses.registry import assignment
from dlgrade.grading.cases import build_cases, observe
from dlgrade.grading.grader import _error_text
from dlgrade.spec import scenarios

init = bundled.reference("initializers")
norm = bundled.reference("normalization")
reg = bundled.reference("regularization")
ASSIGNMENT = bundled.COURSE.assignment("a5")
exercises = bundled.spec("a5.exercises")

EXERCISES = {e.name: e for e in ASSIGNMENT.exercises}
NAMES = ("dropout", "l1_penalty", "l2_penalty", "early_stopping", "batchnorm",
         "batchnorm_running", "layernorm", "xavier_uniform", "xavier_normal", "he_normal",
         "he_uniform", "lecun_normal", "orthogonal")


def test_registry_holds_the_exercises_and_every_one_has_two_mutants():
    a5 = assignment("a5")
    assert a5 is ASSIGNMENT  # every exercise CURRICULUM.md requires, in order; more may come
    assert [e.name for e in a5.exercises if e.name in NAMES] == list(NAMES)
    for e in a5.exercises:
        e.validate()
        assert sum(m.exercise == e.id for m in a5.mutants) >= 2, e.id


@pytest.mark.parametrize("name", ["batchnorm", "layernorm", "l1_penalty", "l2_penalty"])
def test_reference_agrees_with_torch_on_every_case(name):
    ex = EXERCISES[name]
    functions = {n: getattr(norm if ex.module == "normalization" else reg, n)
                 for n in ex.functions}
    for case in build_cases(ex, True):
        ours = observe(ex, functions, case)
        theirs = ex.oracle(dict(case.inputs), dict(case.params), case.dout)
        for key, value in ours.items():
            assert compare(value, theirs[key]).ok, (case.describe(), key)


def test_batchnorm_layer_cases_never_carry_running_averages():
    ex = EXERCISES["batchnorm"]
    for case in build_cases(ex, True):
        observe(ex, {n: getattr(norm, n) for n in ex.functions}, case)
        assert set(case.params["bn_param"]) <= {"mode", "eps"}
        assert "running" not in case.describe()


def test_batchnorm_running_averages_start_from_zeros_and_test_mode_uses_them():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3))
    bn_param = {"mode": "train", "momentum": 0.8}
    norm.batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.2 * x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], 0.2 * x.var(axis=0))
    test = {"mode": "test", "running_mean": np.ones(3), "running_var": 4 * np.ones(3), "eps": 0}
    out, _ = norm.batchnorm_forward(x, np.ones(3), np.zeros(3), test)
    np.testing.assert_allclose(out, (x - 1) / 2)


@pytest.mark.parametrize("name", ["batchnorm_running", "early_stopping", "xavier_uniform",
                                  "he_normal", "lecun_normal"])
def test_oracle_checks_pass(name):
    assert EXERCISES[name].oracle_check() == []


def _judge_all(ex, module, functions=None):
    """Every property's verdict on every hidden scenario, for the reference module (or it
    with ``functions`` replaced): {check: [messages of the failures]}."""
    from dlgrade.courses.registry import reference_module

    base = reference_module(module)
    target = scenarios.with_functions(base, functions) if functions else base
    failures: dict[str, list[str]] = {}
    for scenario in ex.scenarios(True):
        replies = scenarios.run_locally(module, target, scenario.steps)
        student = scenarios.read(scenario, replies, _error_text, ex.returns)
        for prop in scenario.properties:
            message = prop.judge(student, student)
            if message is not None:
                failures.setdefault(prop.check, []).append(message)
    return failures


@pytest.mark.parametrize("name", ["xavier_uniform", "he_uniform", "lecun_normal"])
def test_initialiser_properties_accept_many_seeds(name, monkeypatch):
    """Correct draws pass for other seeds than the graded ones (the bounds are not tuned to
    one stream)."""
    ex = EXERCISES[name]
    for offset in range(3):
        monkeypatch.setattr(exercises, "seed_for",
                            lambda i, n, hidden=False, o=offset:
                            np.random.default_rng([n, 1000 + o]))
        assert _judge_all(ex, "initializers") == {}


def test_dropout_properties_name_each_mistake():
    mutants = bundled.spec("a5.mutants")

    ex = EXERCISES["dropout"]
    assert _judge_all(ex, "regularization") == {}
    for mutant in (m for m in mutants.MUTANTS if m.exercise == "a5.dropout"):
        failures = _judge_all(ex, "regularization", mutant.functions)
        assert set(failures) == set(mutant.fails), mutant.name
        assert any(mutant.mistake in m for ms in failures.values() for m in ms), mutant.name


def test_dropout_rate_bound_is_five_and_a_half_standard_deviations():
    p, n = 0.5, np.prod(exercises.DROPOUT_SHAPE)
    assert exercises.Z == 5.5
    # the bound in the rate property's message for p = 0.5 on 1e5 entries
    assert abs(exercises.Z * np.sqrt(p * (1 - p) / n) - 0.0087) < 1e-4


def test_early_stopping_simulation_matches_the_reference_on_tricky_sequences():
    rng = np.random.default_rng(3)
    for patience, min_delta in ((1, 0.0), (3, 0.125), (2, 0.25)):
        losses = exercises._loss_sequence(rng, 40, patience, min_delta)
        es = reg.EarlyStopping(patience, min_delta)
        assert [es.step(v) for v in losses] == exercises.simulate_early_stopping(
            losses, patience, min_delta)
        # the sequences hold exact ties, so "<" and "<=" decide differently somewhere
        assert exercises.simulate_early_stopping(losses, patience, min_delta, "le") != \
            exercises.simulate_early_stopping(losses, patience, min_delta)


def test_orthogonal_is_orthogonal_for_tall_wide_and_conv_shapes():
    rng = np.random.default_rng(0)
    for shape, gain in (((7, 3), 1.0), ((3, 7), 2.0), ((4, 2, 3, 3), 0.5)):
        a = init.orthogonal(shape, rng, gain).reshape(shape[0], -1)
        gram = a.T @ a if a.shape[0] >= a.shape[1] else a @ a.T
        np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=1e-12)


def test_fans_follow_the_course_layout():
    assert init.fans((300, 700)) == (300, 700)
    assert init.fans([128, 64, 3, 3]) == (64 * 9, 128 * 9)
