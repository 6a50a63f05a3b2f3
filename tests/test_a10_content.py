"""A10 (numerical_gradient, train_mlp) content: the reference against closed forms and a
torch re-implementation on fresh seeds, cases off the ReLU kinks, the course helper, every
mutant failing exactly the checks it declares (compared values and the ``restored``
property, in-process), the sample class and the torch-track fixture graded end to end
through the sandbox, and a kit grading as the course."""

from __future__ import annotations

import math

import bundled
import numpy as np
import pytest
from click.testing import CliRunner
from dlgrade import api
from dlgrade.cli import main
from dlgrade.core.compare import compare
from dlgrade.grading.grader import grade_submission, program_expectations
from dlgrade.grading.mutants import patched_module
from dlgrade.load.submission import Submission
from dlgrade.spec import scenarios as scenario_runs
from dlgrade.spec.properties import Missing

train = bundled.reference("train")
ASSIGNMENT = bundled.COURSE.assignment("a10")
exercises = bundled.spec("a10.exercises")
oracles = bundled.spec("a10.oracles")
EXERCISES = {e.id: e for e in ASSIGNMENT.exercises}
MUTANTS = {m.id: m for m in ASSIGNMENT.mutants}
ROOT = bundled.ROOT
SAMPLES = ROOT / "samples" / "class"
helpers = train  # the reference imports the course helper's names


def test_a10_registers_the_curriculum_s_exercises():
    assert list(EXERCISES) == ["a10.numerical_gradient", "a10.train_mlp"]
    assert EXERCISES["a10.train_mlp"].builds_on == ("a3.affine", "a3.affine_relu")
    assert ASSIGNMENT.support == ("a10_helpers.py",)
    assert ASSIGNMENT.tracks == ("numpy", "torch")
    assert "a10" in bundled.COURSE.assignments


# --- numerical_gradient ----------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numerical_gradient_matches_closed_forms_and_torch_on_fresh_seeds(seed):
    rng = np.random.default_rng([10, seed])
    for name in oracles.FORMULAS:
        for shape in ((1,), (6,), (3, 4), (2, 1, 3), (2, 2, 2, 2)):
            for h in (1e-5, 1e-4, 1e-3):
                x, a, c = exercises.gradient_inputs(rng, shape)
                before = x.copy()
                _, f = helpers.make_function(name, a, c, x)
                grad = train.numerical_gradient(f, x, h)
                assert np.array_equal(x, before)  # restored exactly
                tol = 10 * h**2 + 1e-8
                want = oracles.analytic_gradient(name, x, a, c)
                assert compare(grad, want, rtol=tol, atol=tol).ok, (name, shape, h)


def test_closed_forms_agree_with_torch_autograd():
    pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    for name in oracles.FORMULAS:
        x, a, c = exercises.gradient_inputs(rng, (3, 2, 2))
        np.testing.assert_allclose(oracles.analytic_gradient(name, x, a, c),
                                   oracles._torch_gradient(name, x, a, c), rtol=1e-12,
                                   atol=1e-12)


def test_numerical_gradient_oracle_agrees_on_every_graded_case():
    assert oracles.gradient_check() == []


def test_helper_documents_the_oracle_s_formulas_and_refuses_other_shapes():
    module = __import__("a10_helpers")  # on the path: the course's support folder
    assert module.FORMULAS == oracles.FORMULAS
    rng = np.random.default_rng(0)
    x, a, c = exercises.gradient_inputs(rng, (2, 3))
    for name in oracles.FORMULAS:
        value, f = module.make_function(name, a, c, x)
        assert type(value) is float and value == f(x)
        assert math.isclose(value, oracles.value(name, x, a, c), rel_tol=1e-12)
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*got ndarray of shape \(6,\)"):
        f(x.reshape(-1))


def test_helper_works_on_tensors():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x, a, c = exercises.gradient_inputs(rng, (4, 2))
    for name in oracles.FORMULAS:
        value, _ = helpers.make_function(name, a, c, x)
        t_value, t_f = helpers.make_function(name, *(torch.from_numpy(v) for v in (a, c, x)))
        assert math.isclose(value, t_value, rel_tol=1e-13)
    params = {k: torch.from_numpy(v) for k, v in
              train.train_mlp(exercises.XOR_X, exercises.XOR_Y, 4, 0.5, 5, 2,
                              np.random.default_rng(0))[1].items()}
    on_tensors = helpers.trained(params, torch.from_numpy(exercises.XOR_X),
                                 torch.from_numpy(exercises.XOR_Y), 1.0, 0.1)
    on_arrays = helpers.trained({k: v.numpy() for k, v in params.items()}, exercises.XOR_X,
                                exercises.XOR_Y, 1.0, 0.1)
    assert on_tensors == on_arrays


