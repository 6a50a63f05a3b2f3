"""A6 (conv2d, max pooling, tied maxima, average pooling) content, in-process: the reference
agrees with torch on fresh seeds, the hyper-parameter sets and shapes cover the floored output
sizes, max-pooling cases have no near-ties while the tie scenarios have many, every mutant
differs from the reference on exactly the comparison checks it declares, the loop sample
student runs well inside the time limit, and the sample class and the torch-track fixture
grade as samples/EXPECTED.md says (through real sandboxed children)."""

from __future__ import annotations

import importlib.util
import time
import warnings

import bundled
import numpy as np
import pytest
from dlgrade.core.compare import compare
from dlgrade.courses import registry
from dlgrade.grading.cases import build_cases, fresh, observe_quietly
from dlgrade.grading.grader import grade_submission, program_expectations
from dlgrade.grading.mutants import mutant_functions
from dlgrade.load.submission import Submission

conv = bundled.reference("conv")
ASSIGNMENT = bundled.COURSE.assignment("a6")
exercises = bundled.spec("a6.exercises")

EXERCISES = {e.id: e for e in ASSIGNMENT.exercises}
MUTANTS = {m.id: m for m in ASSIGNMENT.mutants}
LAYERS = [e for e in ASSIGNMENT.exercises if e.kind == "layer"]
POOLS = [EXERCISES["a6.maxpool"], EXERCISES["a6.avgpool"]]


def test_a6_registers_the_curriculum_s_exercises():
    assert list(EXERCISES) == ["a6.conv2d", "a6.maxpool", "a6.maxpool_ties", "a6.avgpool"]
    assert ASSIGNMENT.tracks == ("numpy", "torch")
    for e in ASSIGNMENT.exercises:
        assert e.time_limit == exercises.TIME_LIMIT
    assert "10 seconds" in conv.__doc__  # the limit the template states
    assert EXERCISES["a6.maxpool_ties"].builds_on == ("a6.maxpool",)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("exercise", LAYERS, ids=lambda e: e.id)
def test_layer_reference_matches_torch_on_fresh_seeds(exercise, seed):
    pytest.importorskip("torch")
    rng = np.random.default_rng([6, seed])
    forward, backward = (getattr(conv, n) for n in exercise.functions)
    for shape in (*exercise.public_shapes, *exercise.hidden_shapes):
        for params in exercise.params:
            inputs = exercise.sample(rng, shape, False)
            out, cache = forward(*inputs.values(), **fresh(params))
            dout = rng.standard_normal(out.shape)
            grads = backward(dout, cache)
            grads = grads if len(exercise.wrt) > 1 else (grads,)
            ours = dict(zip(exercise.grad_names, grads, strict=True), out=out)
            theirs = exercise.oracle(inputs, params, dout)
            for name, value in theirs.items():
                assert compare(ours[name], value).ok, (shape, params, name)


def test_tie_reference_agrees_with_torch():
    pytest.importorskip("torch")
    assert EXERCISES["a6.maxpool_ties"].oracle_check() == []


def _out_sizes(exercise, case):
    """(H + 2 pad - HH, W + 2 pad - WW, stride) of a conv or pooling case."""
    x = case.inputs["x"]
    if exercise.id == "a6.conv2d":
        s, p = case.params["conv_param"]["stride"], case.params["conv_param"]["pad"]
        hh, ww = case.inputs["w"].shape[2:]
    else:
        pool = case.params["pool_param"]
        s, p, hh, ww = pool["stride"], 0, pool["pool_height"], pool["pool_width"]
    return x.shape[2] + 2 * p - hh, x.shape[3] + 2 * p - ww, s


@pytest.mark.parametrize("exercise", LAYERS, ids=lambda e: e.id)
def test_public_cases_cover_floored_sizes_strides_and_padding(exercise):
    public = list(build_cases(exercise, False))
    floored_rows = floored_cols = False
    for case in public:
        rows, cols, s = _out_sizes(exercise, case)
        assert rows >= 0 and cols >= 0  # every window fits
        floored_rows |= rows % s != 0
        floored_cols |= cols % s != 0
    assert floored_rows and floored_cols
    if exercise.id == "a6.conv2d":
        seen = {(c.params["conv_param"]["stride"], c.params["conv_param"]["pad"]) for c in public}
        assert seen == {(1, 0), (1, 1), (2, 0), (2, 1)}
        kernels = {c.inputs["w"].shape[2:] for c in build_cases(exercise, True)}
        assert any(hh != ww for hh, ww in kernels)
        assert all(c.inputs["w"].shape[0] != c.inputs["x"].shape[0]
                   for c in build_cases(exercise, True))  # F != N
    else:
        pools = [c.params["pool_param"] for c in public]
        assert any(p["stride"] < p["pool_height"] for p in pools)  # overlapping windows
        assert any(p["pool_height"] != p["pool_width"] for p in pools)


@pytest.mark.parametrize("exercise", POOLS, ids=lambda e: e.id)
def test_pooling_inputs_have_no_near_ties(exercise):
    for case in build_cases(exercise, True):
        values = np.sort(case.inputs["x"].ravel())
        assert np.diff(values).min() >= exercises.MIN_GAP


