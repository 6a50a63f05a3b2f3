"""Per exercise, through real children: the reference passes, the stub scores 0, an
independent correct implementation passes, and every known mistake loses points on exactly
the checks it declares, with feedback that names it."""

from __future__ import annotations

import builtins
import dis
import inspect
from collections import Counter

import pytest
from dlgrade.courses import registry
from dlgrade.grading.grader import grade_submission
from dlgrade.grading.validate import check_mutant
from dlgrade.load.submission import Submission

EXERCISES = list(registry.exercises())
#: The float32 variant wraps every *_forward, *_backward and *_loss of these modules.
FLOAT32_MODULES = ("activations", "losses")
FLOAT32_EXERCISES = [e for e, spec in registry.exercises().items()
                     if spec.module in FLOAT32_MODULES and spec.kind != "program"]
MUTANTS = registry.mutants()


FLOAT32 = """

def _as_float32(function):
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        if isinstance(result, tuple):
            return tuple(np.float32(r) if isinstance(r, float) else
                         r.astype(np.float32) if isinstance(r, np.ndarray) else r
                         for r in result)
        return result.astype(np.float32)
    return wrapper


for _name, _function in list(globals().items()):
    if _name.endswith(("_forward", "_backward", "_loss")):
        globals()[_name] = _as_float32(_function)
"""


@pytest.fixture(scope="module")
def graded(root, tmp_path_factory):
    every = list(registry.assignments().values())
    float32 = tmp_path_factory.mktemp("float32")
    for module in FLOAT32_MODULES:
        source = (root / "tests" / "fixtures" / "independent" / f"{module}.py").read_text()
        (float32 / f"{module}.py").write_text(source + FLOAT32)

    def run(path):
        result = grade_submission(Submission(path.name, path), every, hidden=True)
        return {e.id: e for e in result.exercises}

    return {
        "reference": run(root / "reference"),
        "stub": run(root / "student_templates"),
        "independent": run(root / "tests" / "fixtures" / "independent"),
        "float32": run(float32),
    }


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_scores_full_marks(graded, exercise_id):
    e = graded["reference"][exercise_id]
    assert e.status == "passed" and e.score == e.max_score, e.message


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_stub_scores_zero_as_not_attempted(graded, exercise_id):
    e = graded["stub"][exercise_id]
    assert e.score == 0 and e.status == "not_attempted", e.message
    assert "NotImplementedError" in e.message


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_independent_implementation_scores_full_marks(graded, exercise_id):
    e = graded["independent"][exercise_id]
    assert e.status == "passed", e.message


@pytest.mark.parametrize("exercise_id", FLOAT32_EXERCISES)
def test_correct_float32_answers_score_full_marks(graded, exercise_id):
    """Any real float dtype is accepted, with that dtype's tolerance (CURRICULUM.md)."""
    e = graded["float32"][exercise_id]
    assert e.status == "passed", e.message


def test_every_exercise_has_at_least_two_mutants():
    counts = Counter(m.exercise for m in MUTANTS)
    assert {e: counts[e] for e in EXERCISES if counts[e] < 2} == {}


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_replacements_fit_into_the_reference_module(mutant):
    """A mutant submission is the reference source plus the replacements' source, so they
    may use only np, math and builtins, and must keep the real signatures."""
    reference = registry.reference_module(registry.exercise(mutant.exercise).module)
    for name, replacement in mutant.functions.items():
        bodies = ([f for f in vars(replacement).values() if inspect.isfunction(f)]
                  if inspect.isclass(replacement) else [replacement])
        for body in bodies:
            used = {i.argval for i in dis.get_instructions(body) if i.opname == "LOAD_GLOBAL"}
            assert used <= {"np", "math", name, *dir(builtins)}, body.__qualname__
        assert inspect.signature(replacement) == inspect.signature(getattr(reference, name))


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.id for m in MUTANTS])
def test_mutant_fails_exactly_its_declared_checks_and_is_named(mutant):
    finding = check_mutant(mutant)
    assert finding.ok, finding.detail