def test_gradient_cases_cover_one_to_four_dimensions_and_three_steps():
    plans = exercises.GRADIENT_PLANS
    assert {len(shape) for _, shape, _, hidden in plans if not hidden} == {1, 2, 3}
    assert {len(shape) for _, shape, _, _ in plans} == {1, 2, 3, 4}
    assert {h for _, _, h, _ in plans} == {None, 1e-4, 1e-3}
    assert len(plans[0][1]) == 3  # first: a one-shape loop gives wrong values there, named


# --- train_mlp -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_train_mlp_matches_torch_sgd_on_fresh_seeds(seed):
    pytest.importorskip("torch")
    rng = np.random.default_rng([11, seed])
    for n, d, c, width, lr, epochs, batch_size, _ in exercises.RUN_PLANS:
        X, y = exercises.run_data(rng, n, d, c)
        start = int(rng.integers(2**31))
        losses, params = train.train_mlp(X, y, width, lr, epochs, batch_size,
                                         np.random.default_rng(start))
        assert losses.shape == (epochs * math.ceil(n / batch_size),)
        for who in (oracles.torch_train, oracles.loop_train):
            t_losses, t_params = who(X, y, width, lr, epochs, batch_size, start)
            np.testing.assert_allclose(losses, t_losses, rtol=1e-9, atol=1e-12)
            for key, value in params.items():
                np.testing.assert_allclose(value, t_params[key], rtol=1e-9, atol=1e-12)


def test_train_mlp_leaves_its_inputs_alone_and_uses_rng_as_documented():
    rng = np.random.default_rng(4)
    X, y = exercises.run_data(rng, 10, 3, 3)
    X0, y0 = X.copy(), y.copy()
    gen = np.random.default_rng(9)
    train.train_mlp(X, y, 5, 0.1, 2, 4, gen)
    assert np.array_equal(X, X0) and np.array_equal(y, y0)
    twin = np.random.default_rng(9)  # the documented draws, in order, and nothing else
    twin.standard_normal((3, 5)), twin.standard_normal((5, 3))
    twin.permutation(10), twin.permutation(10)
    assert gen.bit_generator.state == twin.bit_generator.state


def test_run_cases_have_every_class_and_no_row_at_the_origin():
    for scenario in exercises.run_scenarios(True):
        X, y, *_ = scenario.steps[0].args
        assert set(y.tolist()) == set(range(int(y.max()) + 1))
        assert np.linalg.norm(X, axis=1).min() > 0.05
    sizes = [(n, b) for n, _, _, _, _, _, b, _ in exercises.RUN_PLANS]
    assert any(n % b for n, b in sizes[:2])  # a public partial last batch
    assert any(b > n for n, b in sizes) and any(b == 1 for _, b in sizes)


def test_toy_sets_are_fitted_with_room_to_spare_and_do_not_depend_on_the_secret(monkeypatch):
    for check, _, X, y, run, seed in exercises.toy_sets():
        width, lr, epochs, batch_size, accuracy, loss = run
        assert np.linalg.norm(X, axis=1).min() > 0.1  # no ReLU at its kink at the start
        _, params = train.train_mlp(X, y, width, lr, epochs, batch_size,
                                    np.random.default_rng(seed))
        got_accuracy, got_loss = oracles.fit(params, X, y)
        assert got_accuracy >= accuracy and got_loss <= loss / 2, check
    before = [(s.steps[0].args[0], s.steps[0].args[6]) for s in exercises.toy_scenarios()]
    monkeypatch.setattr(bundled.COURSE, "_secret", b"another course's secret, 32+ chars!")
    after = [(s.steps[0].args[0], s.steps[0].args[6]) for s in exercises.toy_scenarios()]
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1]
               for a, b in zip(before, after, strict=True))


# --- mutants: exactly the declared checks ----------------------------------------------------


def _failed_checks(exercise, module) -> set[str]:
    """The checks ``module`` (the reference or a mutant) loses on every case, in-process:
    compared observations against the reference's, and the scenarios' properties."""
    failed = set()
    for expectation in program_expectations(exercise, True):
        scenario = expectation.scenario
        replies = scenario_runs.run_locally(exercise.module, module, scenario.steps)
        values = scenario_runs.read(scenario, replies, lambda r, fn: f"{fn}: {r.message}", {})
        reference = expectation.reference
        for check, names in scenario.compare.items():
            with np.errstate(all="ignore"):
                if any(isinstance(values[n], Missing) or not compare(values[n],
                                                                     reference[n]).ok
                       for n in names):
                    failed.add(check)
        for prop in scenario.properties:
            if prop.judge(values, reference) is not None:
                failed.add(prop.check)
    return failed


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_reference_loses_nothing(exercise_id):
    assert _failed_checks(EXERCISES[exercise_id], train) == set()


