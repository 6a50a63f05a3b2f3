"""A4 (optimizers and schedules) content: the reference agrees with torch.optim and
torch.optim.lr_scheduler on every graded case, trajectories are smooth (no chaos), the rules
keep the documented config contract, and every mutant fails exactly its declared checks.

Checks are evaluated in-process here (the scenarios run through the child's own request
handler with :func:`dlgrade.spec.scenarios.run_locally`); the graded path through the sandbox
is tests/test_exercises.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import bundled
import numpy as np
import pytest
from dlgrade.core.compare import compare
from dlgrade.grading.grader import _error_text
from dlgrade.sandbox.programs import trajectory
from dlgrade.spec import scenarios

optim = bundled.reference("optim")
schedules = bundled.reference("schedules")
ASSIGNMENT = bundled.COURSE.assignment("a4")
exercises = bundled.spec("a4.exercises")
oracles = bundled.spec("a4.oracles")

EXERCISES = {e.id: e for e in ASSIGNMENT.exercises}
MUTANTS = {m.id: m for m in ASSIGNMENT.mutants}
ROOT = Path(__file__).resolve().parents[1]


def _call(f, args, kwargs):
    return f(*args, **kwargs)


def _lost_checks(exercise, module) -> set[str]:
    """The checks ``module`` loses on the exercise's public and hidden scenarios, judged the
    way the grader judges them."""
    ref_module = optim if exercise.module == "optim" else schedules
    lost = set()
    for scenario in exercise.scenarios(True):
        ref = scenarios.read(scenario, scenarios.run_locally(exercise.module, ref_module,
                                                             scenario.steps),
                             _error_text, exercise.returns)
        got = scenarios.read(scenario, scenarios.run_locally(exercise.module, module,
                                                             scenario.steps),
                             _error_text, exercise.returns)
        rtol, atol = scenario.tolerance or (None, None)
        for check, names in scenario.compare.items():
            for name in names:
                if isinstance(got[name], scenarios.Missing) or not compare(
                        got[name], ref[name], rtol=rtol, atol=atol).ok:
                    lost.add(check)
        for prop in scenario.properties:
            if prop.judge(got, ref) is not None:
                lost.add(prop.check)
    return lost


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_reference_agrees_with_torch(exercise_id):
    assert EXERCISES[exercise_id].oracle_check() == []


@pytest.mark.parametrize("mutant_id", list(MUTANTS))
def test_mutant_fails_exactly_its_declared_checks(mutant_id):
    mutant = MUTANTS[mutant_id]
    exercise = EXERCISES[mutant.exercise]
    base = optim if exercise.module == "optim" else schedules
    module = scenarios.with_functions(base, mutant.functions)
    assert _lost_checks(exercise, module) == set(mutant.fails)


def test_independent_solution_passes_in_process():
    for name in ("optim", "schedules"):
        path = ROOT / "tests" / "fixtures" / "independent" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(f"independent_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for exercise in ASSIGNMENT.exercises:
            if exercise.module == name:
                assert _lost_checks(exercise, module) == set(), exercise.id


@pytest.mark.parametrize("rule", exercises.RULES)
def test_trajectories_are_smooth(rule):
    """A relative nudge of 1e-10 to w0 moves no iterate by more than 1e4 times as much (no
    chaotic growth, which 80 steps would make exponential: the binding guarantee, that a
    correct float32 rule stays within half the tolerance, is update_rule_cases' own redraw);
    and the trajectory gets closer to a stationary point (it converges rather than wanders).
    A double-well case that starts near its saddle amplifies a nudge: at most 30 times over
    40 fresh secrets, 494 times under one secret a fresh clone drew (the bound was 100 then,
    and failed), which grades correctly: float64 rounding (1e-16) grows to 5e-14 there,
    against a tolerance of 1e-5."""
    for case in exercises.trajectory_cases(rule, True):
        config = case.config
        run = [trajectory(getattr(optim, rule), rule, case.w0 * (1 + eps),
                          None if config is None else dict(config), case.objective, case.steps,
                          _call)
               for eps in (0.0, 1e-10)]
        drift = np.max(np.abs(run[1]["w"] - run[0]["w"])) / (1e-10 * np.max(np.abs(case.w0)))
        assert drift < 1e4, (rule, case.about, drift)
        assert np.all(np.isfinite(run[0]["w"])), (rule, case.about)


@pytest.mark.parametrize("rule", exercises.RULES)
def test_rules_fill_defaults_and_carry_state(rule):
    """config=None fills the documented defaults; 30 + 30 steps through a returned config
    equal 60 steps; w and dw are not modified."""
    rng = np.random.default_rng(5)
    objective, w0 = exercises.quadratic((2, 3)).draw(rng)
    w, dw = w0.copy(), rng.normal(size=w0.shape)
    keep = (w.copy(), dw.copy())
    _, config = getattr(optim, rule)(w, dw, None)
    assert np.array_equal(w, keep[0]) and np.array_equal(dw, keep[1])
    for key, value in oracles.DEFAULTS[rule].items():
        assert config[key] == value, key
    assert set(config) == set(exercises.HYPER[rule]) | set(exercises.STATE[rule])
    whole = trajectory(getattr(optim, rule), rule, w0, None, objective, 60, _call)
    first = trajectory(getattr(optim, rule), rule, w0, None, objective, 30, _call)
    second = trajectory(getattr(optim, rule), rule, first["w"][-1], first["config"],
                        objective, 30, _call)
    np.testing.assert_allclose(np.concatenate([first["w"], second["w"][1:]]), whole["w"],
                               rtol=1e-13, atol=1e-15)
    if rule in ("adam", "adamw"):
        assert whole["config"]["t"] == 60 and type(whole["config"]["t"]) is int


def test_nesterov_is_momentum_plus_look_ahead():
    """The closed form next_w = w + momentum * v_new - lr * dw (what torch computes)."""
    rng = np.random.default_rng(3)
    w, dw, v = rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    config = {"learning_rate": 0.07, "momentum": 0.8, "velocity": v.copy()}
    next_w, config = optim.nesterov(w, dw, config)
    v_new = 0.8 * v - 0.07 * dw
    np.testing.assert_allclose(config["velocity"], v_new, rtol=1e-14)
    np.testing.assert_allclose(next_w, w + 0.8 * v_new - 0.07 * dw, rtol=1e-13, atol=1e-15)


def test_schedules_return_floats_at_the_documented_points():
    assert schedules.step_decay(4, 0.1, 5) == 0.1
    assert schedules.step_decay(5, 0.1, 5) == pytest.approx(0.01)
    assert schedules.exponential_decay(0, 0.3, 0.5) == 0.3
    assert schedules.cosine_annealing(10, 1.0, 0.1, 10) == pytest.approx(0.1)
    assert schedules.warmup_cosine(0, 1.0, 4, 20) == 0.0
    assert schedules.warmup_cosine(4, 1.0, 4, 20) == 1.0
    assert schedules.warmup_cosine(25, 1.0, 4, 20, lr_min=0.2) == 0.2
    assert schedules.one_cycle(0, 1.0, 100) == pytest.approx(1.0 / 25)
    assert schedules.one_cycle(99, 1.0, 100) == pytest.approx(1.0 / 25 / 1e4)
    for name, (public, _) in exercises.SCHEDULE_CASES.items():
        args, kwargs, last = public[0]
        assert type(getattr(schedules, name)(last, *args, **kwargs)) is float


def test_clip_grad_norm_keeps_the_input_and_the_keys():
    rng = np.random.default_rng(0)
    grads = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=5)}
    before = {k: v.copy() for k, v in grads.items()}
    clipped, total = optim.clip_grad_norm(grads, 0.5)
    assert all(np.array_equal(grads[k], before[k]) for k in grads)
    assert list(clipped) == list(grads) and type(total) is float
    norm = np.sqrt(sum(np.sum(v**2) for v in clipped.values()))
    assert norm == pytest.approx(0.5, rel=1e-5)
    small, _ = optim.clip_grad_norm(grads, 100.0)
    assert all(np.array_equal(small[k], grads[k]) and small[k] is not grads[k] for k in grads)


def test_float32_rules_pass():
    """A rule that returns float32 arrays (next_w and state) loses no check: the trajectory
    program casts to float64, so the scenario tolerance must cover float32 rounding."""

    def as_float32(rule):
        def wrapper(w, dw, config=None):
            next_w, config = rule(w, dw, config)
            for key in ("velocity", "cache", "m", "v"):
                if key in config:
                    config[key] = np.asarray(config[key], dtype=np.float32)
            return next_w.astype(np.float32), config
        return wrapper

    module = scenarios.with_functions(
        optim, {r: as_float32(getattr(optim, r)) for r in exercises.RULES})
    for rule in exercises.RULES:
        assert _lost_checks(EXERCISES[f"a4.{rule}"], module) == set(), rule


@pytest.mark.parametrize("secret", [b"0" * 64, b"another course's secret, 32+ chars!"])
def test_trajectories_are_smooth_whatever_the_course_secret(secret, monkeypatch):
    """Hidden cases come from the course secret, so every secret must give well-conditioned
    trajectories (a chaotic start near the double well's saddle is drawn again)."""
    monkeypatch.setattr(bundled.COURSE, "_secret", secret)
    for rule in exercises.RULES:
        test_trajectories_are_smooth(rule)