def test_tie_scenarios_are_full_of_ties():
    for scenario in exercises.tie_scenarios(True):
        x = scenario.inputs["x"]
        pool = tuple(scenario.steps[0].kwargs["pool_param"].values())
        windows = np.prod(exercises._windows(x, *pool).shape[:4])
        assert 3 * exercises.tied_windows(x, pool) >= windows, scenario.describe()
        assert np.array_equal(x, np.round(x))  # exact in every float type


# --- mutants: differ exactly on the observations of their declared comparison checks ------


def _layer_differences(mutant, exercise) -> set[str]:
    functions = {n: getattr(conv, n) for n in exercise.functions}
    theirs_functions = {**functions, **mutant_functions(mutant, exercise.functions)}
    differing = set()
    for case in build_cases(exercise, True):
        ours = observe_quietly(exercise, functions, case)
        theirs = observe_quietly(exercise, theirs_functions, case)
        assert ours is not None
        for name, value in ours.items():
            if theirs is None or not compare(theirs[name], value).ok:
                differing.add("forward" if name == "out" else "backward")
    return differing


def _program_differences(mutant) -> set[str]:
    exercise = EXERCISES[mutant.exercise]
    differing = set()
    for expectation in program_expectations(exercise, True):
        known = dict((m.id, v) for m, v in expectation.known)
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
    exercise = EXERCISES[mutant.exercise]
    layer = exercise.kind == "layer"
    differing = _layer_differences(mutant, exercise) if layer else _program_differences(mutant)
    # gradcheck is a property (finite differences of the mutant's own forward), judged
    # through the sandbox by `dlgrade validate`.
    assert differing == set(mutant.fails) - {"gradcheck"}


@pytest.mark.parametrize("name", ["every-max", "last-max"])
def test_tie_mistakes_are_invisible_without_ties(name):
    """The layer cases avoid ties: the tie mistakes give the reference's dx there (so they
    cost points on a6.maxpool_ties only)."""
    assert _layer_differences(MUTANTS[f"a6.maxpool_ties:{name}"], EXERCISES["a6.maxpool"]) \
        == set()


# --- the sample class, the time limit and the torch track ---------------------------------


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_loop_student_runs_well_inside_the_time_limit():
    """ada's conv.py is plain loops over n, f, i, j: every case of each exercise, with the
    gradient check's forward calls (2 per probed entry), takes a fraction of the limit."""
    ada = _load(bundled.ROOT / "samples" / "class" / "ada" / "conv.py", "ada_conv")
    for exercise in LAYERS:
        forward, backward = (getattr(ada, n) for n in exercise.functions)
        start = time.perf_counter()
        for case in build_cases(exercise, True):
            out, cache = forward(*case.inputs.values(), **fresh(case.params))
            backward(case.dout, cache)
            for indices in case.probes.values():
                for _ in range(2 * len(indices)):
                    forward(*case.inputs.values(), **fresh(case.params))
        elapsed = time.perf_counter() - start
        assert elapsed < exercise.time_limit / 4, (exercise.id, elapsed)


@pytest.fixture(scope="module")
def graded_class():
    folder = bundled.ROOT / "samples" / "class"
    a6 = registry.assignment("a6")
    found = {}
    for student in ("ada", "ben", "cleo", "dev"):
        result = grade_submission(Submission(student, folder / student), [a6], hidden=True)
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
    assert ben["a6.maxpool"].status == ben["a6.avgpool"].status == "passed"
    conv2d = ben["a6.conv2d"]
    assert 0 < conv2d.score < conv2d.max_score
    assert MUTANTS["a6.conv2d:backward-ignores-stride"].mistake in conv2d.message
    assert conv2d.checks[0].score == conv2d.checks[0].max_score  # forward right
    ties = ben["a6.maxpool_ties"]
    assert MUTANTS["a6.maxpool_ties:every-max"].mistake in ties.message
    assert {c.name for c in ties.checks if c.score < c.max_score} == {"backward"}


def test_cleo_crop_missing_functions_and_crash(graded_class):
    cleo = graded_class["cleo"]
    conv2d = cleo["a6.conv2d"]
    assert 0 < conv2d.score < conv2d.max_score
    assert MUTANTS["a6.conv2d:crop-minus-pad"].mistake in conv2d.message
    for exercise_id in ("a6.maxpool", "a6.maxpool_ties"):
        assert cleo[exercise_id].score == 0
        assert "does not define maxpool2d_forward" in cleo[exercise_id].message
    avgpool = cleo["a6.avgpool"]
    assert "AttributeError" in avgpool.message
    assert avgpool.checks[0].score == avgpool.checks[0].max_score  # forward right


def test_torch_track_fixture_scores_full_marks_on_cpu():
    pytest.importorskip("torch")
    folder = bundled.ROOT / "tests" / "fixtures" / "torch_track"
    result = grade_submission(Submission("torchy", folder), [registry.assignment("a6")],
                              hidden=True, track={"name": "torch", "device": "cpu"})
    for e in result.exercises:
        assert e.status == "passed", (e.id, e.message)