@pytest.mark.parametrize("mutant_id", list(MUTANTS))
def test_mutant_fails_exactly_where_declared(mutant_id):
    mutant = MUTANTS[mutant_id]
    assert _failed_checks(EXERCISES[mutant.exercise], patched_module(mutant)) == \
        set(mutant.fails)


# --- through the sandbox -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_class():
    found = {}
    for student in ("ada", "ben", "cleo", "dev"):
        result = grade_submission(Submission(student, SAMPLES / student), [ASSIGNMENT],
                                  hidden=True)
        found[student] = {e.id: e for e in result.exercises}
    return found


def test_ada_scores_full_marks(graded_class):
    assert all(e.status == "passed" for e in graded_class["ada"].values()), \
        [e.message for e in graded_class["ada"].values()]


def test_dev_the_template_scores_zero(graded_class):
    for e in graded_class["dev"].values():
        assert e.score == 0 and e.status == "not_attempted", e.message


def test_ben_s_mistakes_are_named(graded_class):
    ben = graded_class["ben"]
    gradient = ben["a10.numerical_gradient"]
    assert "forward differences" in gradient.message
    assert {c.name: c.score for c in gradient.checks} == {"gradient": 0.0, "restored": 0.5}
    loop = ben["a10.train_mlp"]
    assert "shuffled once, before the first epoch" in loop.message
    assert "first wrong after update 3 of 8" in loop.message  # epoch 2 starts at step 4
    checks = {c.name: c for c in loop.checks}
    # Right only on the two runs of one batch per epoch, where the order does not matter.
    assert (checks["history"].passed, checks["params"].passed) == (2, 2)
    assert all(checks[k].score == checks[k].max_score for k in ("xor", "spirals"))


def test_cleo_does_not_restore_x_and_has_no_train_mlp(graded_class):
    cleo = graded_class["cleo"]
    gradient = cleo["a10.numerical_gradient"]
    assert "x is not restored after each probe" in gradient.message
    assert {c.name for c in gradient.checks if c.score < c.max_score} == {"gradient",
                                                                          "restored"}
    assert gradient.score > 0  # her 1-element case is right
    loop = cleo["a10.train_mlp"]
    assert loop.status == "missing" and "does not define train_mlp()" in loop.message


def test_a_train_py_without_the_helper_import_is_told_so(tmp_path):
    source = (SAMPLES / "ada" / "train.py").read_text()
    (tmp_path / "train.py").write_text(source.replace(
        "from a10_helpers import make_function, trained  # noqa: F401 - the grader calls "
        "them\n", ""))
    for name in ("layers.py", "losses.py"):
        (tmp_path / name).write_text((SAMPLES / "ada" / name).read_text())
    result = grade_submission(Submission("forgetful", tmp_path), [ASSIGNMENT], hidden=False,
                              only={"a10.numerical_gradient"})
    gradient = next(e for e in result.exercises if e.id == "a10.numerical_gradient")
    assert gradient.score == 0 and "does not define make_function()" in gradient.message
    assert "from a10_helpers import make_function, trained" in gradient.hint


def test_the_torch_track_fixture_scores_full_marks():
    pytest.importorskip("torch")
    result = grade_submission(Submission("torchy", ROOT / "tests" / "fixtures" / "torch_track"),
                              [ASSIGNMENT], hidden=True,
                              track={"name": "torch", "device": "cpu"})
    for e in result.exercises:
        assert e.status == "passed", (e.id, e.message)


def test_a_kit_grades_as_the_course(tmp_path):
    out = tmp_path / "kit"
    result = CliRunner().invoke(main, ["kit", "a10", str(out), "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert (out / "a10_helpers.py").is_file() and (out / "train.py").is_file()
    for student in ("ada", "ben", "cleo", "dev"):
        with_course = api.check(SAMPLES / student, ["a10"], course=ROOT)
        in_kit = api.check(SAMPLES / student, ["a10"], course=out)
        assert [(e.id, e.score, e.message) for e in in_kit.exercises] == \
            [(e.id, e.score, e.message) for e in with_course.exercises], student
